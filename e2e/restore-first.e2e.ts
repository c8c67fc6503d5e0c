// Restore first, record right after, under the real engine, Kubernetes provider, cluster and Swarm:
// `released-service rollback --restore-first` writes every workload of the service to its target,
// which the update that records it then finds as desired (no second rollout, no new task); a
// registry outage after the write leaves the workload on the target and the record pending, which
// status names and the next pulumi up completes.
import * as assert from "node:assert/strict";

import { environment } from "./support/hooks";
import type { PushedImage } from "./support/docker";
import type { Environment, Result } from "./support/environment";
import { settledPodDigests, Stack, succeeded } from "./support/project";

interface RestoreJson {
    readonly result: string;
    readonly services: { service: string; version: string; digest: string }[];
    readonly restoreFirst: { restoredSeconds: number | null; recordedSeconds: number; workloads: string[] };
}

interface Row {
    readonly update: number;
    readonly kind: string;
    readonly result: string;
    readonly version: string | null;
}

/** The newest successful update that ran `version`, from `history --json`. */
async function updateOf(cli: (...args: string[]) => Promise<Result>, version: string): Promise<number> {
    const history = await cli("history", "--json");
    assert.equal(history.code, 0, history.stderr);
    const row = (JSON.parse(history.stdout) as Row[]).find((one) => one.kind === "update" && one.result === "succeeded" && one.version === version);
    assert.ok(row, `an update ran ${version}`);
    return row.update;
}

/** Lifts the rollback's pin and hold, and runs `version` by its tag again. */
async function deploy(stack: Stack, env: Environment, version: string): Promise<void> {
    const config = JSON.parse(succeeded(await env.pulumi(["config", "--json", "--stack", stack.name]), "pulumi config").stdout) as Record<string, unknown>;
    for (const key of ["pins", "holds"]) {
        if (config[`released-service:${key}`] !== undefined) {
            await stack.remove(key);
        }
    }
    await stack.set({ version });
    succeeded(await stack.up("--message", version), `up ${version}`);
}

