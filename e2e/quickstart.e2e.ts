// The README's quickstart as a user runs it: a fresh clone, `npm run up` then `npm test`, a second
// release, a rollback by config with `npm run up` again, and the no-cluster path. The user's machine
// is what the README asks for: pulumi and kubectl on PATH, the Docker CLI with buildx, a registry on
// localhost:5000, a cluster as the current kube context, and the `released-service` builder
// (here a remote builder on the suite's BuildKit: Docker Hub cannot be reached, so a
// docker-container builder could not start). Nothing else of the suite's environment leaks in:
// no passphrase, no KUBECONFIG, no DOCKER_CONFIG.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { QUICKSTART_REGISTRY, REPO_ROOT, type Environment, type Result } from "./support/environment";
import { startRegistry, type TestRegistry } from "../tests/support/registryServer";
import { pushBaseImage } from "./support/baseImage";
import { userBuilder, userEnv, userHome } from "./support/userMachine";

const IMAGE = `${QUICKSTART_REGISTRY}/payment-api`;
const SELECTOR = "app.kubernetes.io/name=app";

describe("quickstart: the README's commands on a fresh clone", function () {
    let env: Environment;
    let registry: TestRegistry;
    let quickstart: string;

    const user = (home: string, state: string): NodeJS.ProcessEnv => userEnv(env, home, state);
    const home = (name: string, withCluster: boolean): string => userHome(env, path.join(quickstart, name), withCluster);

    const run = (userEnv: NodeJS.ProcessEnv, cwd: string, command: string, ...args: string[]): Promise<Result> =>
        env.run(command, args, { cwd, replaceEnv: userEnv });

    function ok(result: Result, what: string): Result {
        assert.equal(result.code, 0, `${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
        return result;
    }

    const builder = (userEnvironment: NodeJS.ProcessEnv): Promise<void> => userBuilder(env, userEnvironment, quickstart);

    function clone(name: string): string {
        const dir = path.join(quickstart, name);
        execFileSync("git", ["clone", "--quiet", REPO_ROOT, dir]);
        return dir;
    }

    /** What the registry holds for a tag. */
    async function digestOf(tag: string): Promise<string | undefined> {
        const response = await fetch(`http://${QUICKSTART_REGISTRY}/v2/payment-api/manifests/${tag}`, {
            method: "HEAD",
            headers: { Accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json" },
        });
        return response.status === 200 ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
    }

    /** Every manifest the registry has ever stored for payment-api: a build adds at least one. */
    function manifests(): string[] {
        const dir = path.join(registry.storage, "docker", "registry", "v2", "repositories", "payment-api", "_manifests", "revisions", "sha256");
        return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
    }

    /** The Deployment of the quickstart's stack: the one whose container runs payment-api. */
    async function deployment(): Promise<{ image: string; resourceVersion: string }[]> {
        const list = JSON.parse(await env.kubectl(["get", "deployments", "-l", SELECTOR, "-o", "json"])) as {
            items: { metadata: { resourceVersion: string }; spec: { template: { spec: { containers: { image: string }[] } } } }[];
        };
        return list.items
            .map((item) => ({ image: item.spec.template.spec.containers[0].image, resourceVersion: item.metadata.resourceVersion }))
            .filter((item) => item.image.startsWith(`${IMAGE}@`));
    }

    /** The digests payment-api's pods run, once all run `expected`, or as they are after a minute. */
    async function pods(expected: string): Promise<string[]> {
        const read = async (): Promise<string[]> => {
            const list = JSON.parse(await env.kubectl(["get", "pods", "-l", SELECTOR, "-o", "json"])) as {
                items: { metadata: { deletionTimestamp?: string }; status?: { containerStatuses?: { image: string; imageID?: string }[] } }[];
            };
            return list.items
                .filter((pod) => pod.metadata.deletionTimestamp === undefined)
                .map((pod) => pod.status?.containerStatuses?.[0])
                .filter((status) => status?.image.startsWith(`${IMAGE}@`))
                .map((status) => status?.imageID?.slice(status.imageID.lastIndexOf("@") + 1) ?? "(none)");
        };
        const deadline = Date.now() + 60_000;
        let digests = await read();
        while ((digests.length === 0 || digests.some((d) => d !== expected)) && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 250));
            digests = await read();
        }
        return digests;
    }

    before(async () => {
        env = environment();
        quickstart = path.join(env.scratch, "quickstart");
        fs.mkdirSync(quickstart);
        registry = await startRegistry({ port: Number(QUICKSTART_REGISTRY.split(":")[1]) });
        await pushBaseImage(quickstart);
    });

    it("npm run up deploys, npm test passes, a rollback by config builds nothing, and with no cluster the manifests are rendered", async () => {
        const machine = user(home("home", true), path.join(quickstart, "state"));
        await builder(machine);

        const checkout = clone("released-service");
        const first = ok(await run(machine, checkout, "npm", "run", "up"), "npm run up");
        const v1 = await digestOf("v0.1.0");
        assert.ok(v1, `npm run up pushed ${IMAGE}:v0.1.0:\n${first.stdout}`);
        assert.deepEqual(await deployment().then((d) => d.map((x) => x.image)), [`${IMAGE}@${v1}`]);
        assert.deepEqual(await pods(v1), [v1]);

        const tests = ok(await run(machine, checkout, "npm", "test"), "npm test");
        assert.match(tests.stdout, /\d+ passing/);
        assert.doesNotMatch(tests.stdout, /\d+ (failing|pending)/);

        // A second release: new source under a new version, deployed the same way.
        fs.writeFileSync(path.join(checkout, "app", "VERSION"), "v0.2.0\n");
        ok(await run(machine, checkout, "pulumi", "config", "set", "version", "v0.2.0", "--stack", "dev"), "pulumi config set version v0.2.0");
        ok(await run(machine, checkout, "npm", "run", "up"), "npm run up of v0.2.0");
        const v2 = await digestOf("v0.2.0");
        assert.ok(v2 && v2 !== v1, "v0.2.0 was built and pushed");
        assert.deepEqual(await pods(v2), [v2]);

        // The rollback as the README writes it: an earlier version in the config, and npm run up again.
        const stored = manifests();
        ok(await run(machine, checkout, "pulumi", "config", "set", "version", "v0.1.0", "--stack", "dev"), "pulumi config set version v0.1.0");
        const rollback = ok(await run(machine, checkout, "npm", "run", "up"), "npm run up of the rollback");
        assert.deepEqual(manifests(), stored, `the rollback pushed nothing:\n${rollback.stdout}`);
        assert.deepEqual([await digestOf("v0.1.0"), await digestOf("v0.2.0")], [v1, v2], "both releases keep their digests");
        assert.deepEqual(await deployment().then((d) => d.map((x) => x.image)), [`${IMAGE}@${v1}`]);
        assert.deepEqual(await pods(v1), [v1]);
        const outputs = JSON.parse(ok(await run(machine, checkout, "pulumi", "stack", "output", "--json", "--stack", "dev"), "pulumi stack output").stdout) as Record<string, unknown>;
        assert.deepEqual([outputs.imageRef, outputs.built], [`${IMAGE}@${v1}`, false]);

        // The no-cluster path: another user, no kube context at all, a fresh clone; nothing is applied.
        const before = await deployment();
        const noCluster = user(home("home-without-cluster", false), path.join(quickstart, "state-without-cluster"));
        await builder(noCluster);
        const elsewhere = clone("released-service-without-cluster");
        const rendered = ok(await run(noCluster, elsewhere, "npm", "run", "up"), "npm run up without a cluster");
        assert.match(rendered.stdout, /npm run up: .* rendering the manifests into rendered\/ instead of applying them \(nothing is deployed\)\n/);
        const manifestsDir = path.join(elsewhere, "rendered", "1-manifest");
        const deploymentFile = fs.readdirSync(manifestsDir).find((file) => file.startsWith("apps_v1-deployment-"));
        assert.ok(deploymentFile, `a Deployment in ${manifestsDir}: ${fs.readdirSync(manifestsDir).join(", ")}`);
        assert.match(fs.readFileSync(path.join(manifestsDir, deploymentFile), "utf8"), new RegExp(`image: "?${IMAGE}@${v1}"?\\n`));
        assert.deepEqual(await deployment(), before, "nothing was applied to the cluster");
        assert.equal(execFileSync("git", ["-C", elsewhere, "status", "--porcelain"], { encoding: "utf8" }), "", "the clone's tracked files are unchanged");
    });

    after(async () => {
        await registry?.stop();
    });
});
