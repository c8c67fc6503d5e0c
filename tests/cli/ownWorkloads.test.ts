// The state scan: which resources of a stack are a release's own workloads, for every type the
// command reads live and for one it does not, and how a live object is judged. No mocks: state in,
// workloads out.
import * as assert from "node:assert/strict";

import { imageRefsIn, judgeObject, ownWorkloadsOf, valueAt } from "../../cli/core/ownWorkloads";
import { servicesOfState } from "../../cli/core/services";

const REPO = "registry.example.com/shop";
const V1 = `${REPO}@sha256:${"1".repeat(64)}`;
const W1 = `${REPO}-worker@sha256:${"2".repeat(64)}`;
const STACK = "urn:pulumi:prod::shop";
const API = `${STACK}::released-service:index:ReleasedImage::api`;
const WORKER = `${STACK}::released-service:index:ReleasedImage::worker`;
const K8S_PROVIDER = `${STACK}::pulumi:providers:kubernetes::default_4_34_2`;

/** A Kubernetes object as the provider records it: its inputs and, in its outputs, what the API server answered. */
function object(kind: string, apiVersion: string, name: string, spec: Record<string, unknown>, parent?: string) {
    const type = `kubernetes:${apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`}:${kind}`;
    const body = { apiVersion, kind, metadata: { name: `${name}-x1`, namespace: "shop" }, spec };
    return { type, urn: `${parent === undefined ? STACK : `${STACK}::kubernetes:helm.sh/v4:Chart$`}::${type}::${name}`, custom: true, parent, provider: `${K8S_PROVIDER}::0f`, inputs: body, outputs: body };
}

const pod = (image: string, init?: string) => ({ ...(init ? { initContainers: [{ name: "migrate", image: init }] } : {}), containers: [{ name: "app", image }] });
const selector = { matchLabels: { app: "api" } };

const RESOURCES = [
    { type: "pulumi:pulumi:Stack", urn: `${STACK}::pulumi:pulumi:Stack::shop-prod`, custom: false, outputs: { api: V1 } },
    { type: "pulumi:providers:kubernetes", urn: K8S_PROVIDER, custom: true, inputs: { context: "prod" } },
    { type: "released-service:index:ReleasedImage", urn: API, custom: false, inputs: { asked: { version: "v1" } }, outputs: { imageRef: V1, imageDigest: V1.split("@")[1], version: "v1", built: true } },
    { type: "docker-build:index:Image", urn: `${STACK}::released-service:index:ReleasedImage$docker-build:index:Image::api-image`, custom: true, parent: API, inputs: { tags: [V1] } },
    { type: "released-service:index:ReleasedImage", urn: WORKER, custom: false, inputs: {}, outputs: { imageRef: W1, imageDigest: W1.split("@")[1], version: "w1", built: false } },
    object("Deployment", "apps/v1", "api", { selector, template: { spec: pod(V1, V1) } }),
    object("StatefulSet", "apps/v1", "worker", { selector: { matchLabels: { app: "worker" } }, template: { spec: pod(W1) } }),
    object("DaemonSet", "apps/v1", "agent", { selector: { matchLabels: { app: "agent" } }, template: { spec: pod(W1) } }),
    object("ReplicaSet", "apps/v1", "legacy", { selector: { matchLabels: { app: "legacy" } }, template: { spec: pod(V1) } }),
    object("Job", "batch/v1", "migrate", { template: { spec: pod(V1) } }),
    // As a checkpoint keeps it after an update: its outputs carry the live object's uid.
    (() => {
        const cronJob = object("CronJob", "batch/v1", "report", { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: pod(V1) } } } });
        return { ...cronJob, outputs: { ...cronJob.outputs, metadata: { ...cronJob.outputs.metadata, uid: "c0ffee00-0000-4000-8000-000000000001" } } };
    })(),
    object("Pod", "v1", "debug", pod(V1)),
    // A sidecar of the worker's release beside the API's container: a workload of both.
    object("Deployment", "apps/v1", "chart-web", { selector: { matchLabels: { app: "web" } }, template: { spec: { containers: [{ name: "web", image: V1 }, { name: "tail", image: W1 }] } } }, `${STACK}::kubernetes:helm.sh/v4:Chart::web`),
    // What a yaml/v2 ConfigGroup registers from the team's own manifests.
    { ...object("Deployment", "apps/v1", "manifests-api", { selector: { matchLabels: { app: "m" } }, template: { spec: pod(V1) } }), parent: `${STACK}::kubernetes:yaml/v2:ConfigGroup::manifests` },
    { type: "kubernetes:yaml/v2:ConfigGroup", urn: `${STACK}::kubernetes:yaml/v2:ConfigGroup::manifests`, custom: false, inputs: { yaml: `image: ${V1}` } },
    // The chart itself is a component: its values name the image, it runs nothing.
    { type: "kubernetes:helm.sh/v4:Chart", urn: `${STACK}::kubernetes:helm.sh/v4:Chart::web`, custom: false, inputs: { values: { image: V1 } } },
    { type: "docker:index/container:Container", urn: `${STACK}::docker:index/container:Container::edge`, custom: true, inputs: { image: W1, name: "edge" }, outputs: { image: W1, name: "edge" } },
    { type: "docker:index/service:Service", urn: `${STACK}::docker:index/service:Service::queue`, custom: true, inputs: { taskSpec: { containerSpec: { image: W1 } } }, outputs: { name: "shop-queue" } },
    // A type the command does not read: an ECS task's container definitions are JSON text.
    { type: "aws:ecs/taskDefinition:TaskDefinition", urn: `${STACK}::aws:ecs/taskDefinition:TaskDefinition::batch`, custom: true, inputs: { containerDefinitions: JSON.stringify([{ name: "batch", image: V1 }]) } },
    // Another image, and a tag of the same repository: neither is a release's workload.
    object("Deployment", "apps/v1", "other", { selector: { matchLabels: { app: "other" } }, template: { spec: pod(`${REPO}:v1`) } }),
];

describe("a release's own workloads, found in the state", () => {
    const found = ownWorkloadsOf(RESOURCES, [
        { urn: API, imageRef: V1 },
        { urn: WORKER, imageRef: W1 },
    ]);
    const names = (urn: string): string[][] => found.get(urn)!.map((workload) => [workload.type, workload.name]);

    it("finds every resource whose inputs name the release's imageRef, of any provider, in the state's order, and none of the release's own children", () => {
        assert.deepEqual(names(API), [
            ["kubernetes:apps/v1:Deployment", "api"],
            ["kubernetes:apps/v1:ReplicaSet", "legacy"],
            ["kubernetes:batch/v1:Job", "migrate"],
            ["kubernetes:batch/v1:CronJob", "report"],
            ["kubernetes:core/v1:Pod", "debug"],
            ["kubernetes:apps/v1:Deployment", "chart-web"],
            ["kubernetes:apps/v1:Deployment", "manifests-api"],
            ["aws:ecs/taskDefinition:TaskDefinition", "batch"],
        ]);
        assert.deepEqual(names(WORKER), [
            ["kubernetes:apps/v1:StatefulSet", "worker"],
            ["kubernetes:apps/v1:DaemonSet", "agent"],
            ["kubernetes:apps/v1:Deployment", "chart-web"],
            ["docker:index/container:Container", "edge"],
            ["docker:index/service:Service", "queue"],
        ]);
    });

    it("names each place the image is run, init containers and sidecars included", () => {
        const [api] = found.get(API)!;
        assert.deepEqual(api.paths, ["spec.template.spec.initContainers[0].image", "spec.template.spec.containers[0].image"]);
        const chart = found.get(WORKER)!.find((workload) => workload.name === "chart-web")!;
        assert.deepEqual(chart.paths, ["spec.template.spec.containers[1].image"]);
        const cron = found.get(API)!.find((workload) => workload.name === "report")!;
        assert.deepEqual(cron.paths, ["spec.jobTemplate.spec.template.spec.containers[0].image"]);
    });

    it("says where each is read live, with the provider it was deployed with; a type it does not read has none", () => {
        const byName = new Map([...found.get(API)!, ...found.get(WORKER)!].map((workload) => [workload.name, workload]));
        assert.deepEqual(byName.get("api")!.live, { kind: "kubernetes", apiVersion: "apps/v1", objectKind: "Deployment", name: "api-x1", namespace: "shop", selector: { app: "api" } });
        assert.deepEqual(byName.get("report")!.live, { kind: "kubernetes", apiVersion: "batch/v1", objectKind: "CronJob", name: "report-x1", namespace: "shop", uid: "c0ffee00-0000-4000-8000-000000000001" });
        assert.deepEqual(byName.get("debug")!.live, { kind: "kubernetes", apiVersion: "v1", objectKind: "Pod", name: "debug-x1", namespace: "shop" });
        assert.deepEqual(byName.get("migrate")!.live, { kind: "kubernetes", apiVersion: "batch/v1", objectKind: "Job", name: "migrate-x1", namespace: "shop" });
        assert.deepEqual(byName.get("edge")!.live, { kind: "docker", container: "edge" });
        assert.deepEqual(byName.get("queue")!.live, { kind: "swarm", service: "shop-queue" });
        assert.equal(byName.get("batch")!.live, undefined);
        assert.deepEqual(byName.get("api")!.provider, { name: "default_4_34_2", default: true, inputs: { context: "prod" } });
    });

    it("judges a live object by the image at each of those places: ok, drift after kubectl set image, missing", () => {
        const [api] = found.get(API)!;
        const live = structuredClone(RESOURCES[5].outputs) as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
        assert.deepEqual(judgeObject(api, live, V1), {
            state: "ok",
            images: [
                { path: "spec.template.spec.initContainers[0].image", live: V1 },
                { path: "spec.template.spec.containers[0].image", live: V1 },
            ],
        });
        live.spec.template.spec.containers[0].image = `${REPO}:hotfix`;
        assert.deepEqual(judgeObject(api, live, V1).state, "drift");
        assert.deepEqual(judgeObject(api, live, V1).images[1], { path: "spec.template.spec.containers[0].image", live: `${REPO}:hotfix` });
        assert.deepEqual(judgeObject(api, null, V1), { state: "missing", images: [] });
    });

    it("reads images by digest whole or inside text, and values at the paths it writes", () => {
        assert.deepEqual([...imageRefsIn({ a: [V1, `see ${W1} and ${V1}`], b: `${REPO}:v1` }).entries()], [
            [V1, ["a[0]", "a[1]"]],
            [W1, ["a[1]"]],
        ]);
        assert.equal(valueAt({ spec: { containers: [{ image: "x" }] } }, "spec.containers[0].image"), "x");
        assert.equal(valueAt({ spec: {} }, "spec.containers[0].image"), undefined);
    });

    it("gives each service of a checkpoint its own workloads", () => {
        const services = servicesOfState({ version: 3, deployment: { resources: RESOURCES } });
        assert.deepEqual(
            services.map((service) => [service.name, service.deployedImage]),
            [
                ["api", V1],
                ["worker", W1],
            ],
            "what the user's own workloads were told to run, for up --atomic to see which release an update moved",
        );
        assert.deepEqual(
            services.map((service) => [service.name, service.ownWorkloads?.map((workload) => workload.name)]),
            [
                ["api", ["api", "legacy", "migrate", "report", "debug", "chart-web", "manifests-api", "batch"]],
                ["worker", ["worker", "agent", "chart-web", "edge", "queue"]],
            ],
        );
    });
});