describe("restore first: rollback --restore-first writes every workload, then records it, on Kubernetes and Swarm", function () {
    describe("on Kubernetes", function () {
        const NAME = "restore-app";
        const REPOSITORY = "restore-api";
        const selector = `app.kubernetes.io/name=${NAME}`;
        let env: Environment;
        let stack: Stack;
        const digests: Record<string, string> = {};
        const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", "restore", "--cwd", env.project]);

        /** The Deployment's generation and the revision its newest ReplicaSet carries: a rollout moves both by one. */
        async function rollouts(): Promise<{ name: string; namespace: string; generation: number; revision: number }> {
            const found = JSON.parse(await env.kubectl(["get", "deployments", "--all-namespaces", "-l", selector, "-o", "json"])) as {
                items: { metadata: { name: string; namespace: string; generation: number; annotations: Record<string, string> } }[];
            };
            assert.equal(found.items.length, 1, "exactly one Deployment, in any namespace");
            const [{ metadata }] = found.items;
            return { name: metadata.name, namespace: metadata.namespace, generation: metadata.generation, revision: Number(metadata.annotations["deployment.kubernetes.io/revision"]) };
        }

        before(async () => {
            env = environment();
            for (const version of ["v1.0.0", "v2.0.0"]) {
                digests[version] = await env.registry.push(REPOSITORY, version);
            }
            stack = new Stack(env, "restore");
            await stack.init({ image: `${env.registry.host}/${REPOSITORY}`, name: NAME, version: "v1.0.0", build: "false", replicas: "2" });
            succeeded(await stack.up("--message", "v1.0.0"), "up v1.0.0");
            await deploy(stack, env, "v2.0.0");
        });

        it("brings every pod to the target with one rollout: the update that records it changes nothing in the cluster, and a preview after it expects no changes", async () => {
            const before = await rollouts();
            const target = await updateOf(cli, "v1.0.0");
            const result = await cli("rollback", "--to", String(target), "--restore-first", "--yes", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as RestoreJson;
            assert.equal(report.result, "rolled back");
            assert.deepEqual(report.services, [{ service: NAME, version: "v1.0.0", digest: digests["v1.0.0"] }]);
            assert.deepEqual(report.restoreFirst.workloads, [`Deployment ${before.namespace}/${before.name}`]);
            const { restoredSeconds, recordedSeconds } = report.restoreFirst;
            assert.ok(restoredSeconds !== null && restoredSeconds <= recordedSeconds, result.stderr);
            assert.deepEqual(await settledPodDigests(env, selector, digests["v1.0.0"]), [digests["v1.0.0"], digests["v1.0.0"]]);
            // One write, one rollout: the update that recorded it applied the object the cluster already held.
            const after = await rollouts();
            assert.deepEqual([after.generation, after.revision], [before.generation + 1, before.revision + 1]);
            succeeded(await stack.preview("--expect-no-changes"), "pulumi preview --expect-no-changes after the restore");
            const status = await cli("status", "--json");
            assert.equal(status.code, 0, status.stdout + status.stderr);
            process.stdout.write(`      restore first (Kubernetes, 2 pods): restored ${restoredSeconds} s, recorded ${recordedSeconds} s after the command started\n`);
        });

        it("with the registry out after the write, the pods stay on the target, the config pinned, status says record pending, and the next pulumi up records it", async () => {
            await deploy(stack, env, "v2.0.0");
            const before = await rollouts();
            const target = await updateOf(cli, "v1.0.0");
            const running = cli("rollback", "--to", String(target), "--restore-first", "--yes");
            // The outage begins once the Deployment is written: the preview that reads the pin meets it.
            const deadline = Date.now() + 60_000;
            while ((await rollouts()).generation === before.generation && Date.now() < deadline) {
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
            env.faultRegistry((line) => (line.includes(`/${REPOSITORY}/`) ? { status: 503 } : undefined));
            let result: Result;
            try {
                result = await running;
            } finally {
                env.faultRegistry(undefined);
            }
            assert.equal(result.code, 3, result.stdout + result.stderr);
            assert.match(result.stderr, /^error: recording the rollback of stack restore failed: /);
            assert.ok(
                result.stderr.includes(
                    `the record is pending: the workloads were restored to #${target} (${NAME} v1.0.0 ${digests["v1.0.0"]}) ahead of the update, and stacks/Pulumi.restore.yaml pins and holds it; ` +
                        'pulumi up --stack restore records it (released-service status --stack restore shows "restored, record pending" until then)',
                ),
                result.stderr,
            );
            assert.deepEqual(await settledPodDigests(env, selector, digests["v1.0.0"]), [digests["v1.0.0"], digests["v1.0.0"]]);
            const config = JSON.parse(succeeded(await env.pulumi(["config", "--json", "--stack", "restore"]), "pulumi config").stdout) as Record<string, { objectValue?: Record<string, { digest: string }> }>;
            assert.equal(config["released-service:pins"].objectValue?.[NAME].digest, digests["v1.0.0"]);
            assert.equal(config["released-service:holds"].objectValue?.[NAME].digest, digests["v1.0.0"]);
            const status = await cli("status", "--json");
            assert.equal(status.code, 1, status.stdout + status.stderr);
            const pending = JSON.parse(status.stdout) as { drift: boolean; services: { recordPending?: boolean; pods: { state: string }[] }[] };
            assert.deepEqual([pending.drift, pending.services[0].recordPending, pending.services[0].pods.map((pod) => pod.state)], [false, true, ["restored", "restored"]]);
            succeeded(await stack.up("--message", "record the restore"), "pulumi up completes the record");
            assert.equal((await rollouts()).revision, before.revision + 1, "the update that completed the record started no rollout");
            const recorded = await cli("status", "--json");
            assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
            succeeded(await stack.preview("--expect-no-changes"), "pulumi preview --expect-no-changes once recorded");
        });
    });

    describe("on Swarm", function () {
        const SERVICE = "restore-web";
        let env: Environment;
        let stack: Stack;
        const images: Record<string, PushedImage> = {};
        const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", "restoreswarm", "--cwd", env.project]);
        /** Every task Swarm ever started for the service that it still lists: a rollout adds one per replica. */
        const tasksEver = async (): Promise<number> => (await env.docker.docker(["service", "ps", "--quiet", SERVICE])).trim().split("\n").filter(Boolean).length;
        const settled = async (digest: string): Promise<string[]> => {
            const deadline = Date.now() + 60_000;
            let found = await env.docker.serviceTaskDigests(SERVICE);
            while ((found.length !== 2 || found.some((one) => one !== digest)) && Date.now() < deadline) {
                await new Promise((resolve) => setTimeout(resolve, 500));
                found = await env.docker.serviceTaskDigests(SERVICE);
            }
            return found;
        };

        before(async function () {
            this.timeout(600_000);
            env = environment();
            await env.docker.swarm();
            for (const version of ["v1.0.0", "v2.0.0"]) {
                images[version] = await env.docker.pushImage("restore-web", version, { content: `restore-web ${version}\n` });
            }
            stack = new Stack(env, "restoreswarm");
            await stack.init({ workload: "swarm", image: images["v1.0.0"].repository, name: SERVICE, build: "false", version: "v1.0.0", replicas: "2", monitorSeconds: "1" });
            succeeded(await stack.up("--message", "v1.0.0"), "up v1.0.0");
            await deploy(stack, env, "v2.0.0");
            assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest]);
        });

        it("brings every task to the target with one rollout: the update that records it starts no task, and a preview after it expects no changes", async () => {
            const before = await tasksEver();
            const target = await updateOf(cli, "v1.0.0");
            const result = await cli("rollback", "--to", String(target), "--restore-first", "--yes", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as RestoreJson;
            assert.deepEqual(report.restoreFirst.workloads, [`Swarm service ${SERVICE}`]);
            assert.ok(report.restoreFirst.restoredSeconds !== null && report.restoreFirst.restoredSeconds <= report.restoreFirst.recordedSeconds, result.stderr);
            assert.deepEqual(await settled(images["v1.0.0"].digest), [images["v1.0.0"].digest, images["v1.0.0"].digest]);
            assert.equal(await tasksEver(), before + 2, "one new task per replica: the restore's, none of the update's");
            succeeded(await stack.preview("--expect-no-changes"), "pulumi preview --expect-no-changes after the restore");
            process.stdout.write(
                `      restore first (Swarm, 2 tasks): restored ${report.restoreFirst.restoredSeconds} s, recorded ${report.restoreFirst.recordedSeconds} s after the command started\n`,
            );
        });

        it("refuses a Docker host container before writing anything, saying why pulumi up is the fast path there", async () => {
            const docker = new Stack(env, "restoredocker");
            await docker.init({ workload: "docker", image: images["v1.0.0"].repository, name: "restore-box", build: "false", version: "v1.0.0" });
            succeeded(await docker.up("--message", "v1.0.0"), "up v1.0.0");
            await deploy(docker, env, "v2.0.0");
            const run = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", "restoredocker", "--cwd", env.project]);
            const target = await updateOf(run, "v1.0.0");
            const config = succeeded(await env.pulumi(["config", "--json", "--stack", "restoredocker"]), "pulumi config").stdout;
            const result = await run("rollback", "--to", String(target), "--restore-first", "--yes");
            assert.equal(result.code, 3, result.stdout + result.stderr);
            assert.ok(
                result.stderr.includes(
                    "refused before changing anything, since it writes every workload of a service or none:\n  service restore-box, its docker workload: a Docker host container runs one image for its life",
                ),
                result.stderr,
            );
            assert.equal(succeeded(await env.pulumi(["config", "--json", "--stack", "restoredocker"]), "pulumi config").stdout, config, "the config is as it was");
            assert.equal(await env.docker.containerDigest("restore-box"), images["v2.0.0"].digest);
            succeeded(await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "restoredocker"]), "pulumi destroy");
        });
    });
});
