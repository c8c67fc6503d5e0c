// The Pulumi YAML example (examples/yaml) in a checkout of this repository outside it: ReleasedService
// and ReleasedImage (run by a kubernetes:apps/v1:Deployment the YAML declares) used the way every
// language but TypeScript uses them, its schema inferred from the TypeScript
// source and the component served by the package's own plugin directory, under the real engine,
// registry and cluster.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { BUILDER, REPO_ROOT, type Environment, type Result } from "./support/environment";
import { buildContext, checkout, pluginCommand, podDigests, settledPodDigests, succeeded } from "./support/project";

// dev, as the docs say: the project is shop-yaml, so the README's program (shop) keeps its own dev.
const STACK = "dev";
interface HistoryRow {
    readonly update: number;
    readonly service: string;
    readonly version: string | null;
    readonly digest: string | null;
}

/**
 * A schema as the CLI prints it: it reads the plugin's schema into its own types and writes them
 * back, without the analyzer's `optional` markers (the `required` lists say the same), empty lists
 * and empty config.
 */
function asPrinted(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(asPrinted);
    }
    if (value === null || typeof value !== "object") {
        return value;
    }
    const empty = (key: string, item: unknown): boolean =>
        (["required", "requiredInputs", "dependencies"].includes(key) && Array.isArray(item) && item.length === 0) ||
        (key === "config" && item !== null && typeof item === "object" && Object.keys(item).length === 0);
    return Object.fromEntries(
        Object.entries(value)
            .filter(([key, item]) => key !== "optional" && !empty(key, item))
            .map(([key, item]) => [key, asPrinted(item)]),
    );
}

