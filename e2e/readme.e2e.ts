// The README's "Using the component in your own program" as a user runs it: its own code blocks,
// taken from README.md, run in an empty directory beside a fresh clone of this checkout (no
// node_modules, no dist/), on the machine the quickstart set up: a registry on localhost:5000 (here
// also BuildKit's mirror of Docker Hub, serving app/'s base image), the `released-service` builder,
// a cluster as the current kube context.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { QUICKSTART_REGISTRY, REPO_ROOT, type Environment } from "./support/environment";
import { pushBaseImage } from "./support/baseImage";
import { readmeBlocks, readmeScript } from "./support/readme";
import { userBuilder, userEnv, userHome } from "./support/userMachine";
import { startRegistry, type TestRegistry } from "../tests/support/registryServer";

const SECTION = "own program";

describe("readme: own program, from an empty directory", function () {
    let env: Environment;
    let registry: TestRegistry;
    let dir: string;
    let machine: NodeJS.ProcessEnv;

    before(async () => {
        env = environment();
        dir = path.join(env.scratch, "readme-own-program");
        fs.mkdirSync(dir);
        registry = await startRegistry({ port: Number(QUICKSTART_REGISTRY.split(":")[1]) });
        await pushBaseImage(dir);
        // The user answers `pulumi stack init`'s passphrase question with the variable, as the README says.
        machine = { ...userEnv(env, userHome(env, path.join(dir, "home"), true), path.join(dir, "state")), PULUMI_CONFIG_PASSPHRASE: "the shop's passphrase" };
        await userBuilder(env, machine, dir);
        execFileSync("git", ["clone", "--quiet", REPO_ROOT, path.join(dir, "released-service")]);
    });

    it("installs this checkout as the README says, with one copy of the Pulumi SDK, and `pulumi up` runs the service by digest", async () => {
        const blocks = readmeBlocks(fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"), SECTION);
        assert.deepEqual(
            blocks.map((block) => block.what),
            ["run", "Pulumi.yaml", "index.ts", "run"],
            "the README marks the section's blocks",
        );
        const result = await env.run("bash", ["-c", readmeScript(blocks)], { cwd: dir, replaceEnv: machine });
        assert.equal(result.code, 0, `the README's commands failed (exit ${result.code}):\n${result.stdout}\n${result.stderr}`);

        const shop = path.join(dir, "shop");
        const installed = path.join(shop, "node_modules", "released-service");
        assert.ok(!fs.lstatSync(installed).isSymbolicLink(), "npm copied the package, not a link to the clone");
        assert.ok(!fs.existsSync(path.join(installed, "dist")), "nothing was built: the clone has no dist/");
        const sdks = execFileSync("find", [path.join(shop, "node_modules"), "-path", "*/@pulumi/pulumi/package.json"], { encoding: "utf8" }).trim().split("\n");
        assert.deepEqual(sdks, [path.join(shop, "node_modules", "@pulumi", "pulumi", "package.json")], "one copy of @pulumi/pulumi");

        const version = fs.readFileSync(path.join(shop, "api", "VERSION"), "utf8").trim();
        const tag = await fetch(`http://${QUICKSTART_REGISTRY}/v2/shop-api/manifests/${version}`, {
            method: "HEAD",
            headers: { Accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json" },
        });
        const digest = tag.headers.get("docker-content-digest");
        assert.ok(tag.status === 200 && digest, `the update pushed ${QUICKSTART_REGISTRY}/shop-api:${version}`);
        const outputs = await env.run("pulumi", ["stack", "output", "--json", "--stack", "dev"], { cwd: shop, replaceEnv: machine });
        assert.deepEqual(JSON.parse(outputs.stdout), { apiImage: `${QUICKSTART_REGISTRY}/shop-api@${digest}` });
        const deployments = JSON.parse(await env.kubectl(["get", "deployments", "-l", "app.kubernetes.io/name=api", "-o", "json"])) as {
            items: { spec: { template: { spec: { containers: { image: string }[] } } } }[];
        };
        assert.deepEqual(
            deployments.items.map((item) => item.spec.template.spec.containers[0].image).filter((image) => image.startsWith(`${QUICKSTART_REGISTRY}/shop-api@`)),
            [`${QUICKSTART_REGISTRY}/shop-api@${digest}`],
        );
    });

    after(async () => {
        if (machine && fs.existsSync(path.join(dir, "shop", "Pulumi.yaml"))) {
            await env.run("pulumi", ["destroy", "--yes", "--non-interactive", "--stack", "dev"], { cwd: path.join(dir, "shop"), replaceEnv: machine });
        }
        await registry?.stop();
    });
});
