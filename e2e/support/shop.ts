/**
 * A user's own program, outside this repository: a shop that installs the packed package and
 * declares two services with its own config keys and outputs, an API this stack builds and a worker
 * its own pipeline pushes. Several scenarios run it, each on a state backend of its own.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { BUILDER, REPO_ROOT, type Environment, type Result } from "./environment";
import { buildContext, podDigests, succeeded } from "./project";

export const SHOP_STACK = "prod";
export const SHOP_PROGRAM = `// A shop: an API this stack builds, and a worker its own pipeline pushes.
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
    progressDeadlineSeconds: config.getNumber("workerDeadline"),
});

exports.apiImage = api.imageRef;
exports.workerImage = worker.imageRef;
`;

/** Runs `pulumi` in the shop's directory against the stack's backend. */
export type ShopPulumi = (...args: string[]) => Promise<Result>;

const packed = new Map<string, string>();

/**
 * The package as a user gets it: packed once per run, then installed into a project of their own at
 * `dir`, running `program` (by default the shop of two ReleasedServices). `files` are written beside it.
 */
export async function installShop(env: Environment, dir: string, program = SHOP_PROGRAM, files: Record<string, string> = {}): Promise<void> {
    if (!packed.has(env.scratch)) {
        const result = succeeded(await env.run("npm", ["pack", "--silent", "--pack-destination", env.scratch], { cwd: REPO_ROOT }), "npm pack");
        packed.set(env.scratch, path.join(env.scratch, result.stdout.trim().split("\n").pop()!));
    }
    fs.mkdirSync(dir);
    // The SDK is the package's peer dependency: the program installs the one this package develops against.
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    // A program that declares Kubernetes or Docker resources of its own depends on the provider's SDK itself, at the package's version.
    const providers = Object.fromEntries(
        ["@pulumi/kubernetes", "@pulumi/docker"].filter((sdk) => program.includes(`"${sdk}"`)).map((sdk) => [sdk, manifest.dependencies[sdk]]),
    );
    // The package asks for its dependencies by caret range; the program holds them at the versions
    // this checkout's lockfile tested, as a team's own lockfile would (and the toolchain built the
    // provider plugins of exactly those versions).
    const locked = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const overrides = Object.fromEntries(Object.keys(manifest.dependencies).map((dependency) => [dependency, locked.packages[`node_modules/${dependency}`].version]));
    fs.writeFileSync(
        path.join(dir, "package.json"),
        JSON.stringify(
            {
                name: "shop",
                private: true,
                dependencies: { "@pulumi/pulumi": manifest.devDependencies["@pulumi/pulumi"], ...providers, "released-service": `file:${packed.get(env.scratch)}` },
                overrides,
            },
            null,
            2,
        ),
    );
    for (const [file, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    }
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: shop\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n");
    fs.writeFileSync(path.join(dir, "index.js"), program);
    succeeded(await env.run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: dir }), "npm install of the packed package");
}

/** Sets the shop's own config keys (`shop:<key>`) in the stack. */
export async function setShopConfig(pulumi: ShopPulumi, values: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(values)) {
        succeeded(await pulumi("config", "set", "--stack", SHOP_STACK, `shop:${key}`, "--", value), `pulumi config set shop:${key}`);
    }
}

/** The digest the program's own output says the API runs. */
export async function shopApiDigest(pulumi: ShopPulumi): Promise<string> {
    const outputs = JSON.parse(succeeded(await pulumi("stack", "output", "--json", "--stack", SHOP_STACK), "pulumi stack output").stdout) as Record<string, string>;
    return outputs.apiImage.slice(outputs.apiImage.indexOf("@") + 1);
}

/**
 * Two releases by `pulumi up`: api v1 built and worker w1 pushed, then api v2 and worker w2.
 * `repository` names the images (`<repository>-api`, `<repository>-worker`), one pair per scenario;
 * extra config (a deadline) goes in before the first update. Returns each release's digest.
 */
export async function releaseShop(
    env: Environment,
    pulumi: ShopPulumi,
    options: { repository: string; config?: Record<string, string>; step?: (what: string) => void },
): Promise<Record<"v1" | "v2" | "w1" | "w2", string>> {
    const step = options.step ?? (() => undefined);
    const worker = `${options.repository}-worker`;
    const w1 = await env.registry.push(worker, "w1.0.0");
    const w2 = await env.registry.push(worker, "w2.0.0");
    succeeded(await pulumi("stack", "init", SHOP_STACK, "--non-interactive"), "pulumi stack init");
    await setShopConfig(pulumi, {
        apiImage: `${env.registry.host}/${options.repository}-api`,
        workerImage: `${env.registry.host}/${worker}`,
        builder: BUILDER,
        apiVersion: "v1.0.0",
        apiContext: buildContext(env, `${options.repository}-api-v1`, "v1.0.0", `${options.repository} api 1.0.0`),
        workerVersion: "w1.0.0",
        ...options.config,
    });
    succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK, "--message", "api v1, worker w1"), "update 1");
    const v1 = await shopApiDigest(pulumi);
    step("update 1 done");
    await setShopConfig(pulumi, {
        apiVersion: "v2.0.0",
        apiContext: buildContext(env, `${options.repository}-api-v2`, "v2.0.0", `${options.repository} api 2.0.0`),
        workerVersion: "w2.0.0",
    });
    succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK, "--message", "api v2, worker w2"), "update 2");
    const v2 = await shopApiDigest(pulumi);
    step("update 2 done");
    assert.notEqual(v1, v2);
    return { v1, v2, w1, w2 };
}

export const shopSelector = (service: string): string => `app.kubernetes.io/name=${service}`;

/** The digest each pod of each service runs. */
export async function shopPods(env: Environment): Promise<Record<"api" | "worker", string[]>> {
    return { api: await podDigests(env, shopSelector("api")), worker: await podDigests(env, shopSelector("worker")) };
}

/**
 * `released-service drill --service api` on the shop's stack (`cli` runs the command there): it
 * rehearses the API's rollback to v1's digest and its roll forward to v2's, both passing, and leaves
 * every pod as it was, the worker untouched.
 */
export async function drillShopApi(
    env: Environment,
    cli: (...args: string[]) => Promise<Result>,
    digests: Readonly<Record<string, string>>,
): Promise<void> {
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
}
