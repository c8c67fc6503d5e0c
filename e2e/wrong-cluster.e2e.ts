// The wrong cluster, as an operator meets it during an incident: the terminal's kube context is the
// one used last. The command reads each workload where `pulumi up` deploys it (the stack config's
// kubernetes:context), whatever the current context; a stack that names none is read on the current
// one, under whatever name it has there; and when the Deployment it reaches is another object than
// the state records (deleted and re-created, as on another cluster), status, rollback and drill
// refuse in one line and change nothing, until pulumi refresh records it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { freePort } from "../tests/support/registryServer";
import { environment } from "./support/hooks";
import type { Environment, Result } from "./support/environment";
import { settledPodDigests, Stack, succeeded } from "./support/project";

const NAME = "wc-app";
const AMBIENT_NAME = "wc-ambient";
const REPOSITORY = "wc-api";

interface Kubeconfig {
    clusters: { name: string; cluster: { server: string } }[];
    users: { name: string }[];
    contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
    "current-context": string;
}

describe("wrong cluster: the command reads where pulumi up deploys, and refuses another cluster's objects", function () {
    let env: Environment;
    let stack: Stack;
    let ambient: Stack;
    let image: string;
    let staging: string;
    const digests: Record<string, string> = {};
    /** The operator's kubeconfig: the suite's cluster as `e2e` and as `e2e-copy`, and `staging`, whose server does not answer. */
    let operatorKubeconfig: (current: string) => NodeJS.ProcessEnv;
    const cli = (stackName: string, current: string, ...args: string[]): Promise<Result> =>
        env.cli([...args, "--stack", stackName, "--cwd", env.project], { replaceEnv: operatorKubeconfig(current) });

    before(async () => {
        env = environment();
        image = `${env.registry.host}/${REPOSITORY}`;
        digests.v1 = await env.registry.push(REPOSITORY, "v1.0.0");
        digests.v2 = await env.registry.push(REPOSITORY, "v2.0.0");
        staging = `https://127.0.0.1:${await freePort()}`;
        const suite = JSON.parse(fs.readFileSync(env.cluster.kubeconfig, "utf8")) as Kubeconfig;
        const [cluster] = suite.clusters;
        const [user] = suite.users;
        const files = new Map<string, string>();
        operatorKubeconfig = (current) => {
            let file = files.get(current);
            if (file === undefined) {
                file = path.join(env.scratch, `operator-kubeconfig-${current}`);
                const config = {
                    ...suite,
                    clusters: [...suite.clusters, { name: "staging", cluster: { ...cluster.cluster, server: staging } }],
                    contexts: [
                        { name: "e2e", context: { cluster: cluster.name, user: user.name, namespace: "default" } },
                        { name: "e2e-copy", context: { cluster: cluster.name, user: user.name, namespace: "kube-system" } },
                        { name: "staging", context: { cluster: "staging", user: user.name, namespace: "default" } },
                    ],
                    "current-context": current,
                };
                fs.writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
                files.set(current, file);
            }
            return { ...env.env, KUBECONFIG: file };
        };
        stack = new Stack(env, "wc");
        await stack.init({ image, name: NAME, version: "v1.0.0", build: "false" });
        succeeded(await env.pulumi(["config", "set", "--stack", "wc", "kubernetes:context", "e2e"]), "pulumi config set kubernetes:context");
        succeeded(await stack.up("--message", "first release"), "up v1");
        await stack.set({ version: "v2.0.0" });
        succeeded(await stack.up("--message", "second release"), "up v2");
        ambient = new Stack(env, "wc-ambient");
        await ambient.init({ image, name: AMBIENT_NAME, version: "v1.0.0", build: "false" });
        succeeded(await ambient.up("--message", "first release"), "up of the stack that names no context");
    });

    it("status reads the context the stack config names, whatever the operator's current context", async () => {
        const result = await cli("wc", "staging", "status");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /\n {2}read on kube context e2e \(stack config kubernetes:context\)\n/);
        assert.match(result.stdout, new RegExp(`Running +yes +v2\\.0\\.0 +${digests.v2.slice(0, 19)} +ok\n`));
    });

    it("a stack that names no context is read on the current one: the same cluster under another name works, one that does not answer refuses in one line", async () => {
        const copy = await cli("wc-ambient", "e2e-copy", "status", "--json");
        assert.equal(copy.code, 0, copy.stdout + copy.stderr);
        const before = fs.readFileSync(path.join(env.project, "stacks", "Pulumi.wc-ambient.yaml"), "utf8");
        const refused = await cli("wc-ambient", "staging", "rollback", "--to", "1", "--yes");
        assert.equal(refused.code, 3, refused.stdout + refused.stderr);
        assert.equal(
            refused.stderr,
            `error: rollback of stack wc-ambient refused before changing anything: service ${AMBIENT_NAME} cannot be reached: ` +
                `cannot list pods app.kubernetes.io/name=${AMBIENT_NAME} in namespace default: kube context staging (server ${staging}) does not answer; no cluster was reached\n`,
        );
        assert.equal(fs.readFileSync(path.join(env.project, "stacks", "Pulumi.wc-ambient.yaml"), "utf8"), before);
    });

    it("status, rollback and drill refuse in one line when the Deployment there is another object than recorded, and change nothing", async () => {
        const [deployment] = (
            JSON.parse(await env.kubectl(["get", "deployments", "--all-namespaces", "-l", `app.kubernetes.io/name=${NAME}`, "-o", "json"])) as {
                items: { metadata: Record<string, unknown> & { name: string; namespace: string; uid: string } }[];
            }
        ).items;
        const { name, namespace, uid: recorded } = deployment.metadata;
        // Deleted and created again under its name: what another cluster's Deployment of the same name looks like.
        const manifest = deployment as { metadata: Record<string, unknown>; status?: unknown };
        for (const field of ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"]) {
            delete manifest.metadata[field];
        }
        delete manifest.status;
        const file = path.join(env.scratch, "wc-recreated.json");
        fs.writeFileSync(file, JSON.stringify(manifest));
        await env.kubectl(["delete", "deployment", name, "--namespace", namespace, "--wait=true"]);
        await env.kubectl(["create", "-f", file]);
        await env.kubectl(["rollout", "status", `deployment/${name}`, "--namespace", namespace, "--timeout=120s"]);
        const live = (await env.kubectl(["get", "deployment", name, "--namespace", namespace, "-o", "jsonpath={.metadata.uid}"])).trim();
        assert.notEqual(live, recorded);
        const server = JSON.parse(fs.readFileSync(env.cluster.kubeconfig, "utf8")).clusters[0].cluster.server as string;
        const refusal =
            `service ${NAME}'s Deployment ${namespace}/${name} is recorded with uid ${recorded} (deployed on kube context e2e), ` +
            `but kube context e2e (server ${server}) holds a Deployment of that name with uid ${live}: another cluster, or the Deployment was deleted and re-created there. ` +
            "The stack config chose it (kubernetes:context): point it at the stack's cluster, e.g. pulumi config set kubernetes:context e2e --stack wc; " +
            "if it was re-created, pulumi refresh --stack wc records the new one\n";
        const configFile = path.join(env.project, "stacks", "Pulumi.wc.yaml");
        const config = fs.readFileSync(configFile, "utf8");
        const updates = (await cli("wc", "staging", "history", "--json")).stdout;
        const status = await cli("wc", "staging", "status");
        assert.deepEqual([status.code, status.stdout, status.stderr], [3, "", `error: status of stack wc refused: ${refusal}`]);
        for (const command of [
            ["rollback", "--to", "1", "--yes"],
            ["drill", "--yes"],
        ]) {
            const result = await cli("wc", "staging", ...command);
            assert.equal(result.code, 3, result.stdout + result.stderr);
            assert.equal(result.stderr, `error: ${command[0]} of stack wc refused before changing anything: ${refusal}`);
        }
        assert.equal(fs.readFileSync(configFile, "utf8"), config, "the stack config is as it was");
        assert.equal((await cli("wc", "staging", "history", "--json")).stdout, updates, "no update ran");
    });

    it("once pulumi refresh records the Deployment, status and a rollback work again from the same terminal", async () => {
        succeeded(await env.pulumi(["refresh", "--yes", "--non-interactive", "--stack", "wc"]), "pulumi refresh");
        const status = await cli("wc", "staging", "status");
        assert.equal(status.code, 0, status.stdout + status.stderr);
        const rollback = await cli("wc", "staging", "rollback", "--to", "1", "--yes");
        assert.equal(rollback.code, 0, rollback.stdout + rollback.stderr);
        assert.deepEqual(await settledPodDigests(env, `app.kubernetes.io/name=${NAME}`, digests.v1), [digests.v1]);
    });

    after(async () => {
        await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "wc"]);
        await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "wc-ambient"]);
    });
});
