/**
 * What the scenarios do to the project copy and read back, the way a user would: stack config
 * set with `pulumi config set`, `pulumi up` and `preview`, and what the registry and the
 * cluster hold afterwards.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { RegistryClient } from "../../components/registry/client";
import { locateRepository } from "../../components/registry/reference";
import { REPO_ROOT, type Environment, type Result } from "./environment";

export const NAMESPACE = "released-service";
/** The workload's name (the `name` default): its Deployment is `app-<suffix>`, its pods labelled with it. */
export const SELECTOR = "app.kubernetes.io/name=app";

/** Fails with pulumi's own output when a command that should succeed did not. */
export function succeeded(result: Result, what: string): Result {
    assert.equal(result.code, 0, `${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
    return result;
}

export class Stack {
    constructor(
        private readonly environment: Environment,
        readonly name: string,
    ) {}

    async init(config: Record<string, string>): Promise<void> {
        succeeded(await this.environment.pulumi(["stack", "init", this.name, "--non-interactive"]), `pulumi stack init ${this.name}`);
        await this.set(config);
    }

    async set(config: Record<string, string>, options: { secret?: boolean } = {}): Promise<void> {
        for (const [key, value] of Object.entries(config)) {
            const args = ["config", "set", "--stack", this.name, `${NAMESPACE}:${key}`, ...(options.secret ? ["--secret"] : []), "--", value];
            succeeded(await this.environment.pulumi(args), `pulumi config set ${key}`);
        }
    }

    async remove(...keys: string[]): Promise<void> {
        for (const key of keys) {
            succeeded(await this.environment.pulumi(["config", "rm", "--stack", this.name, `${NAMESPACE}:${key}`]), `pulumi config rm ${key}`);
        }
    }

    up(...args: string[]): Promise<Result> {
        return this.environment.pulumi(["up", "--yes", "--non-interactive", "--stack", this.name, ...args]);
    }

    preview(...args: string[]): Promise<Result> {
        return this.environment.pulumi(["preview", "--non-interactive", "--stack", this.name, ...args]);
    }

    /** The steps a preview would take, other than leaving a resource alone, as `op type`. */
    async plannedChanges(): Promise<string[]> {
        const result = succeeded(await this.preview("--json"), "pulumi preview --json");
        const plan = JSON.parse(result.stdout) as { steps?: { op: string; urn: string }[] };
        // A URN's type names its parents' types too, `$`-separated: the resource's own is the last.
        return (plan.steps ?? []).filter((step) => step.op !== "same").map((step) => `${step.op} ${step.urn.split("::")[2].split("$").pop()}`);
    }

    async outputs(): Promise<Record<string, unknown>> {
        const result = succeeded(await this.environment.pulumi(["stack", "output", "--json", "--stack", this.name]), "pulumi stack output");
        return JSON.parse(result.stdout) as Record<string, unknown>;
    }
}

/** A build context `FROM scratch` in a git repository of its own, as a service's source would be. */
export function buildContext(environment: Environment, name: string, version: string, content: string): string {
    const root = path.join(environment.scratch, "sources", name);
    const context = path.join(root, "app");
    fs.mkdirSync(context, { recursive: true });
    fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\nCOPY hello.txt /hello.txt\n");
    fs.writeFileSync(path.join(context, "hello.txt"), `${content}\n`);
    fs.writeFileSync(path.join(context, "VERSION"), `${version}\n`);
    const git = (...args: string[]): string =>
        execFileSync("git", ["-C", root, "-c", "user.name=Release Engineer", "-c", "user.email=release@example.com", ...args], {
            encoding: "utf8",
            env: { ...process.env, GIT_AUTHOR_DATE: "2026-11-01T10:00:00+00:00", GIT_COMMITTER_DATE: "2026-11-01T10:00:00+00:00" },
        }).trim();
    git("init", "-q");
    git("add", ".");
    git("commit", "-q", "-m", `${name} ${version}`);
    git("remote", "add", "origin", "https://git.example.com/payments/payment-api.git");
    return context;
}

/** The registry as anyone may read it: what a tag holds, and an image's labels. */
export class RegistryView {
    // Asked afresh every time, and nothing kept in this machine's cache directory.
    private readonly client = new RegistryClient({ labelsCache: false });

    constructor(readonly image: string) {}

    async digestOf(tag: string): Promise<string | undefined> {
        return this.client.digestOfTag(locateRepository(this.image), tag);
    }

    async labelsOf(tag: string): Promise<Record<string, string>> {
        const found = await this.client.imageAt(locateRepository(this.image), tag);
        assert.ok(found, `${this.image}:${tag} exists`);
        return found.labels;
    }

    async tags(): Promise<string[]> {
        const { registry, repository } = locateRepository(this.image);
        const response = await fetch(`http://${registry}/v2/${repository}/tags/list`);
        const body = (await response.json()) as { tags?: string[] | null };
        return [...(body.tags ?? [])].sort();
    }
}

