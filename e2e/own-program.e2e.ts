// A user's own program, outside this repository, that installs the packed package and declares two
// services with its own config keys and outputs: every capability of the command works for it, by
// service name, under the real engine and a real cluster.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import type { Environment, Result } from "./support/environment";
import { buildContext, podDigests, settledPodDigests, succeeded } from "./support/project";
import { drillShopApi, installShop, releaseShop, SHOP_STACK, setShopConfig, shopApiDigest, shopPods, shopSelector } from "./support/shop";

const STACK = SHOP_STACK;

interface HistoryRow {
    readonly update: number;
    readonly service: string;
    readonly version: string | null;
    readonly digest: string | null;
}

describe("the command for a user's own program with two services", function () {
    let env: Environment;
    let shop: string;
    const digests: Record<string, string> = {};
    const pulumi = (...args: string[]): Promise<Result> => env.pulumi(args, { cwd: shop });
    const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", STACK, "--cwd", shop]);
    const selector = shopSelector;
    const running = (): Promise<Record<string, string[]>> => shopPods(env);

    before(async function () {
        // Packing, installing and two updates with a build: longer than one scenario's step.
        this.timeout(30 * 60_000);
        env = environment();
        const started = Date.now();
        const step = (what: string): void => {
            process.stderr.write(`e2e: own program: ${what} after ${Math.round((Date.now() - started) / 1000)} s\n`);
        };
        shop = path.join(env.scratch, "shop");
        await installShop(env, shop);
        step("installed");
        Object.assign(digests, await releaseShop(env, pulumi, { repository: "shop", step }));
    });

    it("history lists both services in every update, with the digest each ran", async () => {
        const result = await cli("history", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const rows = JSON.parse(result.stdout) as HistoryRow[];
        assert.deepEqual(
            rows.map((row) => [row.update, row.service, row.version, row.digest]),
            [
                [2, "api", "v2.0.0", digests.v2],
                [2, "worker", "w2.0.0", digests.w2],
                [1, "api", "v1.0.0", digests.v1],
                [1, "worker", "w1.0.0", digests.w1],
            ],
        );
        assert.deepEqual(await running(), { api: [digests.v2, digests.v2], worker: [digests.w2] });
    });

    it("rollback --to 1 --service api brings only the API back; the worker keeps running its own", async () => {
        const result = await cli("rollback", "--to", "1", "--service", "api", "--yes");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
        assert.deepEqual(await podDigests(env, selector("worker")), [digests.w2]);
    });

    it("refuses a roll forward of the held API in preview, naming the hold, while the worker may change", async () => {
        // The pin goes, the hold stays: the program's own args (v2.0.0) would run again.
        succeeded(await pulumi("config", "rm", "--stack", STACK, "released-service:pins"), "pulumi config rm released-service:pins");
        const preview = await pulumi("preview", "--non-interactive", "--stack", STACK);
        assert.notEqual(preview.code, 0, preview.stdout);
        assert.ok(
            (preview.stdout + preview.stderr).includes(`stack ${STACK} holds api on ${digests.v1}`),
            preview.stdout + preview.stderr,
        );
        assert.ok((preview.stdout + preview.stderr).includes("released-service release-hold --stack prod --service api"), preview.stdout);
    });

    it("release-hold --service api lifts the hold and says what the program's args run next", async () => {
        const result = await cli("release-hold", "--service", "api");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /api/);
        assert.match(result.stdout, /v2\.0\.0/);
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "api forward to its args"), "roll forward");
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v2), [digests.v2, digests.v2]);
    });

    it("rollback --to 1 brings the whole release set back: each service to what update 1 ran", async () => {
        const result = await cli("rollback", "--to", "1", "--yes");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
        assert.deepEqual(await settledPodDigests(env, selector("worker"), digests.w1), [digests.w1]);
        const lifted = await cli("release-hold");
        assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "forward again"), "roll forward");
    });

    it("drill --service api rehearses the API's rollback and roll forward on their exact digests", () => drillShopApi(env, cli, digests));

    it("status reports the drift of one service after kubectl rollout undo, and the other as it is", async () => {
        const deployment = (await env.kubectl(["get", "deployments", "-l", selector("api"), "-o", "name"])).trim();
        await env.kubectl(["rollout", "undo", deployment]);
        await env.kubectl(["rollout", "status", deployment, "--timeout=120s"]);
        const undone = await settledPodDigests(env, selector("api"), digests.v1);
        assert.deepEqual(undone, [digests.v1, digests.v1]);
        const result = await cli("status", "--json");
        assert.equal(result.code, 1, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { drift: boolean; services: { service: string; drift: boolean; recordedDigest: string }[] };
        assert.equal(report.drift, true);
        assert.deepEqual(
            report.services.map((service) => [service.service, service.recordedDigest, service.drift]),
            [
                ["api", digests.v2, true],
                ["worker", digests.w2, false],
            ],
        );
    });

    it("a rollback's pin holds against the program's unchanged key with a warning, refuses a moved key in preview, and release-hold lets it ship", async () => {
        // Whatever the steps before left running, the pin puts the API on v1.
        const rollback = await cli("rollback", "--to", "1", "--service", "api", "--yes");
        assert.equal(rollback.code, 0, rollback.stdout + rollback.stderr);
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
        const flat = (result: Result): string => (result.stdout + result.stderr).replace(/\s+/g, " ");
        const pinned = `version v1.0.0 (${digests.v1}) from update #1`;
        const lift = "`released-service release-hold --stack prod --service api`";
        // A re-run with the program's own key unchanged (it still says v2.0.0): the pin holds, and says so.
        const again = succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "a re-run"), "pulumi up with the key unchanged");
        assert.ok(flat(again).includes(`service api is held on its pinned release, ${pinned}, while its args still ask for version v2.0.0; lift the pin with ${lift} to run what they ask.`), flat(again));
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
        // The key moves to ship a fix: the update fails in its preview, naming the pin, and nothing changes.
        await setShopConfig(pulumi, { apiVersion: "v2.0.1", apiContext: buildContext(env, "shop-api-v2.0.1", "v2.0.1", "shop api 2.0.1") });
        const refused = await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "v2.0.1 under the pin");
        assert.notEqual(refused.code, 0, refused.stdout);
        assert.ok(
            flat(refused).includes(
                `service api is pinned to ${pinned}, set when its args asked for version v2.0.0; they now ask for version v2.0.1. ` +
                    `The pin would hide that change, so nothing was changed: lift the pin with ${lift}`,
            ),
            flat(refused),
        );
        assert.deepEqual(await podDigests(env, selector("api")), [digests.v1, digests.v1]);
        assert.deepEqual(await podDigests(env, selector("worker")), [digests.w2]);
        const lifted = await cli("release-hold", "--service", "api");
        assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "v2.0.1"), "pulumi up after release-hold");
        const shipped = await shopApiDigest(pulumi);
        assert.ok(![digests.v1, digests.v2].includes(shipped), `v2.0.1 is a new image (${shipped})`);
        assert.deepEqual(await settledPodDigests(env, selector("api"), shipped), [shipped, shipped]);
    });

    it("library api: a script of the user's own, with released-service/api from the packed tarball, reads history, rolls the API back, and aborts a second rollback while it previews, leaving the config as it was", async () => {
        const script = path.join(shop, "tool.js");
        fs.writeFileSync(
            script,
            `const fs = require("node:fs");
const { history, rollback, ReleasedServiceError } = require("released-service/api");
const [cwd, stack] = process.argv.slice(2);
(async () => {
    const rows = await history({ stack, cwd, service: "api" });
    const done = await rollback({ stack, cwd, to: 1, service: "api", reason: "library api" });
    const before = fs.readFileSync(cwd + "/Pulumi." + stack + ".yaml", "utf8");
    const controller = new AbortController();
    let aborted = null;
    try {
        await rollback({ stack, cwd, to: 2, service: "api", signal: controller.signal, onOutput: (text) => text.includes("Previewing update") && controller.abort() });
    } catch (error) {
        aborted = { error: error instanceof ReleasedServiceError, exitCode: error.exitCode, message: error.message };
    }
    const after = fs.readFileSync(cwd + "/Pulumi." + stack + ".yaml", "utf8");
    console.log(JSON.stringify({ rows: rows.map((row) => [row.update, row.service, row.digest]), done, aborted, unchanged: before === after }));
})().catch((error) => {
    console.error(error);
    process.exit(1);
});
`,
        );
        const ran = await env.run("node", [script, shop, STACK], { cwd: shop });
        assert.equal(ran.code, 0, ran.stdout + ran.stderr);
        const { rows, done, aborted, unchanged } = JSON.parse(ran.stdout) as {
            rows: [number, string, string][];
            done: { result: string; update: number; services: { service: string; digest: string }[]; held: boolean };
            aborted: { error: boolean; exitCode: number; message: string } | null;
            unchanged: boolean;
        };
        assert.deepEqual(rows.slice(-2), [
            [2, "api", digests.v2],
            [1, "api", digests.v1],
        ]);
        assert.deepEqual([done.result, done.update, done.services, done.held], ["rolled back", 1, [{ service: "api", version: "v1.0.0", digest: digests.v1 }], true]);
        assert.deepEqual(aborted, {
            error: true,
            exitCode: 130,
            message: `the rollback of stack ${STACK} stopped before pulumi up; Pulumi.${STACK}.yaml is as it was, and nothing was changed`,
        });
        assert.equal(unchanged, true, "the aborted rollback left the stack config byte for byte as it was");
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
        const lifted = await cli("release-hold", "--service", "api");
        assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
    });

    after(async () => {
        await pulumi("destroy", "--yes", "--non-interactive", "--stack", STACK);
    });
});