describe("yaml program: a ReleasedService, and a ReleasedImage run by the program's own Deployment, in Pulumi YAML from the package's plugin directory", function () {
    let env: Environment;
    let repository: string;
    let shop: string;
    let schema: Result;
    const digests: Record<string, string> = {};
    const pulumi = (...args: string[]): Promise<Result> => env.pulumi(args, { cwd: shop });
    /** The command as docs/languages.md runs it: from the program's directory, npx naming the checkout. */
    const cli = (...args: string[]): Promise<Result> =>
        env.run("npx", ["--yes", "--package", repository, "released-service", ...args, "--stack", STACK], { cwd: shop });
    const config = async (values: Record<string, string>): Promise<void> => {
        for (const [key, value] of Object.entries(values)) {
            succeeded(await pulumi("config", "set", "--stack", STACK, key, "--", value), `pulumi config set ${key}`);
        }
    };
    const up = async (message: string): Promise<void> => {
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", message), message);
    };
    const selector = (service: string): string => `app.kubernetes.io/name=${service}`;
    const outputs = async (): Promise<Record<string, unknown>> =>
        JSON.parse(succeeded(await pulumi("stack", "output", "--json", "--stack", STACK), "pulumi stack output").stdout) as Record<string, unknown>;
    const digestOf = (ref: unknown): string => String(ref).slice(String(ref).indexOf("@") + 1);
    /** Each service's Deployment image, as the cluster holds it. */
    const deploymentImages = async (): Promise<Record<string, string>> => {
        const images: Record<string, string> = {};
        for (const service of ["api", "worker"]) {
            const list = JSON.parse(await env.kubectl(["get", "deployments", "-l", selector(service), "-o", "json"])) as {
                items: { spec: { template: { spec: { containers: { image: string }[] } } } }[];
            };
            assert.equal(list.items.length, 1, `exactly one Deployment of ${service}`);
            images[service] = list.items[0].spec.template.spec.containers[0].image;
        }
        return images;
    };

    before(async function () {
        // A checkout installed by the plugin's own install, then an update with a build.
        this.timeout(30 * 60_000);
        env = environment();
        const started = Date.now();
        const step = (what: string): void => {
            process.stderr.write(`e2e: yaml program: ${what} after ${Math.round((Date.now() - started) / 1000)} s\n`);
        };
        repository = checkout(env);
        // What `pulumi package add` does first: install the plugin's dependencies (its install
        // script installs the package's dependencies), then start it and ask for its schema.
        schema = await pluginCommand(env, ["package", "get-schema", path.join(repository, "plugin")]);
        step("plugin installed, schema read");

        shop = path.join(repository, "examples", "yaml");
        digests.w1 = await env.registry.push("yaml-worker", "w1.0.0");
        digests.w2 = await env.registry.push("yaml-worker", "w2.0.0");
        succeeded(await pulumi("stack", "init", STACK, "--non-interactive"), "pulumi stack init");
        await config({
            apiImage: `${env.registry.host}/yaml-api`,
            workerImage: `${env.registry.host}/yaml-worker`,
            builder: BUILDER,
            apiVersion: "v1.0.0",
            apiContext: buildContext(env, "yaml-api-v1", "v1.0.0", "yaml api 1.0.0"),
            workerVersion: "w1.0.0",
        });
        await up("api v1, worker w1");
        step("update 1 done");
    });

    it("pulumi package get-schema prints the schema the snapshot test infers", () => {
        succeeded(schema, "pulumi package get-schema");
        const snapshot: unknown = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "tests", "component", "schema.snapshot.json"), "utf8"));
        assert.deepEqual(asPrinted(JSON.parse(schema.stdout)), asPrinted(snapshot));
    });

    it("v1: builds the API, and pins each Deployment to its digest", async () => {
        const out = await outputs();
        digests.v1 = digestOf(out.apiImage);
        assert.match(digests.v1, /^sha256:[0-9a-f]{64}$/);
        assert.equal(out.apiBuilt, true);
        assert.deepEqual(await deploymentImages(), { api: `${env.registry.host}/yaml-api@${digests.v1}`, worker: `${env.registry.host}/yaml-worker@${digests.w1}` });
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
        assert.deepEqual(await settledPodDigests(env, selector("worker"), digests.w1), [digests.w1]);
    });

    it("v2: builds and runs the new release of each service", async () => {
        await config({ apiVersion: "v2.0.0", apiContext: buildContext(env, "yaml-api-v2", "v2.0.0", "yaml api 2.0.0"), workerVersion: "w2.0.0" });
        await up("api v2, worker w2");
        digests.v2 = digestOf((await outputs()).apiImage);
        assert.notEqual(digests.v2, digests.v1);
        assert.deepEqual(await deploymentImages(), { api: `${env.registry.host}/yaml-api@${digests.v2}`, worker: `${env.registry.host}/yaml-worker@${digests.w2}` });
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v2), [digests.v2, digests.v2]);
    });

    it("back to v1 by config: the API runs v1's digest again, and nothing is pushed", async () => {
        const writes = env.manifestWrites().length;
        await config({ apiVersion: "v1.0.0" });
        await up("api back to v1");
        const out = await outputs();
        assert.equal(digestOf(out.apiImage), digests.v1);
        assert.equal(out.apiBuilt, false);
        assert.deepEqual(env.manifestWrites().slice(writes), []);
        assert.deepEqual(await settledPodDigests(env, selector("api"), digests.v1), [digests.v1, digests.v1]);
    });

    it("refuses an unknown version in preview, naming it and the repository", async () => {
        await config({ apiVersion: "v9.9.9" });
        const preview = await pulumi("preview", "--non-interactive", "--stack", STACK);
        await config({ apiVersion: "v1.0.0" });
        const output = preview.stdout + preview.stderr;
        assert.notEqual(preview.code, 0, output);
        assert.ok(output.includes("v9.9.9"), output);
        assert.ok(output.includes(`${env.registry.host}/yaml-api`), output);
        assert.deepEqual(await podDigests(env, selector("api")), [digests.v1, digests.v1]);
    });

    it("history lists each service in every update, with the digest it ran", async () => {
        for (const [service, expected] of [
            ["api", [[3, "v1.0.0", digests.v1], [2, "v2.0.0", digests.v2], [1, "v1.0.0", digests.v1]]],
            ["worker", [[3, "w2.0.0", digests.w2], [2, "w2.0.0", digests.w2], [1, "w1.0.0", digests.w1]]],
        ] as const) {
            const result = await cli("history", "--service", service, "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const rows = JSON.parse(result.stdout) as HistoryRow[];
            assert.deepEqual(
                rows.map((row) => [row.update, row.version, row.digest]),
                expected,
                service,
            );
            assert.ok(rows.every((row) => row.service === service));
        }
    });

    it("rollback --to 1 --service worker brings the worker back; the API keeps running its own", async () => {
        const writes = env.manifestWrites().length;
        const result = await cli("rollback", "--to", "1", "--service", "worker", "--yes");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.deepEqual(await settledPodDigests(env, selector("worker"), digests.w1), [digests.w1]);
        assert.deepEqual(await podDigests(env, selector("api")), [digests.v1, digests.v1]);
        assert.deepEqual(env.manifestWrites().slice(writes), []);
    });

    it("status reports both services running what the stack recorded", async () => {
        const result = await cli("status", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { drift: boolean; services: { service: string; drift: boolean; recordedDigest: string }[] };
        assert.equal(report.drift, false);
        assert.deepEqual(
            report.services.map((service) => [service.service, service.recordedDigest, service.drift]),
            [
                ["api", digests.v1, false],
                ["worker", digests.w1, false],
            ],
        );
    });

    after(async () => {
        if (shop !== undefined) {
            await pulumi("destroy", "--yes", "--non-interactive", "--stack", STACK);
        }
    });
});

