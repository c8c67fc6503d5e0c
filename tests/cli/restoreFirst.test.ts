// `rollback --restore-first`: which writes restore which workloads (pure, from the state alone),
// what is refused before anything is written, and the command's order: write, pin and hold,
// preview, pulumi up, with the times it reports.

import * as assert from "node:assert/strict";
import { restorePlan } from "../../cli/core/restore";
import type { ServiceState } from "../../cli/core/services";
import { appliedObject, restoredObject } from "../../components/workloads/kubernetes/restore";
import { releaseLabels } from "../../components/workloads/kubernetes/release";
import type { PodList } from "../../components/workloads/kubernetes/live";
import { DIGESTS, FakeStack, IMAGE, runCli, tableRegistry } from "./fakes";

const V1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
const V11 = `${IMAGE}@${DIGESTS["v1.1.0"]}`;
const PROXY = `envoy@sha256:${"e5".repeat(32)}`;
const FIELD_MANAGER = "pulumi-kubernetes-5e2d1a9c";

/** The object the Kubernetes provider applied for v1.1.0, as its checkpoint keeps it in `__inputs`. */
function appliedFor(version: string, imageRef: string): Record<string, unknown> {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: {
            name: "payment-api-1a2b3c",
            namespace: "payments",
            labels: releaseLabels("payment-api", version),
            annotations: { "kubernetes.io/change-cause": `released-service: ${version} ${imageRef}`, "pulumi.com/patchForce": "true" },
        },
        spec: {
            replicas: 2,
            selector: { matchLabels: { "app.kubernetes.io/name": "payment-api" } },
            template: {
                metadata: { labels: { team: "payments", ...releaseLabels("payment-api", version) } },
                spec: {
                    initContainers: [{ name: "migrate", image: imageRef, command: ["/app", "migrate"] }],
                    containers: [
                        { name: "app", image: imageRef, env: [{ name: "IMAGE", value: `running ${imageRef}` }] },
                        { name: "proxy", image: PROXY },
                    ],
                },
            },
        },
    };
}

const OUTPUTS = {
    ...appliedFor("v1.1.0", V11),
    metadata: { name: "payment-api-1a2b3c", namespace: "payments", uid: "uid-1" },
    __inputs: appliedFor("v1.1.0", V11),
    __fieldManager: FIELD_MANAGER,
};

const KUBERNETES_SERVICE: ServiceState = {
    name: "payment-api",
    imageDigest: DIGESTS["v1.1.0"],
    imageRef: V11,
    version: "v1.1.0",
    deployedImage: V11,
    workload: { kind: "kubernetes", namespace: "payments", deployment: "payment-api-1a2b3c", service: "payment-api", selector: { "app.kubernetes.io/name": "payment-api" } },
    workloadResource: { type: "kubernetes:apps/v1:Deployment", outputs: OUTPUTS },
};

describe("restore first: the object written", () => {
    it("is the object the provider last applied with the release swapped: every image of it, the version labels and the change cause", () => {
        const applied = appliedObject(OUTPUTS);
        assert.ok(!("refused" in applied));
        assert.equal(applied.fieldManager, FIELD_MANAGER);
        const object = restoredObject(applied, { imageRef: V11, version: "v1.1.0" }, { imageRef: V1, version: "v1.0.0" }, true);
        // Exactly what the component asks the provider to apply for v1.0.0: the update that follows changes nothing.
        assert.deepEqual(object, appliedFor("v1.0.0", V1));
        assert.deepEqual(OUTPUTS.__inputs, appliedFor("v1.1.0", V11), "the recorded object is left as it was");
    });

    it("of the user's own object swaps its images, and each value that is exactly the release's version (a label or a variable the program took from the version output)", () => {
        const own = {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "api", annotations: { note: "deployed v1.1.0 by hand" } },
            spec: {
                template: {
                    metadata: { labels: { app: "shop-api", "app.kubernetes.io/version": "v1.1.0" } },
                    spec: { containers: [{ name: "api", image: V11, env: [{ name: "VERSION", value: "v1.1.0" }, { name: "OTHER", value: "v1.1.0-rc" }] }] },
                },
            },
        };
        const object = restoredObject({ object: own, fieldManager: FIELD_MANAGER }, { imageRef: V11, version: "v1.1.0" }, { imageRef: V1, version: "v1.0.0" }, false);
        assert.deepEqual(object, {
            ...own,
            spec: {
                template: {
                    metadata: { labels: { app: "shop-api", "app.kubernetes.io/version": "v1.0.0" } },
                    spec: { containers: [{ name: "api", image: V1, env: [{ name: "VERSION", value: "v1.0.0" }, { name: "OTHER", value: "v1.1.0-rc" }] }] },
                },
            },
        });
    });

    it("is refused, saying why, when the state does not keep what the provider applied, it applied client-side, or the object holds a secret", () => {
        assert.deepEqual(appliedObject({ spec: {} }), {
            refused:
                "its state does not record the object the Kubernetes provider applied and its field manager (a provider older than v4, or not in server-side apply mode)",
        });
        assert.deepEqual(appliedObject({ __inputs: {}, __fieldManager: "pulumi-kubernetes" }), {
            refused: "the Kubernetes provider applies it client-side (enableServerSideApply is false), so one write cannot leave it as the update will",
        });
        const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
        assert.deepEqual(appliedObject({ __inputs: { data: { password: secret } }, __fieldManager: FIELD_MANAGER }), {
            refused: "the object the provider applied holds a secret value, which the state keeps encrypted",
        });
    });
});

