// `released-service` against real updates on the file backend and a real cluster, without a
// terminal: history from the checkpoints, status against the pods, drift after a
// `kubectl rollout undo`, a rollback that previews first, and verify.
import * as assert from "node:assert/strict";

import { environment } from "./support/hooks";
import type { Environment } from "./support/environment";
import { podDigests as pods, settledPodDigests as settled, Stack, succeeded } from "./support/project";

const NAME = "ops-app";

describe("the released-service command on real updates", function () {
    let env: Environment;
    let ops: Stack;
    let image: string;
    const digests: Record<string, string> = {};
    const cli = (...args: string[]) => env.cli([...args, "--stack", "ops", "--cwd", env.project]);
    /** history and status need no secret, so they never need the stack's passphrase. */
    const withoutPassphrase = (...args: string[]) => env.cli([...args, "--stack", "ops", "--cwd", env.project], { without: ["PULUMI_CONFIG_PASSPHRASE"] });

    const selector = `app.kubernetes.io/name=${NAME}`;
    const podDigests = (): Promise<string[]> => pods(env, selector);
    const settledPodDigests = (expected: string): Promise<string[]> => settled(env, selector, expected);

    before(async () => {
        env = environment();
        image = `${env.registry.host}/ops-api`;
        // Releases a pipeline pushed before: this stack only runs them.
        digests.v1 = await env.registry.push("ops-api", "v1.0.0");
        digests.v2 = await env.registry.push("ops-api", "v2.0.0");
        ops = new Stack(env, "ops");
        await ops.init({ image, name: NAME, version: "v1.0.0", build: "false", replicas: "2" });
        succeeded(await ops.up("--message", "first release"), "up v1");
        await ops.set({ version: "v2.0.0" });
        succeeded(await ops.up("--message", "second release"), "up v2");
    });

    it("history lists the real updates, newest first, with the digest each ran", async () => {
        const result = await withoutPassphrase("history", "--json");
        assert.equal(result.code, 0, result.stderr);
        const rows = JSON.parse(result.stdout) as { update: number; kind: string; result: string; version: string; digest: string; message: string }[];
        assert.deepEqual(
            rows.map((row) => [row.update, row.kind, row.result, row.version, row.digest, row.message]),
            [
                [2, "update", "succeeded", "v2.0.0", digests.v2, "second release"],
                [1, "update", "succeeded", "v1.0.0", digests.v1, "first release"],
            ],
        );
    });

    it("never changes the selected stack, and names the stacks there are when --stack names none", async () => {
        succeeded(await env.pulumi(["stack", "init", "ops-selected", "--non-interactive"]), "pulumi stack init ops-selected");
        try {
            for (const command of [["history"], ["status"], ["verify", "--last", "1"]]) {
                const result = await cli(...command);
                assert.equal(result.code, 0, result.stdout + result.stderr);
                const selected = succeeded(await env.pulumi(["stack", "--show-name"]), "pulumi stack --show-name");
                assert.equal(selected.stdout.trim(), "ops-selected", `after released-service ${command.join(" ")} --stack ops`);
            }
            const missing = await env.cli(["history", "--stack", "opps", "--cwd", env.project]);
            assert.equal(missing.code, 2, missing.stdout + missing.stderr);
            assert.match(missing.stderr, /no stack named opps in this project; its stacks are: [a-z-, ]*\bops\b[a-z-, ]*\bops-selected\b/);
        } finally {
            succeeded(await env.pulumi(["stack", "rm", "ops-selected", "--yes", "--non-interactive"]), "pulumi stack rm ops-selected");
        }
    });

    it("status finds every pod on the recorded digest, with no passphrase in the environment", async () => {
        const result = await withoutPassphrase("status", "--json");
        assert.equal(result.code, 0, result.stderr);
        const report = JSON.parse(result.stdout) as {
            drift: boolean;
            services: { service: string; recordedDigest: string; drift: boolean; pods: { state: string; digest: string }[] }[];
        };
        assert.equal(report.drift, false);
        assert.deepEqual(
            report.services.map((service) => [service.service, service.recordedDigest, service.drift]),
            [[NAME, digests.v2, false]],
        );
        assert.deepEqual(report.services[0].pods.map((pod) => [pod.state, pod.digest]), [["ok", digests.v2], ["ok", digests.v2]]);
    });

    it("rollback --to 1 previews, then brings the pods back to update 1's digest", async () => {
        const result = await cli("rollback", "--to", "1", "--yes");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /The rollback of stack ops changes: 1 to update\./);
        assert.ok(result.stdout.indexOf("Previewing") < result.stdout.indexOf("running pulumi up"), result.stdout);
        assert.deepEqual(await podDigests(), [digests.v1, digests.v1]);
        const status = await cli("status", "--json");
        assert.equal(status.code, 0, status.stderr);
    });

    it("status reports drift after kubectl rollout undo, and exits 1", async () => {
        const deployment = (await env.kubectl(["get", "deployments", "-l", `app.kubernetes.io/name=${NAME}`, "-o", "name"])).trim();
        const history = await env.kubectl(["rollout", "history", deployment]);
        await env.kubectl(["rollout", "undo", deployment]);
        await env.kubectl(["rollout", "status", deployment, "--timeout=120s"]);
        const image = (await env.kubectl(["get", deployment, "-o", "jsonpath={.spec.template.spec.containers[0].image}"])).trim();
        assert.equal(image, `${env.registry.host}/ops-api@${digests.v2}`, `after undo; history before:\n${history}`);
        const settled = await settledPodDigests(digests.v2);
        const listing = await env.kubectl(["get", "replicasets,pods", "-l", `app.kubernetes.io/name=${NAME}`, "-o", "wide"]);
        const described = await env.kubectl(["get", deployment, "-o", "yaml"]);
        assert.deepEqual(settled, [digests.v2, digests.v2], `v1 ${digests.v1}\n${listing}\n${described}`);
        const result = await cli("status");
        assert.equal(result.code, 1, result.stdout + result.stderr);
        assert.match(result.stdout, new RegExp(`DRIFT: 2 of 2 pods run ${digests.v2} \\(version label v2\\.0\\.0\\), not the recorded ${digests.v1}\\.`));
        succeeded(await ops.up("--refresh"), "pulumi up --refresh restores the recorded digest");
        assert.deepEqual(await settledPodDigests(digests.v1), [digests.v1, digests.v1]);
    });

    it("verify checks the digests of the last updates in their registry", async () => {
        const result = await cli("verify", "--last", "3", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { checked: number; missing: number; errors: number; references: { digest: string; state: string }[] };
        assert.deepEqual([report.checked, report.missing, report.errors], [2, 0, 0]);
        assert.deepEqual(report.references.map((r) => r.state), ["present", "present"]);
    });

    after(async () => {
        await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "ops"]);
    });
});
