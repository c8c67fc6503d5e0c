// The state backends teams share, for real: a user's own program with two services keeps its
// stack in PostgreSQL, then in an S3-compatible bucket (SeaweedFS), each started on loopback for
// these scenarios. Every command reads each update's recorded state from there: history, a
// rollback of one service, status, verify, drill, release-hold and up --atomic, with the
// assertions the file-backend scenarios make (own-program.e2e.ts, command.e2e.ts, rollback.e2e.ts),
// and two operators rolling back the shared stack at once.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import type { Environment, Result } from "./support/environment";
import { settledPodDigests, succeeded } from "./support/project";
import { installShop, releaseShop, setShopConfig, SHOP_STACK, shopPods, shopSelector } from "./support/shop";
import { startPostgres, startSeaweedfs, type StateServer } from "./support/stateServers";

/** The worker's rollout deadline: a release whose pods never become ready fails its update after this. */
const DEADLINE_SECONDS = 20;

interface Row {
    readonly update: number;
    readonly service: string | null;
    readonly kind: string;
    readonly result: string;
    readonly version: string | null;
    readonly digest: string | null;
    readonly message: string;
}

const log = (line: string): void => {
    process.stderr.write(`e2e: ${line}\n`);
};

const BACKENDS: { name: string; key: string; start(env: Environment): Promise<StateServer> }[] = [
    { name: "PostgreSQL", key: "pg", start: () => startPostgres(log) },
    { name: "S3-compatible storage", key: "s3", start: (env) => startSeaweedfs(path.join(env.toolchain, "seaweedfs", "bin", "weed"), "team-state", log) },
];