describe("restore first: the plan", () => {
    const target = { service: "payment-api", imageRef: V1, version: "v1.0.0" };

    it("writes a Deployment by server-side apply under the provider's field manager, where the stack deployed it", () => {
        const [write, ...more] = restorePlan("dev", [target], [KUBERNETES_SERVICE], { "kubernetes:context": "prod" });
        assert.deepEqual(more, []);
        assert.equal(write.what, "Deployment payments/payment-api-1a2b3c");
        assert.deepEqual(write.connection, { context: "prod", from: "stack config" });
        assert.deepEqual(write.write, {
            kind: "apply",
            object: appliedFor("v1.0.0", V1),
            fieldManager: FIELD_MANAGER,
            reference: { apiVersion: "apps/v1", kind: "Deployment", name: "payment-api-1a2b3c", namespace: "payments" },
        });
    });

    it("refuses a stack that renders its Kubernetes manifests: there is no cluster to write", () => {
        assert.throws(() => restorePlan("dev", [target], [KUBERNETES_SERVICE], { "kubernetes:renderYamlToDirectory": "rendered" }), {
            message:
                "rollback --restore-first of stack dev refused before changing anything, since it writes every workload of a service or none:\n" +
                "  service payment-api, Deployment payments/payment-api-1a2b3c: stack dev renders its Kubernetes manifests into rendered (kubernetes:renderYamlToDirectory), so there is no cluster to write\n" +
                "Roll back without --restore-first: its pulumi up moves these workloads.",
        });
    });

    it("writes a Swarm service by docker service update: the image as written, and the release label", () => {
        const swarm: ServiceState = { ...KUBERNETES_SERVICE, workload: { kind: "swarm", service: "shop-web" }, workloadResource: { type: "docker:index/service:Service", outputs: {} } };
        const [write] = restorePlan("dev", [target], [swarm], {});
        assert.equal(write.what, "Swarm service shop-web");
        assert.deepEqual(write.write, {
            kind: "docker",
            args: ["service", "update", "--detach", "--no-resolve-image", "--image", V1, "--label-add", "io.released-service.version=v1.0.0", "shop-web"],
        });
    });

    it("writes the user's own Kubernetes objects that run the release, and refuses their own Docker container", () => {
        const cronJob = {
            apiVersion: "batch/v1",
            kind: "CronJob",
            metadata: { name: "nightly", namespace: "payments" },
            spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "job", image: V11 }] } } } } },
        };
        const own = {
            type: "kubernetes:batch/v1:CronJob",
            name: "nightly",
            urn: "urn:pulumi:dev::shop::kubernetes:batch/v1:CronJob::nightly",
            paths: ["spec.jobTemplate.spec.template.spec.containers[0].image"],
            live: { kind: "kubernetes" as const, apiVersion: "batch/v1", objectKind: "CronJob", name: "nightly", namespace: "payments" },
            outputs: { ...cronJob, __inputs: cronJob, __fieldManager: "pulumi-kubernetes-77aa" },
        };
        const release: ServiceState = { name: "payment-api", imageDigest: DIGESTS["v1.1.0"], imageRef: V11, version: "v1.1.0", ownWorkloads: [own] };
        const [write] = restorePlan("dev", [target], [release], {});
        assert.equal(write.what, "CronJob payments/nightly");
        assert.deepEqual(write.write, {
            kind: "apply",
            object: { ...cronJob, spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: { containers: [{ name: "job", image: V1 }] } } } } } },
            fieldManager: "pulumi-kubernetes-77aa",
            reference: { apiVersion: "batch/v1", kind: "CronJob", name: "nightly", namespace: "payments" },
        });
        const box = { type: "docker:index/container:Container", name: "box", urn: "urn:pulumi:dev::shop::docker:index/container:Container::box", paths: ["image"], live: { kind: "docker" as const, container: "box" } };
        assert.throws(() => restorePlan("dev", [target], [{ ...release, ownWorkloads: [own, box] }], {}), {
            message:
                "rollback --restore-first of stack dev refused before changing anything, since it writes every workload of a service or none:\n" +
                "  service payment-api, box (docker:index/container:Container): a Docker host container runs one image for its life: the provider replaces it (a new container, by pulumi up), " +
                "so a container started ahead of the update would be one the update replaces again; the rollback's pulumi up is the fast path there\n" +
                "Roll back without --restore-first: its pulumi up moves these workloads.",
        });
    });

    it("refuses a Docker host container and a service it cannot write, naming each, before writing any", () => {
        const docker: ServiceState = { ...KUBERNETES_SERVICE, name: "web", workload: { kind: "docker", container: "shop-web" } };
        const client: ServiceState = { ...KUBERNETES_SERVICE, workloadResource: { type: "kubernetes:apps/v1:Deployment", outputs: { __inputs: {}, __fieldManager: "pulumi-kubernetes" } } };
        assert.throws(() => restorePlan("dev", [target, { ...target, service: "web" }], [client, docker], {}), {
            message:
                "rollback --restore-first of stack dev refused before changing anything, since it writes every workload of a service or none:\n" +
                "  service payment-api, its kubernetes workload: the Kubernetes provider applies it client-side (enableServerSideApply is false), so one write cannot leave it as the update will\n" +
                "  service web, its docker workload: a Docker host container runs one image for its life: the provider replaces it (a new container, by pulumi up), " +
                "so a container started ahead of the update would be one the update replaces again; the rollback's pulumi up is the fast path there\n" +
                "Roll back without --restore-first: its pulumi up moves these workloads.",
        });
    });
});

