// The same release rules on a Docker host, a Swarm service and a Compose file, under the real
// engine, the suite's dockerd and Swarm, and docker compose: each kind runs exactly the digest its
// stack config names, rolls back by config with nothing pushed, and refuses what cannot be resolved.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import type { Environment, Result } from "./support/environment";
import type { PushedImage } from "./support/docker";
import { Stack, succeeded } from "./support/project";

const HEALTHCHECK = JSON.stringify({ tests: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"], interval: "1s", retries: 3 });

/** Sets a version and runs `pulumi up`, counting what the update wrote to the registry. */
async function deploy(env: Environment, stack: Stack, version: string): Promise<{ result: Result; writes: number }> {
    await stack.set({ version });
    const before = env.manifestWrites().length;
    const result = await stack.up("--message", version);
    return { result, writes: env.manifestWrites().length - before };
}

/** An unknown version fails the preview, naming it, and leaves what runs alone; the stack is set back to `back`. */
async function refusesUnknownVersion(stack: Stack, repository: string, runs: () => Promise<unknown>, back: string): Promise<void> {
    const before = await runs();
    await stack.set({ version: "v9.9.9" });
    const preview = await stack.preview();
    assert.notEqual(preview.code, 0, "the preview fails");
    assert.ok(preview.stdout.includes(`version v9.9.9 cannot be resolved: tag v9.9.9 was not found in ${repository}`), preview.stdout + preview.stderr);
    assert.deepEqual(await runs(), before, "what runs is untouched");
    await stack.set({ version: back });
}

/**
 * A retention policy deletes a release pinned by digest: the preview and the update both fail,
 * naming it, and what runs is left alone; the stack is set back to `back`.
 */
async function refusesDeletedTarget(env: Environment, stack: Stack, name: string, gone: PushedImage, runs: () => Promise<unknown>, back: string): Promise<void> {
    await env.registry.deleteManifest(name, gone.digest);
    const before = await runs();
    await stack.set({ version: gone.tag, digest: gone.digest });
    const expected = `${gone.ref} (version ${gone.tag}) is no longer in its registry`;
    for (const [what, result] of [["preview", await stack.preview()], ["update", await stack.up()]] as const) {
        assert.notEqual(result.code, 0, `the ${what} fails`);
        assert.ok(result.stdout.includes(expected), `${what}: ${result.stdout}${result.stderr}`);
    }
    assert.deepEqual(await runs(), before, "what runs is untouched");
    await stack.remove("digest");
    await stack.set({ version: back });
}

/** The steps `pulumi up --json` reports done to resources of `type`, in order (its events follow the summary, a line each). */
function stepsOf(stdout: string, type: string): string[] {
    return stdout
        .split("\n")
        .filter((line) => line.startsWith('{"sequence"'))
        .map((line) => (JSON.parse(line) as { resOutputsEvent?: { metadata: { op: string; urn: string } } }).resOutputsEvent?.metadata)
        .filter((step): step is { op: string; urn: string } => step !== undefined && step.urn.split("::")[2].split("$").pop() === type)
        .map((step) => step.op);
}

interface DrillPhase {
    readonly phase: string;
    readonly result: string;
    readonly digest: string;
}

/** `released-service drill --yes --json`: each phase's name, result and digest. */
async function drill(cli: (...args: string[]) => Promise<Result>): Promise<[string, string, string][]> {
    const result = await cli("drill", "--yes", "--json");
    assert.equal(result.code, 0, result.stdout + result.stderr);
    return (JSON.parse(result.stdout) as { phases: DrillPhase[] }).phases.map((phase) => [phase.phase, phase.result, phase.digest]);
}

describe("workload docker: one container on the suite's Docker host", function () {
    let env: Environment;
    let stack: Stack;
    const images: Record<string, PushedImage> = {};
    const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", "ondocker", "--cwd", env.project]);
    const running = (): Promise<string> => env.docker.containerDigest("docker-app");

    before(async function () {
        this.timeout(600_000);
        env = environment();
        for (const version of ["v1.0.0", "v1.5.0", "v2.0.0"]) {
            images[version] = await env.docker.pushImage("docker-app", version, { content: `docker-app ${version}\n` });
        }
        stack = new Stack(env, "ondocker");
        await stack.init({ workload: "docker", image: images["v1.0.0"].repository, name: "docker-app", build: "false", version: "v1.0.0", healthcheck: HEALTHCHECK });
        succeeded(await stack.up("--message", "v1.0.0"), "up v1.0.0");
    });

    it("runs v1's digest, healthy, then v2's in a replacement that removes the old container first", async () => {
        assert.equal(await running(), images["v1.0.0"].digest);
        assert.equal((await env.docker.docker(["container", "inspect", "--format", "{{.State.Health.Status}}", "docker-app"])).trim(), "healthy");
        const old = (await env.docker.docker(["container", "inspect", "--format", "{{.Id}}", "docker-app"])).trim();
        await stack.set({ version: "v2.0.0" });
        const up = succeeded(await stack.up("--json", "--message", "v2.0.0"), "up v2.0.0");
        // pulumi-docker deletes a container before it creates its replacement: the name is free again.
        assert.deepEqual(stepsOf(up.stdout, "docker:index/container:Container"), ["delete-replaced", "replace", "create-replacement"]);
        await assert.rejects(env.docker.docker(["container", "inspect", old]), /No such container/);
        assert.equal(await running(), images["v2.0.0"].digest);
    });

    it("rolls back by version with nothing pushed, and forward again", async () => {
        const back = await deploy(env, stack, "v1.0.0");
        succeeded(back.result, "rollback to v1.0.0");
        assert.equal(back.writes, 0, "nothing was pushed");
        assert.equal(await running(), images["v1.0.0"].digest);
        const forward = await deploy(env, stack, "v2.0.0");
        succeeded(forward.result, "roll forward to v2.0.0");
        assert.equal(forward.writes, 0, "nothing was pushed");
        assert.equal(await running(), images["v2.0.0"].digest);
    });

    it("refuses an unknown version in preview, naming it, and leaves the container alone", async () => {
        await refusesUnknownVersion(stack, images["v1.0.0"].repository, running, "v2.0.0");
    });

    it("history, status and drill read the container", async () => {
        const history = await cli("history", "--json");
        assert.equal(history.code, 0, history.stderr);
        const rows = JSON.parse(history.stdout) as { version: string; digest: string }[];
        assert.deepEqual(rows.slice(0, 2).map((row) => [row.version, row.digest]), [
            ["v2.0.0", images["v2.0.0"].digest],
            ["v1.0.0", images["v1.0.0"].digest],
        ]);
        const status = await cli("status", "--json");
        assert.equal(status.code, 0, status.stdout + status.stderr);
        const report = JSON.parse(status.stdout) as { drift: boolean; services: { recordedDigest: string; drift: boolean }[] };
        assert.deepEqual([report.drift, report.services[0].recordedDigest], [false, images["v2.0.0"].digest]);
        assert.deepEqual(await drill(cli), [
            ["rollback", "passed", images["v1.0.0"].digest],
            ["roll forward", "passed", images["v2.0.0"].digest],
        ]);
        assert.equal(await running(), images["v2.0.0"].digest);
    });

    it("status reports a container replaced by hand as drift; removing it and pulumi up --refresh bring the recorded digest back", async () => {
        await env.docker.docker(["rm", "--force", "docker-app"]);
        await env.docker.docker(["run", "--detach", "--name", "docker-app", images["v1.0.0"].ref]);
        const status = await cli("status", "--json");
        assert.equal(status.code, 1, status.stdout + status.stderr);
        const report = JSON.parse(status.stdout) as { drift: boolean; services: { containers: { digest: string; state: string }[] }[] };
        assert.deepEqual([report.drift, report.services[0].containers.map((c) => [c.digest, c.state])], [true, [[images["v1.0.0"].digest, "drift"]]]);
        const text = await cli("status");
        assert.ok(text.stdout.includes("Remove it (docker rm --force docker-app) and run `pulumi up --refresh`"), text.stdout);
        await env.docker.docker(["rm", "--force", "docker-app"]);
        succeeded(await stack.up("--refresh", "--message", "the recorded v2.0.0 again"), "pulumi up --refresh");
        assert.equal(await running(), images["v2.0.0"].digest);
    });

    it("refuses a deleted pinned digest in preview and update, naming it, and leaves the container alone", async () => {
        await refusesDeletedTarget(env, stack, "docker-app", images["v1.5.0"], running, "v2.0.0");
    });

    it("a rollback's pin holds against the unchanged version key with a warning, refuses a moved one in preview, and release-hold lets it ship", async () => {
        images["v2.1.0"] = await env.docker.pushImage("docker-app", "v2.1.0", { content: "docker-app v2.1.0\n" });
        const rollback = await cli("rollback", "--to", "v1.0.0", "--service", "docker-app", "--yes");
        assert.equal(rollback.code, 0, rollback.stdout + rollback.stderr);
        assert.equal(await running(), images["v1.0.0"].digest);
        const flat = (result: Result): string => (result.stdout + result.stderr).replace(/\s+/g, " ");
        const pinned = `version v1.0.0 (${images["v1.0.0"].digest}) from update #`;
        // A re-run with the key unchanged (it still says v2.0.0): the pin holds, and says so.
        const again = succeeded(await stack.up("--message", "a re-run"), "pulumi up with the key unchanged");
        assert.ok(flat(again).includes(`service docker-app is held on its pinned release, ${pinned}`), flat(again));
        assert.ok(
            flat(again).includes("while its args still ask for version v2.0.0; lift the pin with `released-service release-hold --stack ondocker --service docker-app` to run what they ask."),
            flat(again),
        );
        assert.equal(await running(), images["v1.0.0"].digest);
        // The key moves to ship a fix: the preview and the update fail, naming the pin, and nothing changes.
        await stack.set({ version: "v2.1.0" });
        for (const [what, result] of [["preview", await stack.preview()], ["update", await stack.up("--message", "v2.1.0 under the pin")]] as const) {
            assert.notEqual(result.code, 0, `the ${what} fails`);
            assert.ok(flat(result).includes(`service docker-app is pinned to ${pinned}`), `${what}: ${flat(result)}`);
            assert.ok(
                flat(result).includes(
                    "set when its args asked for version v2.0.0; they now ask for version v2.1.0. The pin would hide that change, so nothing was changed: " +
                        "lift the pin with `released-service release-hold --stack ondocker --service docker-app`",
                ),
                `${what}: ${flat(result)}`,
            );
        }
        assert.equal(await running(), images["v1.0.0"].digest);
        const lifted = await cli("release-hold", "--service", "docker-app");
        assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
        succeeded(await stack.up("--message", "v2.1.0"), "pulumi up after release-hold");
        assert.equal(await running(), images["v2.1.0"].digest);
    });

    after(async () => {
        succeeded(await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "ondocker"]), "pulumi destroy");
        assert.equal((await env.docker.docker(["ps", "--all", "--quiet", "--filter", "name=^docker-app$"])).trim(), "", "destroy removed the container");
    });
});