for (const backend of BACKENDS) {
    describe(`team state on ${backend.name}: every command for a user's own program with two services`, function () {
        let env: Environment;
        let server: StateServer;
        let shop: string;
        let teamEnv: NodeJS.ProcessEnv;
        const digests: Record<string, string> = {};
        const pulumi = (...args: string[]): Promise<Result> => env.run(path.join(env.pulumiBin, "pulumi"), args, { cwd: shop, replaceEnv: teamEnv });
        const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", SHOP_STACK, "--cwd", shop], { replaceEnv: teamEnv });
        const rows = async (): Promise<Row[]> => {
            const result = await cli("history", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            return JSON.parse(result.stdout) as Row[];
        };
        const config = async (): Promise<Record<string, { value?: string; objectValue?: unknown }>> =>
            JSON.parse(succeeded(await pulumi("config", "--json", "--stack", SHOP_STACK), "pulumi config --json").stdout) as Record<string, { value?: string; objectValue?: unknown }>;

        before(async function () {
            // A server, packing, installing and two updates with a build: longer than one scenario's step.
            this.timeout(30 * 60_000);
            env = environment();
            const started = Date.now();
            const step = (what: string): void => log(`team state on ${backend.name}: ${what} after ${Math.round((Date.now() - started) / 1000)} s`);
            server = await backend.start(env);
            step(`${server.name} started`);
            teamEnv = { ...env.env, ...server.env, PULUMI_BACKEND_URL: server.backendUrl };
            shop = path.join(env.scratch, `team-${backend.key}`);
            await installShop(env, shop);
            step("installed");
            digests.w3 = await env.registry.push(`team-${backend.key}-worker`, "w3.0.0-unready");
            Object.assign(digests, await releaseShop(env, pulumi, { repository: `team-${backend.key}`, config: { workerDeadline: String(DEADLINE_SECONDS) }, step }));
            const whoami = succeeded(await pulumi("whoami", "--json"), "pulumi whoami");
            assert.equal((JSON.parse(whoami.stdout) as { url: string }).url, server.backendUrl, "the stack is kept on the shared backend");
        });

        it("history lists both services in every update, with the digest each ran, read from the backend", async () => {
            assert.deepEqual(
                (await rows()).map((row) => [row.update, row.service, row.version, row.digest]),
                [
                    [2, "api", "v2.0.0", digests.v2],
                    [2, "worker", "w2.0.0", digests.w2],
                    [1, "api", "v1.0.0", digests.v1],
                    [1, "worker", "w1.0.0", digests.w1],
                ],
            );
            assert.deepEqual(await shopPods(env), { api: [digests.v2, digests.v2], worker: [digests.w2] });
        });

        it("rollback --to 1 --service api brings the API's pods back to update 1's digest, pushing nothing", async () => {
            const writes = env.manifestWrites().length;
            const result = await cli("rollback", "--to", "1", "--service", "api", "--yes");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v1), [digests.v1, digests.v1]);
            assert.deepEqual((await shopPods(env)).worker, [digests.w2]);
            assert.equal(env.manifestWrites().length, writes, "nothing pushed");
        });

        it("status finds every pod of both services on its recorded digest", async () => {
            const result = await cli("status", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as { drift: boolean; services: { service: string; recordedDigest: string; drift: boolean; pods: { state: string; digest: string }[] }[] };
            assert.equal(report.drift, false);
            assert.deepEqual(
                report.services.map((service) => [service.service, service.recordedDigest, service.drift, service.pods.map((pod) => [pod.state, pod.digest])]),
                [
                    ["api", digests.v1, false, [["ok", digests.v1], ["ok", digests.v1]]],
                    ["worker", digests.w2, false, [["ok", digests.w2]]],
                ],
            );
        });

        it("verify checks every digest the updates ran in its registry", async () => {
            const result = await cli("verify", "--last", "3", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as { checked: number; missing: number; errors: number; references: { reference: string; state: string }[] };
            assert.deepEqual([report.checked, report.missing, report.errors], [4, 0, 0]);
            assert.deepEqual(
                report.references.map((reference) => [reference.reference.slice(reference.reference.indexOf("@") + 1), reference.state]).sort(),
                [digests.v1, digests.v2, digests.w1, digests.w2].map((digest) => [digest, "present"]).sort(),
            );
        });

        it("release-hold --service api lifts the rollback's hold, and the program's args run v2 again", async () => {
            succeeded(await pulumi("config", "rm", "--stack", SHOP_STACK, "released-service:pins"), "pulumi config rm released-service:pins");
            const result = await cli("release-hold", "--service", "api");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.match(result.stdout, /api/);
            assert.match(result.stdout, /v2\.0\.0/);
            assert.equal((await config())["released-service:holds"], undefined);
            succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK, "--message", "api forward to its args"), "roll forward");
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v2), [digests.v2, digests.v2]);
        });

        it("drill --service api rehearses the API's rollback and roll forward on their exact digests", async () => {
            const result = await cli("drill", "--service", "api", "--yes", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as { passed: boolean; phases: { phase: string; digest: string; result: string }[] };
            assert.equal(report.passed, true);
            assert.deepEqual(
                report.phases.map((phase) => [phase.phase, phase.result, phase.digest]),
                [
                    ["rollback", "passed", digests.v1],
                    ["roll forward", "passed", digests.v2],
                ],
            );
            assert.deepEqual(await shopPods(env), { api: [digests.v2, digests.v2], worker: [digests.w2] });
        });

        it("two operators roll back at the same moment from two checkouts: one wins, the other changes nothing and says the stack is held", async () => {
            // A second checkout of the same program and stack config, as a teammate's clone would be.
            const other = path.join(env.scratch, `team-${backend.key}-other`);
            fs.mkdirSync(other);
            for (const file of ["Pulumi.yaml", "index.js", "package.json", `Pulumi.${SHOP_STACK}.yaml`]) {
                fs.copyFileSync(path.join(shop, file), path.join(other, file));
            }
            fs.symlinkSync(path.join(shop, "node_modules"), path.join(other, "node_modules"));
            const checkouts = [shop, other];
            const configFile = (dir: string): string => path.join(dir, `Pulumi.${SHOP_STACK}.yaml`);
            const before = checkouts.map((dir) => fs.readFileSync(configFile(dir)));
            const results = await Promise.all(
                checkouts.map((dir) => env.cli(["rollback", "--to", "1", "--service", "api", "--yes", "--stack", SHOP_STACK, "--cwd", dir], { replaceEnv: teamEnv })),
            );
            const winners = results.flatMap((result, index) => (result.code === 0 ? [index] : []));
            assert.equal(winners.length, 1, results.map((result) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`).join("\n---\n"));
            const [winner] = winners;
            const loser = 1 - winner;
            assert.equal(results[loser].code, 3, results[loser].stdout + results[loser].stderr);
            assert.match(results[loser].stderr, new RegExp(`^error: another update holds stack ${SHOP_STACK}: the stack is currently locked by 1 lock\\(s\\)`));
            assert.match(results[loser].stderr, /\nnothing was changed\n$/);
            assert.ok(fs.readFileSync(configFile(checkouts[loser])).equals(before[loser]), "the loser's stack config is byte for byte as it was");
            const preview = await env.run(path.join(env.pulumiBin, "pulumi"), ["preview", "--expect-no-changes", "--non-interactive", "--stack", SHOP_STACK], { cwd: checkouts[winner], replaceEnv: teamEnv });
            assert.equal(preview.code, 0, preview.stdout + preview.stderr);
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v1), [digests.v1, digests.v1]);
            // The team pulls the winner's config, lifts the hold and runs v2 again.
            if (checkouts[winner] !== shop) {
                fs.copyFileSync(configFile(checkouts[winner]), configFile(shop));
            }
            const lifted = await cli("release-hold", "--service", "api");
            assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
            succeeded(await pulumi("config", "rm", "--stack", SHOP_STACK, "released-service:pins"), "pulumi config rm released-service:pins");
            succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK, "--message", "api v2 again"), "roll forward");
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v2), [digests.v2, digests.v2]);
        });

        it("up --atomic: a worker release that never becomes ready fails at its deadline and is undone to its last good digest", async () => {
            await setShopConfig(pulumi, { workerVersion: "w3.0.0-unready" });
            const result = await cli("up", "--atomic", "--yes");
            assert.equal(result.code, 1, result.stdout + result.stderr);
            assert.ok(result.stdout.includes(`failed after the workload changed to ${env.registry.host}/team-${backend.key}-worker@${digests.w3}:\n`), result.stdout + result.stderr);
            assert.ok(result.stdout.includes(`, and every instance runs its digest.\n`), result.stdout);
            // The program's own config keys name each release, so the failed update's row has the
            // version its recorded state holds; the update that undid it runs the pinned worker w2.
            const [undone, failed] = (await rows()).filter((row) => row.service === "worker").slice(0, 2);
            assert.deepEqual([failed.result, failed.message], ["failed", "released-service up --atomic"]);
            assert.deepEqual([undone.result, undone.version, undone.digest], ["succeeded", "w2.0.0", digests.w2]);
            assert.deepEqual(await settledPodDigests(env, shopSelector("worker"), digests.w2), [digests.w2]);
            assert.deepEqual((await shopPods(env)).api, [digests.v2, digests.v2]);
        });

        after(async function () {
            this.timeout(10 * 60_000);
            if (shop !== undefined && teamEnv !== undefined) {
                await pulumi("destroy", "--yes", "--non-interactive", "--stack", SHOP_STACK);
            }
            await server?.stop();
        });
    });
}