/** The Deployment's container image, and the digest each of its pods reports running. */
export async function workload(environment: Environment): Promise<{ name: string; image: string; pods: string[] }> {
    const deployment = JSON.parse(await environment.kubectl(["get", "deployments", "-l", SELECTOR, "-o", "json"])) as {
        items: { metadata: { name: string }; spec: { template: { spec: { containers: { image: string }[] } } } }[];
    };
    assert.equal(deployment.items.length, 1, "exactly one Deployment of the service");
    return {
        name: deployment.items[0].metadata.name,
        image: deployment.items[0].spec.template.spec.containers[0].image,
        pods: await podDigests(environment, SELECTOR),
    };
}

/** The digest each pod labelled `selector` reports running; pods being deleted are left out. */
export async function podDigests(environment: Environment, selector: string): Promise<string[]> {
    const pods = JSON.parse(await environment.kubectl(["get", "pods", "-l", selector, "-o", "json"])) as {
        items: { metadata: { deletionTimestamp?: string }; status?: { containerStatuses?: { imageID?: string }[] } }[];
    };
    return pods.items
        .filter((pod) => pod.metadata.deletionTimestamp === undefined)
        .map((pod) => pod.status?.containerStatuses?.[0]?.imageID ?? "(none)")
        .map((imageId) => imageId.slice(imageId.lastIndexOf("@") + 1));
}

/**
 * The pods' digests once every pod runs `expected` (kubectl's rollout status can return while the
 * old ReplicaSet's pods are still listed), or as they are after a minute.
 */
export async function settledPodDigests(environment: Environment, selector: string, expected: string): Promise<string[]> {
    const deadline = Date.now() + 60_000;
    let digests = await podDigests(environment, selector);
    while (digests.some((digest) => digest !== expected) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        digests = await podDigests(environment, selector);
    }
    return digests;
}

const checkouts = new WeakMap<Environment, string>();

/**
 * A checkout of this repository outside it, as another language's user has one: every file git
 * knows of or would add, nothing installed or built (the plugin directory's install does that).
 * One per run, shared by the scenarios that use the package from other languages.
 */
export function checkout(environment: Environment): string {
    let into = checkouts.get(environment);
    if (into === undefined) {
        into = path.join(environment.scratch, "released-service-checkout");
        const files = execFileSync("git", ["-C", REPO_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z"], { encoding: "utf8" })
            .split("\0")
            .filter((file) => file !== "" && fs.existsSync(path.join(REPO_ROOT, file)));
        for (const file of files) {
            fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
            fs.copyFileSync(path.join(REPO_ROOT, file), path.join(into, file));
        }
        checkouts.set(environment, into);
    }
    return into;
}

/**
 * A `pulumi` command that installs a plugin's dependencies first (`package get-schema`, `gen-sdk`):
 * npm reads the machine's cache, as it would on a user's machine (the suite's HOME has none).
 */
export function pluginCommand(environment: Environment, args: readonly string[], cwd = environment.scratch): Promise<Result> {
    return environment.run(path.join(environment.pulumiBin, "pulumi"), args, {
        cwd,
        replaceEnv: { ...environment.env, npm_config_cache: path.join(os.homedir(), ".npm") },
    });
}