describe("workload swarm: a Swarm service on the suite's one-node Swarm", function () {
    let env: Environment;
    let stack: Stack;
    const images: Record<string, PushedImage> = {};
    const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", "onswarm", "--cwd", env.project]);
    const tasks = (): Promise<string[]> => env.docker.serviceTaskDigests("swarm-app");
    /** The running tasks' digests once they are all `digest`, or as they are after a minute. */
    const settled = async (digest: string): Promise<string[]> => {
        const deadline = Date.now() + 60_000;
        let found = await tasks();
        while ((found.length !== 2 || found.some((d) => d !== digest)) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 500));
            found = await tasks();
        }
        return found;
    };

    before(async function () {
        this.timeout(600_000);
        env = environment();
        await env.docker.swarm();
        for (const version of ["v1.0.0", "v1.5.0", "v2.0.0"]) {
            images[version] = await env.docker.pushImage("swarm-app", version, { content: `swarm-app ${version}\n` });
        }
        images["v3.0.0"] = await env.docker.pushImage("swarm-app", "v3.0.0", { content: "swarm-app v3.0.0\n", exits: true });
        stack = new Stack(env, "onswarm");
        await stack.init({
            workload: "swarm",
            image: images["v1.0.0"].repository,
            name: "swarm-app",
            build: "false",
            version: "v1.0.0",
            replicas: "2",
            healthcheck: HEALTHCHECK,
            monitorSeconds: "3",
            progressDeadlineSeconds: "120",
        });
        succeeded(await stack.up("--message", "v1.0.0"), "up v1.0.0");
    });

    it("runs every task on v1's digest, then on v2's, the same service updated in place", async () => {
        assert.deepEqual(await settled(images["v1.0.0"].digest), [images["v1.0.0"].digest, images["v1.0.0"].digest]);
        const id = async (): Promise<string> => (await env.docker.docker(["service", "inspect", "--format", "{{.ID}}", "swarm-app"])).trim();
        const before = await id();
        succeeded((await deploy(env, stack, "v2.0.0")).result, "up v2.0.0");
        assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest]);
        assert.deepEqual([await id(), await env.docker.serviceUpdateState("swarm-app")], [before, "completed"]);
    });

    it("rolls back by version with nothing pushed, every task on v1's digest, and forward again", async () => {
        const back = await deploy(env, stack, "v1.0.0");
        succeeded(back.result, "rollback to v1.0.0");
        assert.equal(back.writes, 0, "nothing was pushed");
        assert.deepEqual(await settled(images["v1.0.0"].digest), [images["v1.0.0"].digest, images["v1.0.0"].digest]);
        succeeded((await deploy(env, stack, "v2.0.0")).result, "roll forward to v2.0.0");
        assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest]);
    });

    it("refuses an unknown version in preview, naming it, and leaves every task alone", async () => {
        await refusesUnknownVersion(stack, images["v1.0.0"].repository, tasks, "v2.0.0");
    });

    it("history, status and drill read every task", async () => {
        const rows = JSON.parse((await cli("history", "--json")).stdout) as { version: string; digest: string; result: string }[];
        assert.deepEqual(rows.slice(0, 4).map((row) => [row.result, row.version, row.digest]), [
            ["succeeded", "v2.0.0", images["v2.0.0"].digest],
            ["succeeded", "v1.0.0", images["v1.0.0"].digest],
            ["succeeded", "v2.0.0", images["v2.0.0"].digest],
            ["succeeded", "v1.0.0", images["v1.0.0"].digest],
        ]);
        const status = await cli("status", "--json");
        assert.equal(status.code, 0, status.stdout + status.stderr);
        const report = JSON.parse(status.stdout) as { drift: boolean; services: { recordedDigest: string; tasks: unknown[] }[] };
        assert.deepEqual([report.drift, report.services[0].recordedDigest, report.services[0].tasks.length], [false, images["v2.0.0"].digest, 2]);
        assert.deepEqual(await drill(cli), [
            ["rollback", "passed", images["v1.0.0"].digest],
            ["roll forward", "passed", images["v2.0.0"].digest],
        ]);
        assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest]);
    });

    it("status reports docker service rollback as drift, and pulumi up --refresh deploys the recorded release again", async () => {
        await env.docker.docker(["service", "rollback", "--quiet", "swarm-app"]);
        assert.deepEqual(await settled(images["v1.0.0"].digest), [images["v1.0.0"].digest, images["v1.0.0"].digest], "Swarm's previous spec is v1's");
        const status = await cli("status", "--json");
        assert.equal(status.code, 1, status.stdout + status.stderr);
        const report = JSON.parse(status.stdout) as { drift: boolean; services: { recordedDigest: string; tasks: { digest: string; state: string }[] }[] };
        assert.deepEqual(
            [report.drift, report.services[0].recordedDigest, report.services[0].tasks.map((t) => [t.digest, t.state])],
            [true, images["v2.0.0"].digest, [[images["v1.0.0"].digest, "drift"], [images["v1.0.0"].digest, "drift"]]],
        );
        succeeded(await stack.up("--refresh", "--message", "the recorded v2.0.0 again"), "pulumi up --refresh");
        assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest]);
    });

    it("a v3 whose container exits is rolled back by Swarm: pulumi up fails saying so, status names the difference, a config rollback ends it", async () => {
        const failed = await deploy(env, stack, "v3.0.0");
        assert.notEqual(failed.result.code, 0, "the update fails");
        // The provider's convergence check names Swarm's UpdateStatus: `service rollback completed: <its message>`.
        assert.match(failed.result.stdout + failed.result.stderr, /service rollback completed: /);
        assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest], "Swarm runs v2 again");

        const status = await cli("status", "--json");
        assert.equal(status.code, 1, status.stdout + status.stderr);
        // Swarm runs v2, which is what the state recorded; the stack config still asks for v3.
        const report = JSON.parse(status.stdout) as {
            services: { recordedVersion: string; recordedDigest: string }[];
            failedUpdate?: { configVersions: { service: string; version: string }[] };
        };
        assert.deepEqual([report.services[0].recordedVersion, report.services[0].recordedDigest], ["v2.0.0", images["v2.0.0"].digest]);
        assert.deepEqual(report.failedUpdate?.configVersions, [{ service: "swarm-app", version: "v3.0.0" }]);

        const rows = JSON.parse((await cli("history", "--json")).stdout) as { update: number; result: string; version: string }[];
        const good = rows.find((row) => row.result === "succeeded" && row.version === "v2.0.0")!;
        const rollback = await cli("rollback", "--to", String(good.update), "--yes");
        assert.equal(rollback.code, 0, rollback.stdout + rollback.stderr);
        assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest]);
        const after = await cli("status", "--json");
        assert.equal(after.code, 0, after.stdout + after.stderr);
    });

    it("up --atomic: Swarm rolls a failed v3 back itself, and the command pins the config back to the last good release", async () => {
        const lifted = await cli("release-hold");
        assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
        await stack.set({ version: "v3.0.0" });
        const result = await cli("up", "--atomic", "--yes");
        assert.equal(result.code, 1, result.stdout + result.stderr);
        const rows = JSON.parse((await cli("history", "--json")).stdout) as { update: number; result: string; version: string; digest: string; message: string }[];
        const [undone, failed] = rows;
        const good = rows.find((row) => row.update < failed.update && row.result === "succeeded" && row.version === "v2.0.0")!;
        assert.deepEqual([failed.result, failed.version, failed.message], ["failed", "v3.0.0", "released-service up --atomic"]);
        assert.deepEqual([undone.result, undone.version, undone.digest], ["succeeded", "v2.0.0", images["v2.0.0"].digest]);
        assert.match(result.stdout, /service rollback completed/);
        assert.ok(
            result.stdout.includes(
                `\nUpdate #${failed.update} failed; update #${undone.update} returned stack onswarm to swarm-app #${good.update} (v2.0.0, ${images["v2.0.0"].digest}), ` +
                    "and every instance runs its digest.\n",
            ),
            result.stdout,
        );
        const pins = JSON.parse((await env.pulumi(["config", "get", "released-service:pins", "--stack", "onswarm"])).stdout) as Record<string, unknown>;
        // The failed update recorded what the args asked (v3.0.0): the pin keeps that intent.
        assert.deepEqual(pins, { "swarm-app": { version: "v2.0.0", digest: images["v2.0.0"].digest, update: good.update, asked: { version: "v3.0.0" } } });
        assert.deepEqual(await settled(images["v2.0.0"].digest), [images["v2.0.0"].digest, images["v2.0.0"].digest]);
        await stack.remove("pins");
        await stack.set({ version: "v2.0.0" });
    });

    it("refuses a deleted pinned digest in preview and update, naming it, and leaves every task alone", async () => {
        await refusesDeletedTarget(env, stack, "swarm-app", images["v1.5.0"], tasks, "v2.0.0");
    });

    it("a mode change replaces the service, the old one removed first (Swarm cannot change a service's mode)", async () => {
        const mode = async (): Promise<string> =>
            (await env.docker.docker(["service", "inspect", "--format", "{{if .Spec.Mode.Global}}global{{else}}replicated {{.Spec.Mode.Replicated.Replicas}}{{end}}", "swarm-app"])).trim();
        assert.equal(await mode(), "replicated 2");
        await stack.remove("replicas", "progressDeadlineSeconds");
        await stack.set({ mode: "global" });
        const up = succeeded(await stack.up("--json", "--message", "global"), "up in global mode");
        assert.deepEqual(stepsOf(up.stdout, "docker:index/service:Service"), ["delete-replaced", "replace", "create-replacement"]);
        assert.equal(await mode(), "global");
        const deadline = Date.now() + 60_000;
        while ((await tasks()).length !== 1 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 500));
        }
        assert.deepEqual(await tasks(), [images["v2.0.0"].digest], "one task on the suite's one node, on v2's digest");
    });

    after(async () => {
        succeeded(await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "onswarm"]), "pulumi destroy");
        assert.equal((await env.docker.docker(["service", "ls", "--quiet", "--filter", "name=swarm-app"])).trim(), "", "destroy removed the service");
    });
});

