// The right cluster (contract rule 18): status, rollback and drill read each workload where its
// provider deploys it, and refuse in one line when the Deployment of the recorded name there is
// another object than the state records; a Deployment missing there is reported as missing.
import * as assert from "node:assert/strict";

import type { ServiceState } from "../../cli/core/services";
import type { PodList } from "../../components/workloads/kubernetes/live";
import { DIGESTS, FakeStack, IMAGE, readFixture, runCli, tableRegistry } from "./fakes";

const RECORDED = "5f0c6a1e-8d2b-4c1e-9a57-0d3c2b1a9e11";
const OTHER = "9e1d4b7a-33c0-4f5e-8b21-6a7c9d0e1f22";
const DEFAULT_PROVIDER = { name: "default_4_34_2", default: true, inputs: { version: "4.34.2", context: "kind-prod" } };

/** The dev stack's one service, its Deployment recorded with `RECORDED` by the default provider on kube context kind-prod. */
function service(name = "payment-api", origin: ServiceState["origin"] = { provider: DEFAULT_PROVIDER, uid: RECORDED }): ServiceState {
    return {
        name,
        imageDigest: DIGESTS["v1.1.0"],
        imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`,
        version: "v1.1.0",
        workload: { kind: "kubernetes", namespace: "payments", deployment: name, service: name, selector: { "app.kubernetes.io/name": name } },
        origin,
    };
}

const CONFIG = {
    "released-service:image": IMAGE,
    "released-service:version": "v1.1.0",
    "released-service:digest": DIGESTS["v1.1.0"],
};

const PRESENT = tableRegistry([`${IMAGE}@${DIGESTS["v1.0.0"]}`, `${IMAGE}@${DIGESTS["v1.2.1"]}`]);

/** What the refusal says of the one service after its lead, when kubectl's current context is kind-staging. */
const WRONG =
    `service payment-api's Deployment payments/payment-api is recorded with uid ${RECORDED} (deployed on kube context kind-prod), ` +
    `but kube context kind-staging (server https://kind-staging.example:6443) holds a Deployment of that name with uid ${OTHER}: ` +
    "another cluster, or the Deployment was deleted and re-created there. " +
    "Point the command at the stack's cluster: kubectl config use-context kind-prod, or pulumi config set kubernetes:context kind-prod --stack dev; " +
    "if it was re-created, pulumi refresh --stack dev records the new one";

describe("the cluster the command reads", () => {
    it("status lists pods where the stack config's kubernetes:context and kubeconfig point, not kubectl's current context", async () => {
        const stack = new FakeStack({ services: [service()], config: { ...CONFIG, "kubernetes:context": "kind-prod", "kubernetes:kubeconfig": "~/.kube/prod" } });
        const outcome = await runCli(["status"], { stack, pods: readFixture<PodList>("pods-payments-ok.json"), currentContext: "kind-staging" });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(outcome.calls, ["open (selected)", "pods --kubeconfig ~/.kube/prod --context kind-prod -n payments -l app.kubernetes.io/name=payment-api"]);
        assert.ok(outcome.stdout.includes("  read on kube context kind-prod (stack config kubernetes:context), kubeconfig ~/.kube/prod (stack config kubernetes:kubeconfig)\n"), outcome.stdout);
    });

    it("status lists pods where the provider the Deployment names points, by its recorded inputs", async () => {
        const origin = { provider: { name: "prod-cluster", default: false, inputs: { context: "prod-east", kubeconfig: "/etc/kube/prod" } }, uid: RECORDED };
        const stack = new FakeStack({ services: [service("payment-api", origin)], config: { ...CONFIG, "kubernetes:context": "kind-staging" } });
        const outcome = await runCli(["status"], { stack, pods: readFixture<PodList>("pods-payments-ok.json") });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.equal(outcome.calls[1], "pods --kubeconfig /etc/kube/prod --context prod-east -n payments -l app.kubernetes.io/name=payment-api");
    });
});

describe("a command on another cluster than the stack's", () => {
    const elsewhere = { deployments: () => OTHER, currentContext: "kind-staging" };

    it("status reports as always when the Deployment there is the recorded one", async () => {
        const stack = new FakeStack({ services: [service()], config: CONFIG });
        const outcome = await runCli(["status"], { stack, pods: readFixture<PodList>("pods-payments-ok.json"), currentContext: "kind-staging" });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.ok(outcome.stdout.startsWith(`Service payment-api of stack dev records v1.1.0 ${DIGESTS["v1.1.0"]}\n`), outcome.stdout);
    });

    it("status refuses in one line, naming the recorded cluster and uid, the current context and how to point at the right one", async () => {
        const stack = new FakeStack({ services: [service()], config: CONFIG });
        const outcome = await runCli(["status"], { stack, pods: readFixture<PodList>("pods-payments-ok.json"), ...elsewhere });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stdout, "");
        assert.equal(outcome.stderr, `error: status of stack dev refused: ${WRONG}\n`);
        const json = await runCli(["status", "--json"], { stack, pods: readFixture<PodList>("pods-payments-ok.json"), ...elsewhere });
        assert.deepEqual([json.code, json.stdout, json.stderr], [3, "", `error: status of stack dev refused: ${WRONG}\n`]);
    });

    it("status reports a Deployment missing on the cluster as missing, not as another cluster", async () => {
        const stack = new FakeStack({ services: [service()], config: CONFIG });
        const outcome = await runCli(["status"], { stack, pods: { items: [] }, deployments: () => null, currentContext: "kind-staging" });
        assert.equal(outcome.code, 1);
        assert.equal(outcome.stderr, "");
        assert.ok(outcome.stdout.endsWith("No pods match app.kubernetes.io/name=payment-api in namespace payments.\n"), outcome.stdout);
    });

    it("says how to point the stack config, or the provider, at the stack's cluster when they chose the one reached", async () => {
        const configured = new FakeStack({ services: [service()], config: { ...CONFIG, "kubernetes:context": "kind-staging" } });
        const byConfig = await runCli(["status"], { stack: configured, ...elsewhere });
        assert.equal(
            byConfig.stderr,
            `error: status of stack dev refused: service payment-api's Deployment payments/payment-api is recorded with uid ${RECORDED} (deployed on kube context kind-prod), ` +
                `but kube context kind-staging (server https://kind-staging.example:6443) holds a Deployment of that name with uid ${OTHER}: ` +
                "another cluster, or the Deployment was deleted and re-created there. " +
                "The stack config chose it (kubernetes:context): point it at the stack's cluster, e.g. pulumi config set kubernetes:context kind-prod --stack dev; " +
                "if it was re-created, pulumi refresh --stack dev records the new one\n",
        );
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
        const origin = { provider: { name: "eks", default: false, inputs: { context: "eks-prod", kubeconfig: secret } }, uid: RECORDED };
        const byProvider = await runCli(["status"], { stack: new FakeStack({ services: [service("payment-api", origin)], config: CONFIG }), ...elsewhere });
        assert.equal(
            byProvider.stderr,
            `error: status of stack dev refused: service payment-api's Deployment payments/payment-api is recorded with uid ${RECORDED} (deployed on kube context eks-prod), ` +
                `but kube context eks-prod (server https://eks-prod.example:6443) holds a Deployment of that name with uid ${OTHER}: ` +
                "another cluster, or the Deployment was deleted and re-created there. " +
                "Provider eks of the stack chose it (its recorded context; its kubeconfig, a secret in the state, is not read by this command): " +
                "make them reach the stack's cluster from this machine; if it was re-created, pulumi refresh --stack dev records the new one\n",
        );
    });

    for (const [command, argv] of [
        ["rollback", ["rollback", "--to", "1", "--yes"]],
        ["drill", ["drill", "--yes"]],
    ] as const) {
        it(`${command} refuses in one line before any edit or update`, async () => {
            const stack = new FakeStack({ services: [service()], config: CONFIG });
            const before = stack.configNow;
            const outcome = await runCli([...argv], { stack, registryClient: async () => PRESENT, ...elsewhere });
            assert.equal(outcome.code, 3);
            assert.equal(outcome.stdout, "");
            assert.equal(outcome.stderr, `error: ${command} of stack dev refused before changing anything: ${WRONG}\n`);
            assert.deepEqual(stack.changes, []);
            assert.deepEqual(stack.configNow, before);
        });

        it(`${command} goes ahead on the recorded cluster`, async () => {
            const stack = new FakeStack({ services: [service()], config: CONFIG });
            const outcome = await runCli([...argv], { stack, registryClient: async () => PRESENT, currentContext: "kind-prod" });
            assert.equal(outcome.code, 0, outcome.stderr);
            assert.ok(stack.changes.some((change) => change.startsWith("up: ")), stack.changes.join("\n"));
        });

        it(`${command} is not refused for a Deployment missing on the cluster it reaches`, async () => {
            const stack = new FakeStack({ services: [service()], config: CONFIG });
            const outcome = await runCli([...argv], { stack, registryClient: async () => PRESENT, deployments: () => null });
            assert.ok(!outcome.stderr.includes("refused before changing anything"), outcome.stderr);
            assert.ok(stack.changes.some((change) => change.startsWith("up: ")), stack.changes.join("\n"));
        });
    }

    it("names the first service on another cluster, and how many more", async () => {
        const stack = new FakeStack({ services: ["api", "worker", "cron"].map((name) => service(name)), args: { api: "v1.1.0", worker: "v1.1.0", cron: "v1.1.0" } });
        const outcome = await runCli(["up", "--yes"], { stack, ...elsewhere });
        assert.equal(outcome.code, 3);
        assert.ok(outcome.stderr.startsWith(`error: up of stack dev refused before changing anything: service api's Deployment payments/api is recorded with uid ${RECORDED}`), outcome.stderr);
        assert.ok(outcome.stderr.endsWith("records the new one (and 2 more services the same way)\n"), outcome.stderr);
        assert.deepEqual(stack.changes, []);
    });
});
