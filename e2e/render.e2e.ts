// The no-cluster path under the real engine and the real kubernetes provider: with
// `kubernetes:renderYamlToDirectory` the stack writes its manifests instead of applying them, the
// Deployment names `<image>@sha256:…`, and a rollback by config rewrites it to the earlier digest.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import type { Environment, Result } from "./support/environment";
import { NAMESPACE, succeeded } from "./support/project";

const NAME = "render-app";
const STACK = "render";

describe("no cluster: manifests rendered into a directory, pinned by digest", function () {
    let env: Environment;
    let image: string;
    let rendered: string;
    const digests: Record<string, string> = {};
    /** Every pulumi run of this stack has no kube context at all: nothing could be applied. */
    const pulumi = (...args: string[]): Promise<Result> => env.run(path.join(env.pulumiBin, "pulumi"), args, { without: ["KUBECONFIG"] });
    const up = async (what: string): Promise<void> => {
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK), what);
    };
    const set = async (key: string, value: string): Promise<void> => {
        succeeded(await pulumi("config", "set", "--stack", STACK, key, "--", value), `pulumi config set ${key}`);
    };

    /** The container images of every Deployment rendered, by file name. */
    function renderedDeployments(): Record<string, string[]> {
        const found: Record<string, string[]> = {};
        const walk = (dir: string): void => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                const file = path.join(dir, entry.name);
                if (entry.isDirectory()) {
                    walk(file);
                } else if (/^kind: Deployment$/m.test(fs.readFileSync(file, "utf8"))) {
                    found[path.relative(rendered, file)] = [...fs.readFileSync(file, "utf8").matchAll(/^\s+(?:- )?image: (.+)$/gm)].map((m) => m[1].replace(/^["']|["']$/g, ""));
                }
            }
        };
        walk(rendered);
        return found;
    }

    async function clusterDeployments(): Promise<string[]> {
        const list = JSON.parse(await env.kubectl(["get", "deployments", "--all-namespaces", "-l", `app.kubernetes.io/name=${NAME}`, "-o", "json"])) as {
            items: unknown[];
        };
        return list.items.map((item) => JSON.stringify(item));
    }

    before(async () => {
        env = environment();
        image = `${env.registry.host}/render-api`;
        digests.v1 = await env.registry.push("render-api", "v1.0.0");
        digests.v2 = await env.registry.push("render-api", "v2.0.0");
        rendered = path.join(env.scratch, "rendered");
        succeeded(await pulumi("stack", "init", STACK, "--non-interactive"), "pulumi stack init");
        for (const [key, value] of Object.entries({ image, name: NAME, version: "v1.0.0", build: "false" })) {
            await set(`${NAMESPACE}:${key}`, value);
        }
        await set("kubernetes:renderYamlToDirectory", rendered);
    });

    it("writes a Deployment naming <image>@sha256:…, and a rollback by config rewrites it to the earlier digest; nothing reaches the cluster", async () => {
        await up("up v1.0.0");
        const [file] = Object.keys(renderedDeployments());
        assert.ok(file, `a Deployment manifest in ${rendered}`);
        assert.deepEqual(renderedDeployments(), { [file]: [`${image}@${digests.v1}`] });

        await set(`${NAMESPACE}:version`, "v2.0.0");
        await up("up v2.0.0");
        assert.deepEqual(renderedDeployments(), { [file]: [`${image}@${digests.v2}`] });

        await set(`${NAMESPACE}:version`, "v1.0.0");
        await up("rollback to v1.0.0");
        assert.deepEqual(renderedDeployments(), { [file]: [`${image}@${digests.v1}`] });
        const outputs = JSON.parse(succeeded(await pulumi("stack", "output", "--json", "--stack", STACK), "pulumi stack output").stdout) as Record<string, unknown>;
        assert.equal(outputs.imageRef, `${image}@${digests.v1}`);
        assert.deepEqual(await clusterDeployments(), [], "nothing was applied to the cluster");
    });

    it("while npm run up's render copy exists, a plain preview and the command's rollback and status refuse in one line; nothing changes", async () => {
        // As scripts/up leaves it: the setting only in the render copy, the stack's own config without it.
        const copy = path.join(env.project, ".pulumi", `Pulumi.${STACK}.rendered.yaml`);
        fs.mkdirSync(path.dirname(copy), { recursive: true });
        fs.copyFileSync(path.join(env.project, "stacks", `Pulumi.${STACK}.yaml`), copy);
        succeeded(await pulumi("config", "rm", "--stack", STACK, "kubernetes:renderYamlToDirectory"), "pulumi config rm kubernetes:renderYamlToDirectory");
        try {
            const before = renderedDeployments();
            const config = fs.readFileSync(path.join(env.project, "stacks", `Pulumi.${STACK}.yaml`), "utf8");
            const preview = await pulumi("preview", "--non-interactive", "--stack", STACK);
            assert.notEqual(preview.code, 0, preview.stdout);
            assert.match(
                preview.stdout + preview.stderr,
                new RegExp(`stack ${STACK} renders its manifests instead of applying them \\(npm run up found no cluster; \\.pulumi/Pulumi\\.${STACK}\\.rendered\\.yaml\\), and this run would apply them to a cluster, replacing the rendered Deployment and Service: run \`npm run up\``),
            );
            const rollback = await env.cli(["rollback", "--to", "2", "--stack", STACK, "--yes"], { without: ["KUBECONFIG"] });
            assert.equal(rollback.code, 3, rollback.stdout + rollback.stderr);
            assert.equal(
                rollback.stderr,
                `error: stack ${STACK} renders its manifests instead of applying them because npm run up found no cluster (.pulumi/Pulumi.${STACK}.rendered.yaml says so), and rollback would apply them to a cluster, replacing the rendered Deployment and Service: roll back with \`pulumi config set version <earlier version> --stack ${STACK}\` then \`npm run up\`, which renders the manifests again\n`,
            );
            const status = await env.cli(["status", "--stack", STACK], { without: ["KUBECONFIG"] });
            assert.equal(status.code, 3, status.stdout + status.stderr);
            assert.match(status.stderr, /status reads what runs in a cluster/);
            assert.deepEqual(renderedDeployments(), before);
            assert.equal(fs.readFileSync(path.join(env.project, "stacks", `Pulumi.${STACK}.yaml`), "utf8"), config);
            const history = JSON.parse(succeeded(await pulumi("stack", "history", "--json", "--stack", STACK), "pulumi stack history").stdout) as unknown[];
            assert.equal(history.length, 3, "no update was started");
        } finally {
            fs.rmSync(copy);
        }
    });

    after(async () => {
        await pulumi("destroy", "--yes", "--non-interactive", "--stack", STACK);
    });
});
