// A command that changes workloads first checks that their cluster or Docker daemon answers, and
// refuses in one line before any config edit or update when one does not.
import * as assert from "node:assert/strict";

import { RENDER_KEY, workloadsToReach } from "../../cli/core/reach";
import type { ServiceState } from "../../cli/core/services";
import { DIGESTS, FakeStack, IMAGE, runCli, tableRegistry } from "./fakes";

const API: ServiceState = { name: "api", workload: { kind: "kubernetes", namespace: "shop", deployment: "api", service: "api", selector: { "app.kubernetes.io/name": "api" } } };
const WEB: ServiceState = { name: "web", workload: { kind: "docker", container: "web" } };
const OLD: ServiceState = { name: "old" };
/** A ReleasedImage whose user's own Deployment and ECS task run it: only the Deployment is read. */
const JOBS: ServiceState = {
    name: "jobs",
    ownWorkloads: [
        { type: "kubernetes:apps/v1:Deployment", name: "jobs", urn: "urn:pulumi:dev::shop::kubernetes:apps/v1:Deployment::jobs", paths: ["spec.template.spec.containers[0].image"], live: { kind: "kubernetes", apiVersion: "apps/v1", objectKind: "Deployment", name: "jobs-1a", namespace: "shop", selector: { app: "jobs" } } },
        { type: "aws:ecs/taskDefinition:TaskDefinition", name: "batch", urn: "urn:pulumi:dev::shop::aws:ecs/taskDefinition:TaskDefinition::batch", paths: ["containerDefinitions"] },
    ],
};

describe("which workloads a command must reach first", () => {
    const cases: [string, Parameters<typeof workloadsToReach>, string[]][] = [
        ["every service's workload", ["dev", "rollback", {}, [API, WEB, OLD], undefined], ["api", "web"]],
        ["only --service's", ["dev", "up", {}, [API, WEB], "web"], ["web"]],
        ["none of a Kubernetes stack that renders its manifests: an update only writes files", ["dev", "rollback", { [RENDER_KEY]: "rendered" }, [API, WEB], undefined], ["web"]],
        ["all when the render setting is empty", ["dev", "up", { [RENDER_KEY]: "" }, [API], undefined], ["api"]],
        ["a ReleasedImage's own workloads it reads live", ["dev", "rollback", {}, [API, JOBS], undefined], ["api", "jobs"]],
        ["none of a ReleasedImage's own Kubernetes workloads when the stack renders", ["dev", "rollback", { [RENDER_KEY]: "rendered" }, [JOBS, WEB], undefined], ["web"]],
    ];
    for (const [what, args, services] of cases) {
        it(what, () => {
            assert.deepEqual(
                workloadsToReach(...args).map((reach) => reach.service),
                services,
            );
        });
    }

    it("refuses the drill of a stack that renders its Kubernetes manifests: no pods run what it writes", () => {
        assert.throws(() => workloadsToReach("dev", "drill", { [RENDER_KEY]: "rendered" }, [API], undefined), {
            message:
                "stack dev renders its Kubernetes manifests into rendered (kubernetes:renderYamlToDirectory) instead of applying them, and the drill waits for pods to run " +
                "what each update wrote: drill a stack that deploys to a cluster; nothing was changed",
        });
        assert.deepEqual(workloadsToReach("dev", "drill", { [RENDER_KEY]: "rendered" }, [WEB], undefined).map((reach) => reach.service), ["web"]);
    });
});

describe("a command whose cluster does not answer", () => {
    const NO_CONTEXT =
        "cannot list pods app.kubernetes.io/name=payment-api in namespace payments: kubectl has no current context (kubectl config current-context names none); " +
        "set one with kubectl config use-context";
    const unreachable = async (): Promise<never> => {
        throw new Error(NO_CONTEXT);
    };
    const present = tableRegistry([`${IMAGE}@${DIGESTS["v1.0.0"]}`, `${IMAGE}@${DIGESTS["v1.2.1"]}`]);

    for (const [command, argv] of [
        ["rollback", ["rollback", "--to", "1", "--yes"]],
        ["drill", ["drill", "--yes"]],
        ["up", ["up", "--atomic", "--yes"]],
    ] as const) {
        it(`refuses ${command} in one line before any edit or update, naming the cause`, async () => {
            const stack = new FakeStack();
            const before = stack.configNow;
            const outcome = await runCli([...argv], { stack, listPods: unreachable, registryClient: async () => present });
            assert.equal(outcome.code, 3);
            assert.equal(outcome.stderr, `error: ${command} of stack dev refused before changing anything: service payment-api cannot be reached: ${NO_CONTEXT}\n`);
            assert.equal(outcome.stdout, "");
            assert.deepEqual(stack.changes, []);
            assert.deepEqual(stack.configNow, before);
        });
    }

    it("names the first service that cannot be reached, and how many more", async () => {
        const stack = new FakeStack({
            services: ["api", "worker", "cron"].map((name) => ({
                name,
                imageDigest: DIGESTS["v1.1.0"],
                imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`,
                version: "v1.1.0",
                workload: { kind: "kubernetes", namespace: "payments", deployment: name, service: name, selector: { "app.kubernetes.io/name": name } },
            })),
        });
        const outcome = await runCli(["up", "--yes"], { stack, listPods: unreachable });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stderr, `error: up of stack dev refused before changing anything: service api (and 2 more services) cannot be reached: ${NO_CONTEXT}\n`);
        assert.deepEqual(stack.changes, []);
    });

    it("refuses when the cluster of a ReleasedImage's own Deployment does not answer, naming the object", async () => {
        const cannot = "cannot read Deployment jobs-1a in namespace shop: kube context prod (server https://10.0.0.2:6443) does not answer; no cluster was reached";
        const stack = new FakeStack({ services: [{ ...JOBS, imageDigest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0" }] });
        const outcome = await runCli(["up", "--yes"], {
            stack,
            object: async () => {
                throw new Error(cannot);
            },
        });
        assert.equal(outcome.code, 3, outcome.stdout + outcome.stderr);
        assert.equal(outcome.stderr, `error: up of stack dev refused before changing anything: service jobs cannot be reached: ${cannot}\n`);
        assert.deepEqual(stack.changes, []);
    });

    it("refuses a command that reads or changes workloads on a stack that records two releases of one name, since pins and --service could not tell them apart", async () => {
        const release = { imageDigest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0" };
        const stack = new FakeStack({ services: [{ ...API, ...release }, { ...JOBS, ...release, name: "api" }] });
        for (const argv of [["status"], ["rollback", "--to", "1", "--yes"], ["drill", "--yes"]]) {
            const outcome = await runCli(argv, { stack });
            assert.equal(outcome.code, 3, argv.join(" "));
            assert.equal(
                outcome.stderr,
                "error: stack dev records more than one release named api: pins, holds and --service know a release by its resource name, so the command cannot " +
                    "tell them apart; give each ReleasedService and ReleasedImage a name of its own in the program and run pulumi up. Nothing was changed.\n",
                argv.join(" "),
            );
        }
        assert.deepEqual(stack.changes, []);
    });
});
