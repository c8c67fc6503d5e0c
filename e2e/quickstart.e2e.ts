// The README's quickstart as a user runs it, in the README's order, with a cluster and without one:
// a fresh clone, `npm run up` then `npm test`, a second release, a rollback by config with `npm run
// up` again. The user's machine is what the README asks for: pulumi and kubectl on PATH, the Docker
// CLI with buildx, a registry on localhost:5000, a cluster as the current kube context (or none),
// and the `released-service` builder (here a remote builder on the suite's BuildKit: Docker Hub
// cannot be reached, so a docker-container builder could not start). Nothing else of the suite's
// environment leaks in: no passphrase, no KUBECONFIG, no DOCKER_CONFIG.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { QUICKSTART_REGISTRY, REPO_ROOT, type Environment, type Result } from "./support/environment";
import { startRegistry, type TestRegistry } from "../tests/support/registryServer";
import { pushBaseImage } from "./support/baseImage";
import { readmeBlocks, readmeCommands } from "./support/readme";
import { ShellSession } from "./support/shell";
import { userBuilder, userEnv, userHome } from "./support/userMachine";

const IMAGE = `${QUICKSTART_REGISTRY}/payment-api`;
const SELECTOR = "app.kubernetes.io/name=app";

describe("quickstart: the README's commands on a fresh clone, as written", function () {
    let env: Environment;
    let registry: TestRegistry;
    let quickstart: string;

    const user = (home: string, state: string): NodeJS.ProcessEnv => userEnv(env, home, state);
    const home = (name: string, withCluster: boolean): string => userHome(env, path.join(quickstart, name), withCluster);

    function ok(result: Result, what: string): Result {
        assert.equal(result.code, 0, `${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
        return result;
    }

    const builder = (userEnvironment: NodeJS.ProcessEnv): Promise<void> => userBuilder(env, userEnvironment, quickstart);

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

    /**
     * The Deployment of the quickstart's stack: the one whose container runs payment-api, with its
     * generation, which only a change of its spec moves (its status, which the controllers keep
     * writing after a rollout, moves the resourceVersion too).
     */
    async function deployment(): Promise<{ image: string; generation: number }[]> {
        const list = JSON.parse(await env.kubectl(["get", "deployments", "-l", SELECTOR, "-o", "json"])) as {
            items: { metadata: { generation: number }; spec: { template: { spec: { containers: { image: string }[] } } } }[];
        };
        return list.items
            .map((item) => ({ image: item.spec.template.spec.containers[0].image, generation: item.metadata.generation }))
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

    /** The README's quickstart command lines, the clone's placeholder naming this checkout. */
    function quickstartCommands(): string[] {
        const commands = readmeCommands(readmeBlocks(fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"), "quickstart"));
        assert.deepEqual(
            commands.map((line) => line.split("#")[0].trim()),
            [
                "git clone <this repository> released-service && cd released-service",
                "export PULUMI_CONFIG_PASSPHRASE=",
                "npm run up",
                "npm test",
                "echo v0.2.0 > app/VERSION",
                "pulumi config set version v0.2.0 --stack dev",
                "npm run up",
                "pulumi config set version v0.1.0 --stack dev",
                "npm run up",
            ],
            "the README's quickstart, as this scenario follows it",
        );
        return commands.map((line) => line.replace("<this repository>", REPO_ROOT));
    }

    it("the README's commands: npm run up deploys, npm test passes, a second release, a rollback by config that builds nothing", async () => {
        const machine = user(home("home", true), path.join(quickstart, "state"));
        await builder(machine);
        const shell = new ShellSession(env, machine, quickstart, quickstart);
        const [clone, passphrase, first, test, bump, second, deploySecond, back, rollback] = quickstartCommands();
        const step = async (line: string): Promise<Result> => ok(await shell.run(line), line);

        await step(clone);
        await step(passphrase);
        const up = await step(first);
        const v1 = await digestOf("v0.1.0");
        assert.ok(v1, `npm run up pushed ${IMAGE}:v0.1.0:\n${up.stdout}`);
        assert.deepEqual(await deployment().then((d) => d.map((x) => x.image)), [`${IMAGE}@${v1}`]);
        assert.deepEqual(await pods(v1), [v1]);

        const tests = await step(test);
        assert.match(tests.stdout, /\d+ passing/);
        assert.doesNotMatch(tests.stdout, /\d+ (failing|pending)/);

        // A second release: new source under a new version, deployed the same way.
        await step(bump);
        await step(second);
        await step(deploySecond);
        const v2 = await digestOf("v0.2.0");
        assert.ok(v2 && v2 !== v1, "v0.2.0 was built and pushed");
        assert.deepEqual(await pods(v2), [v2]);

        // The rollback as the README writes it: an earlier version in the config, and npm run up again.
        const stored = manifests();
        await step(back);
        const rolledBack = await step(rollback);
        assert.deepEqual(manifests(), stored, `the rollback pushed nothing:\n${rolledBack.stdout}`);
        assert.deepEqual([await digestOf("v0.1.0"), await digestOf("v0.2.0")], [v1, v2], "both releases keep their digests");
        assert.deepEqual(await deployment().then((d) => d.map((x) => x.image)), [`${IMAGE}@${v1}`]);
        assert.deepEqual(await pods(v1), [v1]);
        // The README's direct pulumi commands work in the same shell: the passphrase is exported.
        const outputs = JSON.parse((await step("pulumi stack output --json --stack dev")).stdout) as Record<string, unknown>;
        assert.deepEqual([outputs.imageRef, outputs.built], [`${IMAGE}@${v1}`, false]);
        const history = await step("npx released-service history --stack dev --json");
        assert.deepEqual(
            (JSON.parse(history.stdout) as { update: number; version: string }[]).map((row) => [row.update, row.version]),
            [
                [3, "v0.1.0"],
                [2, "v0.2.0"],
                [1, "v0.1.0"],
            ],
        );
    });

    it("with no cluster: the manifests are rendered, a rollback rewrites them under the same names, and what needs a cluster refuses in one line", async () => {
        const before = await deployment();
        const noCluster = user(home("home-without-cluster", false), path.join(quickstart, "state-without-cluster"));
        await builder(noCluster);
        const shell = new ShellSession(env, noCluster, quickstart, path.join(quickstart, "home-without-cluster"));
        const [clone, passphrase, first, test, bump, second, deploySecond, back, rollback] = quickstartCommands().map((line) =>
            line.replace(/ released-service\b/g, " released-service-without-cluster"),
        );
        const step = async (line: string): Promise<Result> => ok(await shell.run(line), line);
        await step(clone);
        await step(passphrase);
        const elsewhere = shell.directory;
        const rendered = await step(first);
        assert.match(rendered.stdout, /npm run up: .* rendering the manifests into rendered\/ instead of applying them \(nothing is deployed\)\n/);
        const manifestsDir = path.join(elsewhere, "rendered", "1-manifest");
        const renderedFiles = (): string[] => fs.readdirSync(manifestsDir).sort();
        const deploymentFile = renderedFiles().find((file) => file.startsWith("apps_v1-deployment-"));
        assert.ok(deploymentFile, `a Deployment in ${manifestsDir}: ${renderedFiles().join(", ")}`);
        const v1 = await digestOf("v0.1.0");
        const imageIn = (): string => fs.readFileSync(path.join(manifestsDir, deploymentFile), "utf8");
        assert.match(imageIn(), new RegExp(`image: "?${IMAGE}@${v1}"?\\n`));
        const files = renderedFiles();

        // The README's next command: the tests pass beside what npm run up left (the render copy, rendered/, the stack).
        const tests = await step(test);
        assert.match(tests.stdout, /\d+ passing/);
        assert.doesNotMatch(tests.stdout, /\d+ (failing|pending)/);

        // The README's release and rollback, rendered: the same files, the earlier digest.
        for (const line of [bump, second, deploySecond]) {
            await step(line);
        }
        const v2 = await digestOf("v0.2.0");
        assert.match(imageIn(), new RegExp(`image: "?${IMAGE}@${v2}"?\\n`));
        await step(back);
        await step(rollback);
        assert.match(imageIn(), new RegExp(`image: "?${IMAGE}@${v1}"?\\n`));
        assert.deepEqual(renderedFiles(), files, "nothing was renamed");

        // What would apply to a cluster, or read from one, refuses in one line and changes nothing.
        const config = fs.readFileSync(path.join(elsewhere, "stacks", "Pulumi.dev.yaml"), "utf8");
        const refusals: [string, RegExp][] = [
            ["pulumi preview --stack dev", /stack dev renders its manifests instead of applying them \(npm run up found no cluster; \.pulumi\/Pulumi\.dev\.rendered\.yaml\), and this run would apply them to a cluster/],
            ["npx released-service rollback --to 2 --stack dev --yes", /^error: stack dev renders its manifests instead of applying them .*: roll back with `pulumi config set version <earlier version> --stack dev` then `npm run up`/],
            ["npx released-service status --stack dev", /^error: stack dev renders its manifests instead of applying them .*status reads what runs in a cluster/],
        ];
        for (const [line, message] of refusals) {
            const refused = await shell.run(line);
            assert.notEqual(refused.code, 0, `${line} refused:\n${refused.stdout}`);
            assert.match(refused.stdout + refused.stderr, message, line);
        }
        assert.equal(fs.readFileSync(path.join(elsewhere, "stacks", "Pulumi.dev.yaml"), "utf8"), config, "the refusals changed no config");
        assert.match(imageIn(), new RegExp(`image: "?${IMAGE}@${v1}"?\\n`));
        const history = JSON.parse((await step("npx released-service history --stack dev --json")).stdout) as { update: number; result: string }[];
        assert.deepEqual(
            history.map((row) => [row.update, row.result]),
            [
                [3, "succeeded"],
                [2, "succeeded"],
                [1, "succeeded"],
            ],
            "no update was started by a refused command",
        );
        assert.deepEqual(await deployment(), before, "nothing was applied to the cluster");
        assert.equal(execFileSync("git", ["-C", elsewhere, "status", "--porcelain"], { encoding: "utf8" }), " M app/VERSION\n", "only the README's own edit changed a tracked file");
    });

    after(async () => {
        await registry?.stop();
    });
});
