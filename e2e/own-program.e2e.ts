// A user's own program, outside this repository, that installs the packed package and declares two
// services with its own config keys and outputs: every capability of the command works for it, by
// service name, under the real engine and a real cluster.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { BUILDER, REPO_ROOT, type Environment, type Result } from "./support/environment";
import { buildContext, podDigests, settledPodDigests, succeeded } from "./support/project";

const STACK = "prod";
const PROGRAM = `// A shop: an API this stack builds, and a worker its own pipeline pushes.
const pulumi = require("@pulumi/pulumi");
const { ReleasedService } = require("released-service");

const config = new pulumi.Config("shop");
const api = new ReleasedService("api", {
    image: config.require("apiImage"),
    version: config.require("apiVersion"),
    context: config.require("apiContext"),
    builder: config.require("builder"),
    replicas: 2,
});
const worker = new ReleasedService("worker", {
    image: config.require("workerImage"),
    version: config.require("workerVersion"),
    build: false,
});

exports.apiImage = api.imageRef;
exports.workerImage = worker.imageRef;
`;

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
    const config = (values: Record<string, string>): Promise<void> =>
        Object.entries(values).reduce(async (done, [key, value]) => {
            await done;
            succeeded(await pulumi("config", "set", "--stack", STACK, `shop:${key}`, "--", value), `pulumi config set shop:${key}`);
        }, Promise.resolve());
    const selector = (service: string): string => `app.kubernetes.io/name=${service}`;
    /** The digest the program's own output says the API runs. */
    const apiDigest = async (): Promise<string> => {
        const outputs = JSON.parse(succeeded(await pulumi("stack", "output", "--json", "--stack", STACK), "pulumi stack output").stdout) as Record<string, string>;
        return outputs.apiImage.slice(outputs.apiImage.indexOf("@") + 1);
    };
    const running = async (): Promise<Record<string, string[]>> => ({ api: await podDigests(env, selector("api")), worker: await podDigests(env, selector("worker")) });

    before(async function () {
        // Packing, installing and two updates with a build: longer than one scenario's step.
        this.timeout(30 * 60_000);
        env = environment();
        const started = Date.now();
        const step = (what: string): void => {
            process.stderr.write(`e2e: own program: ${what} after ${Math.round((Date.now() - started) / 1000)} s\n`);
        };
        // The package as a user gets it: packed, then installed into a project of their own.
        const packed = succeeded(await env.run("npm", ["pack", "--silent", "--pack-destination", env.scratch], { cwd: REPO_ROOT }), "npm pack");
        const tarball = path.join(env.scratch, packed.stdout.trim().split("\n").pop()!);
        shop = path.join(env.scratch, "shop");
        fs.mkdirSync(shop);
        // The SDK is the package's peer dependency: the program installs the one this package develops against.
        const sdk = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies["@pulumi/pulumi"];
        fs.writeFileSync(
            path.join(shop, "package.json"),
            JSON.stringify({ name: "shop", private: true, dependencies: { "@pulumi/pulumi": sdk, "released-service": `file:${tarball}` } }, null, 2),
        );
        fs.writeFileSync(path.join(shop, "Pulumi.yaml"), "name: shop\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n");
        fs.writeFileSync(path.join(shop, "index.js"), PROGRAM);
        step("packed");
        succeeded(await env.run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: shop }), "npm install of the packed package");
        step("installed");

        const apiImage = `${env.registry.host}/shop-api`;
        const workerImage = `${env.registry.host}/shop-worker`;
        digests.w1 = await env.registry.push("shop-worker", "w1.0.0");
        digests.w2 = await env.registry.push("shop-worker", "w2.0.0");
        succeeded(await pulumi("stack", "init", STACK, "--non-interactive"), "pulumi stack init");
        await config({
            apiImage,
            workerImage,
            builder: BUILDER,
            apiVersion: "v1.0.0",
            apiContext: buildContext(env, "shop-api-v1", "v1.0.0", "shop api 1.0.0"),
            workerVersion: "w1.0.0",
        });
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "api v1, worker w1"), "update 1");
        digests.v1 = await apiDigest();
        step("update 1 done");
        await config({ apiVersion: "v2.0.0", apiContext: buildContext(env, "shop-api-v2", "v2.0.0", "shop api 2.0.0"), workerVersion: "w2.0.0" });
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "api v2, worker w2"), "update 2");
        digests.v2 = await apiDigest();
        step("update 2 done");
        assert.notEqual(digests.v1, digests.v2);
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

    it("drill --service api rehearses the API's rollback and roll forward on their exact digests", async () => {
        const result = await cli("drill", "--service", "api", "--yes", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { passed: boolean; phases: { phase: string; digest: string; result: string }[] };
        assert.equal(report.passed, true);
        assert.deepEqual(
            report.phases.map((phase) => [phase.result, phase.digest]),
            [
                ["passed", digests.v1],
                ["passed", digests.v2],
            ],
        );
        assert.deepEqual(await podDigests(env, selector("worker")), [digests.w2]);
    });

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
        assert.ok(flat(again).includes(`service api runs its pin, ${pinned}, not what its args ask (version v2.0.0, as when the pin was set); lift it with ${lift}`), flat(again));
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
        // The key moves to ship a fix: the update fails in its preview, naming the pin, and nothing changes.
        await config({ apiVersion: "v2.0.1", apiContext: buildContext(env, "shop-api-v2.0.1", "v2.0.1", "shop api 2.0.1") });
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
        const shipped = await apiDigest();
        assert.ok(![digests.v1, digests.v2].includes(shipped), `v2.0.1 is a new image (${shipped})`);
        assert.deepEqual(await settledPodDigests(env, selector("api"), shipped), [shipped, shipped]);
    });

    after(async () => {
        await pulumi("destroy", "--yes", "--non-interactive", "--stack", STACK);
    });
});