describe("restore first: the command", () => {
    const message = `rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})`;
    /** Every pod on v1.0.0 once the Deployment was written, as the cluster answers then. */
    function podsAfterWrite(calls: string[]): PodList {
        const written = calls.some((call) => call.startsWith("apply"));
        const image = written ? V1 : V11;
        return {
            items: [0, 1].map((index) => ({
                metadata: { name: `payment-api-${index}`, labels: {} },
                status: { phase: "Running", containerStatuses: [{ name: "app", image, imageID: image, ready: true }] },
            })),
        };
    }

    it("writes the Deployment first, then pins and holds it, previews for what the args ask, records it with pulumi up, and reports both times", async () => {
        const stack = new FakeStack({ services: [KUBERNETES_SERVICE] });
        const calls: string[] = [];
        let clock = 0;
        const outcome = await runCli(["rollback", "--to", "1", "--restore-first", "--yes", "--json"], {
            stack,
            registryClient: async () => tableRegistry([V1]),
            elapsed: () => (clock += 100),
            write: async (write) => {
                calls.push(write.kind === "apply" ? `apply --field-manager=${write.fieldManager} ${write.reference.name}` : "docker");
                stack.changes.push("workload written");
            },
            listPods: async () => podsAfterWrite(calls),
        });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(calls, [`apply --field-manager=${FIELD_MANAGER} payment-api-1a2b3c`]);
        const [pins, holds, ...rest] = stack.changes;
        assert.match(pins, /^config released-service:pins=\{"payment-api":\{"asked":\{.*\},"digest":"sha256:1010.*","update":1,"version":"v1.0.0"\}\}$/);
        assert.match(holds, /^config released-service:holds=/);
        assert.deepEqual(rest.slice(0, 2), ["workload written", "preview"]);
        assert.equal(rest.at(-1), `up: ${message}`);
        const result = JSON.parse(outcome.stdout) as { result: string; restoreFirst: { restoredSeconds: number; recordedSeconds: number; workloads: string[] } };
        assert.equal(result.result, "rolled back");
        assert.deepEqual(result.restoreFirst.workloads, ["Deployment payments/payment-api-1a2b3c"]);
        assert.ok(result.restoreFirst.restoredSeconds > 0 && result.restoreFirst.restoredSeconds <= result.restoreFirst.recordedSeconds, outcome.stdout);
        assert.match(outcome.stderr, /^Restoring #1 \(payment-api v1\.0\.0 sha256:1010[0-9]+\) first: Deployment payments\/payment-api-1a2b3c…$/m);
        assert.match(outcome.stderr, /^Restored stack dev to #1 .*: every instance runs its target, [0-9.]+ s after the command started\.$/m);
        assert.match(outcome.stderr, /^Recorded the rollback of stack dev [0-9.]+ s after the command started\.$/m);
    });

    it("keeps the workload on the target and the config pinned when the record fails, and says what completes it", async () => {
        const stack = new FakeStack({ services: [KUBERNETES_SERVICE], previewFails: "error: registry localhost:5000 answered HTTP 503" });
        const calls: string[] = [];
        const outcome = await runCli(["rollback", "--to", "1", "--restore-first", "--yes"], {
            stack,
            registryClient: async () => tableRegistry([V1]),
            write: async () => {
                calls.push("apply");
            },
            listPods: async () => podsAfterWrite(calls),
        });
        assert.equal(outcome.code, 3, outcome.stderr);
        assert.ok(!stack.changes.includes("config restored"), stack.changes.join("\n"));
        assert.equal(
            outcome.stderr,
            "error: recording the rollback of stack dev failed: error: registry localhost:5000 answered HTTP 503\n" +
                `the record is pending: the workloads were restored to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]}) ahead of the update, and stacks/Pulumi.dev.yaml pins and holds it; ` +
                'pulumi up --stack dev records it (released-service status --stack dev shows "restored, record pending" until then)\n',
        );
    });

    it("refuses --restore-first with --with-config", async () => {
        const outcome = await runCli(["rollback", "--to", "1", "--restore-first", "--with-config", "--yes"], { stack: new FakeStack() });
        assert.equal(outcome.code, 2);
        assert.match(outcome.stderr, /--restore-first writes the release alone to each workload, ahead of the update, and --with-config restores config that only the update applies: pass one or the other/);
    });
});