describe("yaml program of the user's own, in a directory of its own beside a fresh clone, with the one install step docs/languages.md names", function () {
    let env: Environment;
    let program: string;
    const STACK_OWN = "dev";
    const pulumi = (...args: string[]): Promise<Result> => env.pulumi(args, { cwd: program });

    before(() => {
        env = environment();
        const base = path.join(env.scratch, "yaml-own");
        fs.mkdirSync(base);
        execFileSync("git", ["clone", "--quiet", REPO_ROOT, path.join(base, "released-service")]);
        program = path.join(base, "shop-yaml-own");
        fs.mkdirSync(program);
    });

    it("npm install --prefix ../released-service/plugin, then pulumi up runs a ReleasedImage from the clone's plugin", async function () {
        this.timeout(10 * 60_000);
        const page = fs.readFileSync(path.join(REPO_ROOT, "docs", "languages.md"), "utf8");
        const step = "npm install --prefix ../released-service/plugin";
        assert.ok(page.includes(`\n${step}    # installs the checkout's locked dependencies\n`), "the page names the step this scenario runs");
        // npm reads the machine's cache, as on a user's machine (the suite's HOME has none).
        const npm = { ...env.env, npm_config_cache: path.join(os.homedir(), ".npm") };
        succeeded(await env.run("npm", ["install", "--prefix", "../released-service/plugin", "--no-audit", "--no-fund"], { cwd: program, replaceEnv: npm }), step);
        const digest = await env.registry.push("yaml-own-worker", "w1.0.0");
        fs.writeFileSync(
            path.join(program, "Pulumi.yaml"),
            [
                "name: shop-yaml-own",
                "runtime: yaml",
                "packages:",
                "  released-service: ../released-service/plugin",
                "resources:",
                "  worker:",
                "    type: released-service:ReleasedImage",
                "    properties:",
                `      image: ${env.registry.host}/yaml-own-worker`,
                "      version: w1.0.0",
                "      build: false",
                "outputs:",
                "  workerImage: ${worker.imageRef}",
                "",
            ].join("\n"),
        );
        succeeded(await pulumi("stack", "init", STACK_OWN, "--non-interactive"), "pulumi stack init");
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK_OWN), "pulumi up");
        const outputs = JSON.parse(succeeded(await pulumi("stack", "output", "--json", "--stack", STACK_OWN), "pulumi stack output").stdout) as Record<string, string>;
        assert.deepEqual(outputs, { workerImage: `${env.registry.host}/yaml-own-worker@${digest}` });
    });

    after(async () => {
        if (program !== undefined && fs.existsSync(path.join(program, "Pulumi.yaml"))) {
            await pulumi("destroy", "--yes", "--non-interactive", "--stack", STACK_OWN);
        }
    });
});
