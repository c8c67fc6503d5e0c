// The README's "Using the component in your own program" as a user runs it, with a cluster and
// without one: its own code blocks, taken from README.md, run in an empty directory beside a fresh
// clone of this checkout (no node_modules, no dist/), on the machine the quickstart set up: a
// registry on localhost:5000 (here also BuildKit's mirror of Docker Hub, serving app/'s base
// image), the `released-service` builder, and a cluster as the current kube context, or none.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { QUICKSTART_REGISTRY, REPO_ROOT, type Environment, type Result } from "./support/environment";
import { pushBaseImage } from "./support/baseImage";
import { type ReadmeBlock, readmeBlocks, readmeScript } from "./support/readme";
import { userBuilder, userEnv, userHome } from "./support/userMachine";
import { startRegistry, type TestRegistry } from "../tests/support/registryServer";

const SECTION = "own program";
/** The block only a machine with a cluster runs: the drill waits for pods. */
const WITH_CLUSTER = "with a cluster";

/** The section's blocks: those before the drill, the drill's command line, those after it. */
function sectionParts(): { before: ReadmeBlock[]; drill: string; after: ReadmeBlock[] } {
    const blocks = readmeBlocks(fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"), SECTION);
    assert.deepEqual(
        blocks.map((block) => block.what),
        ["run", "Pulumi.yaml", "index.ts", "run", WITH_CLUSTER, "run"],
        "the README marks the section's blocks",
    );
    const at = blocks.findIndex((block) => block.what === WITH_CLUSTER);
    return { before: blocks.slice(0, at), drill: blocks[at].text, after: blocks.slice(at + 1) };
}

/** What a tag of the quickstart's registry names, if it is there. */
async function digestOf(repository: string, tag: string): Promise<string | undefined> {
    const response = await fetch(`http://${QUICKSTART_REGISTRY}/v2/${repository}/manifests/${tag}`, {
        method: "HEAD",
        headers: { Accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
    });
    return response.status === 200 ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
}

for (const withCluster of [true, false]) {
    describe(`readme: own program, from an empty directory, ${withCluster ? "with a cluster" : "without a cluster"}`, function () {
        let env: Environment;
        let registry: TestRegistry;
        let dir: string;
        let shop: string;
        let machine: NodeJS.ProcessEnv;
        const digests: Record<string, string> = {};

        const ok = (result: Result, what: string): Result => {
            assert.equal(result.code, 0, `${what} failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);
            return result;
        };
        const sh = (script: string, cwd: string): Promise<Result> => env.run("bash", ["-c", script], { cwd, replaceEnv: machine });

        /** The image each service's Deployment (the API's, the user's own worker's) runs: from the cluster, or from the manifests rendered into shop/rendered. */
        async function running(): Promise<Record<string, string>> {
            const images: string[] = [];
            if (withCluster) {
                const deployments = JSON.parse(await env.kubectl(["get", "deployments", "-o", "json"])) as { items: { spec: { template: { spec: { containers: { image: string }[] } } } }[] };
                images.push(...deployments.items.map((item) => item.spec.template.spec.containers[0].image));
            } else {
                const manifests = path.join(shop, "rendered", "1-manifest");
                for (const file of fs.readdirSync(manifests).filter((name) => name.startsWith("apps_v1-deployment-"))) {
                    images.push(...[...fs.readFileSync(path.join(manifests, file), "utf8").matchAll(/image: "?(\S+@sha256:[0-9a-f]{64})"?/g)].map((match) => match[1]));
                }
            }
            const ours = images.filter((image) => image.startsWith(`${QUICKSTART_REGISTRY}/shop-`));
            return Object.fromEntries(ours.map((image) => [image.slice(`${QUICKSTART_REGISTRY}/shop-`.length, image.indexOf("@")), image.slice(image.indexOf("@") + 1)]));
        }

        /** The image the user's own CronJob runs: from the cluster, or from its rendered manifest. */
        async function cronJob(): Promise<string> {
            if (withCluster) {
                const list = JSON.parse(await env.kubectl(["get", "cronjobs", "-o", "json"])) as {
                    items: { metadata: { name: string }; spec: { jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } } }[];
                };
                return list.items.filter((item) => item.metadata.name.startsWith("report-")).map((item) => item.spec.jobTemplate.spec.template.spec.containers[0].image).join(" ");
            }
            const manifests = path.join(shop, "rendered", "1-manifest");
            const files = fs.readdirSync(manifests).filter((name) => name.startsWith("batch_v1-cronjob-"));
            return files.map((file) => /image: "?(\S+@sha256:[0-9a-f]{64})"?/.exec(fs.readFileSync(path.join(manifests, file), "utf8"))?.[1]).join(" ");
        }

        async function history(): Promise<[number, string, string | null][]> {
            const listed = ok(await sh("npx released-service history --stack dev --json", shop), "history");
            return (JSON.parse(listed.stdout) as { update: number; service: string; digest: string | null }[]).map((row) => [row.update, row.service, row.digest]);
        }

        before(async () => {
            env = environment();
            dir = path.join(env.scratch, `readme-own-program${withCluster ? "" : "-without-cluster"}`);
            shop = path.join(dir, "shop");
            fs.mkdirSync(dir);
            registry = await startRegistry({ port: Number(QUICKSTART_REGISTRY.split(":")[1]) });
            await pushBaseImage(dir);
            // The user answers `pulumi stack init`'s passphrase question with the variable, as the README says.
            machine = { ...userEnv(env, userHome(env, path.join(dir, "home"), withCluster), path.join(dir, "state")), PULUMI_CONFIG_PASSPHRASE: "the shop's passphrase" };
            await userBuilder(env, machine, dir);
            execFileSync("git", ["clone", "--quiet", REPO_ROOT, path.join(dir, "released-service")]);
        });

        it("installs the package as the README says, builds both services and a second release of the API, each by digest", async () => {
            const { before } = sectionParts();
            ok(await sh(readmeScript(before), dir), "the README's commands");

            const installed = path.join(shop, "node_modules", "released-service");
            assert.ok(!fs.lstatSync(installed).isSymbolicLink(), "npm copied the package, not a link to the clone");
            // npm ran the clone's prepare: the copy is compiled, with the declarations index.ts is checked against.
            for (const file of ["dist/components/index.js", "dist/components/index.d.ts", "dist/source-digest"]) {
                assert.ok(fs.existsSync(path.join(installed, file)), `the copy carries ${file}`);
            }
            const sdks = execFileSync("find", [path.join(shop, "node_modules"), "-path", "*/@pulumi/pulumi/package.json"], { encoding: "utf8" }).trim().split("\n");
            assert.deepEqual(sdks, [path.join(shop, "node_modules", "@pulumi", "pulumi", "package.json")], "one copy of @pulumi/pulumi");

            for (const [name, repository, tag] of [["v1", "shop-api", "v1.0.0"], ["v2", "shop-api", "v1.1.0"], ["worker", "shop-worker", "v1.0.0"]]) {
                const digest = await digestOf(repository, tag);
                assert.ok(digest, `the updates pushed ${repository}:${tag}`);
                digests[name] = digest;
            }
            assert.notEqual(digests.v1, digests.v2);
            const outputs = ok(await env.run("pulumi", ["stack", "output", "--json", "--stack", "dev"], { cwd: shop, replaceEnv: machine }), "stack output");
            assert.deepEqual(JSON.parse(outputs.stdout), { apiImage: `${QUICKSTART_REGISTRY}/shop-api@${digests.v2}` });
            assert.deepEqual(await running(), { api: digests.v2, worker: digests.worker });
            assert.equal(await cronJob(), `${QUICKSTART_REGISTRY}/shop-worker@${digests.worker}`, "the user's own CronJob runs the worker's release by digest");
            assert.equal(fs.existsSync(path.join(shop, "rendered")), !withCluster, "the manifests are rendered only without a cluster");
            assert.deepEqual(await history(), [
                [2, "api", digests.v2],
                [2, "worker", digests.worker],
                [1, "api", digests.v1],
                [1, "worker", digests.worker],
            ]);
        });

        it(withCluster ? "drills a rollback of the API, both directions on their exact digests" : "refuses the drill in one line, starting no update", async () => {
            const { drill } = sectionParts();
            const drilled = await sh(drill, shop);
            if (withCluster) {
                ok(drilled, drill);
                assert.match(drilled.stdout, /Drill of stack dev passed: the rollback to v1\.0\.0 took [\d.]+ s, and both directions landed on their exact digests\.\n/);
                assert.deepEqual(await running(), { api: digests.v2, worker: digests.worker });
            } else {
                assert.equal(drilled.code, 3, drilled.stdout + drilled.stderr);
                assert.equal(
                    drilled.stderr,
                    "error: stack dev renders its Kubernetes manifests into rendered (kubernetes:renderYamlToDirectory) instead of applying them, and the drill waits for pods " +
                        "to run what each update wrote: drill a stack that deploys to a cluster; nothing was changed\n",
                );
                assert.deepEqual((await history()).map(([update]) => update), [2, 2, 1, 1], "no update was started");
            }
        });

        it("rolls the API back to what update 1 ran, the worker left as it runs, then lifts the hold", async () => {
            const { after } = sectionParts();
            const manifests = (): string[] => fs.readdirSync(path.join(registry.storage, "docker", "registry", "v2", "blobs", "sha256")).sort();
            const stored = manifests();
            ok(await sh(readmeScript(after), shop), "the README's rollback");
            assert.deepEqual(manifests(), stored, "the rollback built and pushed nothing");
            assert.deepEqual(await running(), { api: digests.v1, worker: digests.worker });
            assert.equal(await cronJob(), `${QUICKSTART_REGISTRY}/shop-worker@${digests.worker}`);
            const [latest] = await history();
            assert.deepEqual(latest.slice(1), ["api", digests.v1]);
            const config = fs.readFileSync(path.join(shop, "Pulumi.dev.yaml"), "utf8");
            assert.doesNotMatch(config, /released-service:(pins|holds)/, "release-hold lifted the pin and the hold");
        });

        after(async () => {
            if (machine && fs.existsSync(path.join(shop, "Pulumi.yaml"))) {
                await env.run("pulumi", ["destroy", "--yes", "--non-interactive", "--stack", "dev"], { cwd: shop, replaceEnv: machine });
            }
            await registry?.stop();
        });
    });
}
