// The docker stand-in provider under the real engine, against the suite's dockerd and Swarm:
// a Container and a Service created by digest run that digest; a new digest updates the Service
// in place and replaces the Container (the old one removed first); an update to an image whose
// container exits is rolled back by Swarm, and `pulumi up` fails saying so.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { REPO_ROOT, type Environment, type Result } from "./support/environment";
import type { PushedImage } from "./support/docker";
import { succeeded } from "./support/project";

const STACK = "smoke";
const CONTAINER = "smoke-web";
const SERVICE = "smoke-api";

describe("docker stand-in provider under the real engine", function () {
    let env: Environment;
    let project: string;
    let v1: PushedImage;
    let v2: PushedImage;
    let exits: PushedImage;

    /** A pulumi command on the smoke stack; the flags go before a `--` that ends them. */
    const pulumi = (...args: string[]): Promise<Result> => {
        const end = args.includes("--") ? args.indexOf("--") : args.length;
        return env.pulumi([...args.slice(0, end), "--non-interactive", "--stack", STACK, ...args.slice(end)], { cwd: project });
    };
    const configure = async (values: Record<string, string>): Promise<void> => {
        for (const [key, value] of Object.entries(values)) {
            succeeded(await pulumi("config", "set", key, "--", value), `pulumi config set ${key}`);
        }
    };
    const outputs = async (): Promise<Record<string, string>> =>
        JSON.parse(succeeded(await pulumi("stack", "output", "--json"), "pulumi stack output").stdout) as Record<string, string>;
    /** The operations a preview plans for resources of one type. */
    const plannedOps = async (type: string): Promise<string[]> => {
        const plan = JSON.parse(succeeded(await pulumi("preview", "--json"), "pulumi preview --json").stdout) as { steps?: { op: string; urn: string }[] };
        // urn:pulumi:<stack>::<project>::<parent types $-separated>$<type>::<name>
        return (plan.steps ?? []).filter((step) => step.urn.split("::")[2].split("$").pop() === type).map((step) => step.op);
    };
    /** `pulumi up --json`: the engine's events follow the summary, one JSON object a line; the steps done to resources of `type`, in order. */
    const upSteps = async (type: string): Promise<string[]> => {
        const result = succeeded(await pulumi("up", "--yes", "--json"), "pulumi up --json");
        return result.stdout
            .split("\n")
            .filter((line) => line.startsWith('{"sequence"'))
            .map((line) => (JSON.parse(line) as { resOutputsEvent?: { metadata: { op: string; urn: string } } }).resOutputsEvent?.metadata)
            .filter((step): step is { op: string; urn: string } => step !== undefined && step.urn.split("::")[2].split("$").pop() === type)
            .map((step) => step.op);
    };

    before(async function () {
        this.timeout(300_000);
        env = environment();
        project = path.join(env.scratch, "docker-standin");
        fs.cpSync(path.join(REPO_ROOT, "e2e", "fixtures", "docker-standin"), project, { recursive: true });
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(project, "node_modules"));
        v1 = await env.docker.pushImage("smoke/web", "v1", { content: "smoke v1\n" });
        v2 = await env.docker.pushImage("smoke/web", "v2", { content: "smoke v2\n" });
        exits = await env.docker.pushImage("smoke/web", "v3-exits", { content: "smoke v3\n", exits: true });
        assert.equal(new Set([v1.digest, v2.digest, exits.digest]).size, 3, "three distinct digests");
        succeeded(await env.pulumi(["stack", "init", STACK, "--non-interactive"], { cwd: project }), "pulumi stack init");
        await configure({
            "docker:host": env.docker.host,
            containerName: CONTAINER,
            serviceName: SERVICE,
            containerImage: v1.ref,
            serviceImage: v1.ref,
        });
    });

    after(async function () {
        this.timeout(300_000);
        if (project !== undefined) {
            succeeded(await pulumi("destroy", "--yes"), "pulumi destroy");
            assert.equal((await env.docker.docker(["ps", "--all", "--quiet", "--filter", `name=^${CONTAINER}$`])).trim(), "");
            assert.equal((await env.docker.docker(["service", "ls", "--quiet", "--filter", `name=${SERVICE}`])).trim(), "");
        }
    });

    it("creates a container and a 2-task service that run the digest they name", async () => {
        succeeded(await pulumi("up", "--yes"), "pulumi up (v1)");
        assert.equal(await env.docker.containerDigest(CONTAINER), v1.digest);
        assert.equal((await env.docker.docker(["container", "inspect", "--format", "{{.State.Health.Status}}", CONTAINER])).trim(), "healthy");
        assert.deepEqual(await env.docker.serviceTaskDigests(SERVICE), [v1.digest, v1.digest]);
        assert.equal((await outputs()).containerImage, v1.ref);
    });

    it("updates the service to a new digest in place: same service, every task converged", async () => {
        const before = (await outputs()).serviceId;
        await configure({ serviceImage: v2.ref });
        assert.deepEqual(await plannedOps("docker:index/service:Service"), ["update"]);
        succeeded(await pulumi("up", "--yes"), "pulumi up (service v2)");
        assert.equal((await outputs()).serviceId, before);
        assert.deepEqual(await env.docker.serviceTaskDigests(SERVICE), [v2.digest, v2.digest]);
        assert.equal(await env.docker.serviceUpdateState(SERVICE), "completed");
    });

    it("replaces the container for a new digest, deleting the old one first", async () => {
        const old = (await outputs()).containerId;
        await configure({ containerImage: v2.ref });
        assert.deepEqual(await plannedOps("docker:index/container:Container"), ["replace"]);
        // A replacement that deletes first: the old container goes before the new one is created.
        assert.deepEqual(await upSteps("docker:index/container:Container"), ["delete-replaced", "replace", "create-replacement"]);
        const now = (await outputs()).containerId;
        assert.notEqual(now, old);
        await assert.rejects(env.docker.docker(["container", "inspect", old]), /No such container/);
        assert.equal(await env.docker.containerDigest(CONTAINER), v2.digest);
        assert.equal((await outputs()).containerImage, v2.ref);
    });

    it("fails `pulumi up` when Swarm rolls the service back, and Swarm runs the previous digest", async () => {
        await configure({ serviceImage: exits.ref });
        const result = await pulumi("up", "--yes");
        assert.notEqual(result.code, 0, `pulumi up should have failed:\n${result.stdout}`);
        assert.match(result.stdout + result.stderr, /service rollback completed: /);
        assert.equal(await env.docker.serviceUpdateState(SERVICE), "rollback_completed");
        assert.deepEqual(await env.docker.serviceTaskDigests(SERVICE), [v2.digest, v2.digest]);
        // The container was not touched.
        assert.equal(await env.docker.containerDigest(CONTAINER), v2.digest);
    });
});