describe("workload compose: a Compose file pinning the service, run by docker compose", function () {
    let env: Environment;
    let stack: Stack;
    let dir: string;
    let pinned: string;
    const images: Record<string, PushedImage> = {};
    const compose = (...args: string[]): Promise<string> => env.docker.docker(["compose", "-f", "compose.yaml", "-f", pinned, "-p", "shop", ...args], { cwd: dir });
    const written = (): { services: Record<string, { image: string }> } => JSON.parse(fs.readFileSync(pinned, "utf8")) as { services: Record<string, { image: string }> };
    /** What a refused update must leave alone: the pinned file, and the digest compose runs. */
    const runs = async (): Promise<[string, string]> => [fs.readFileSync(pinned, "utf8"), await env.docker.containerDigest("shop-web-1")];

    before(async function () {
        this.timeout(600_000);
        env = environment();
        for (const version of ["v1.0.0", "v1.5.0", "v2.0.0"]) {
            images[version] = await env.docker.pushImage("compose-app", version, { content: `compose-app ${version}\n` });
        }
        dir = path.join(env.scratch, "compose-project");
        fs.mkdirSync(dir);
        pinned = path.join(dir, "compose.released.yaml");
        // The team's own Compose file: everything but the image, which the pinned file decides.
        fs.writeFileSync(path.join(dir, "compose.yaml"), `services:\n  web:\n    image: ${images["v1.0.0"].repository}:v1.0.0\n    network_mode: none\n`);
        stack = new Stack(env, "oncompose");
        await stack.init({ workload: "compose", image: images["v1.0.0"].repository, name: "web", build: "false", version: "v1.0.0", composeFile: pinned });
        succeeded(await stack.up("--message", "v1.0.0"), "up v1.0.0");
    });

    it("writes the service pinned by digest, and docker compose up -d runs exactly that digest", async () => {
        assert.equal(written().services.web.image, images["v1.0.0"].ref);
        await compose("config", "--quiet");
        await compose("up", "-d");
        assert.equal(await env.docker.containerDigest("shop-web-1"), images["v1.0.0"].digest);
    });

    it("a new version and a rollback by config rewrite the file, with nothing pushed; compose runs each", async () => {
        succeeded((await deploy(env, stack, "v2.0.0")).result, "up v2.0.0");
        assert.equal(written().services.web.image, images["v2.0.0"].ref);
        await compose("up", "-d");
        assert.equal(await env.docker.containerDigest("shop-web-1"), images["v2.0.0"].digest);
        const back = await deploy(env, stack, "v1.0.0");
        succeeded(back.result, "rollback to v1.0.0");
        assert.equal(back.writes, 0, "nothing was pushed");
        assert.equal(written().services.web.image, images["v1.0.0"].ref);
        await compose("up", "-d");
        assert.equal(await env.docker.containerDigest("shop-web-1"), images["v1.0.0"].digest);
        const status = await env.cli(["status", "--json", "--stack", "oncompose", "--cwd", env.project]);
        assert.equal(status.code, 0, status.stdout + status.stderr);
    });

    it("refuses an unknown version in preview, naming it, and leaves the file and the container alone", async () => {
        await refusesUnknownVersion(stack, images["v1.0.0"].repository, runs, "v1.0.0");
    });

    it("history, status and drill: the drill reruns docker compose as it was started, each phase on its exact digest", async () => {
        const rows = JSON.parse((await env.cli(["history", "--json", "--stack", "oncompose", "--cwd", env.project])).stdout) as { version: string; digest: string }[];
        assert.deepEqual(rows.slice(0, 3).map((row) => [row.version, row.digest]), [
            ["v1.0.0", images["v1.0.0"].digest],
            ["v2.0.0", images["v2.0.0"].digest],
            ["v1.0.0", images["v1.0.0"].digest],
        ]);
        const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", "oncompose", "--cwd", env.project]);
        assert.deepEqual(await drill(cli), [
            ["rollback", "passed", images["v2.0.0"].digest],
            ["roll forward", "passed", images["v1.0.0"].digest],
        ]);
        assert.equal(written().services.web.image, images["v1.0.0"].ref);
        assert.equal(await env.docker.containerDigest("shop-web-1"), images["v1.0.0"].digest);
    });

    it("refuses a deleted pinned digest in preview and update, naming it, and leaves the file and the container alone", async () => {
        await refusesDeletedTarget(env, stack, "compose-app", images["v1.5.0"], runs, "v1.0.0");
    });

    after(async () => {
        await compose("down").catch(() => "");
        await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "oncompose"]);
    });
});
