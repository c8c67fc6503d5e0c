// ReleasedService under mocks that answer like the providers: the exact inputs of its children.
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { COMMIT_TIME, ORIGIN, SourceFixture, sourceFixture } from "../support/fixtures";
import {
    containsInPlainText,
    DEPLOYMENT_TYPE,
    IMAGE_TYPE,
    MockCloud,
    ofType,
    REGISTRY_HOST,
    runUpdate,
    secretValue,
    SERVICE_TYPE,
    Update,
} from "../support/helpers";
import type { ReleasedServiceArgs } from "../../components/releasedService";
import type { KubernetesWorkloadRecord } from "../../components/workloads/workload";
import { sourceDigest } from "../../components/release/sourceDigest";
import { DEFAULT_REVISION_HISTORY_LIMIT, TIMEOUT_ANNOTATION } from "../../components/workloads/kubernetes/settings";

type Module = typeof import("../../components");
let component: Module;
let source: SourceFixture;

const IMAGE = `${REGISTRY_HOST}/payment-api`;

/** One `pulumi up` of a single ReleasedService named "payment". */
function deploy(cloud: MockCloud, args: Partial<ReleasedServiceArgs>, options: { preview?: boolean } = {}): Promise<Update> {
    return runUpdate(
        cloud,
        () => {
            const service = new component.ReleasedService("payment", { image: IMAGE, context: source.context, ...args });
            return {
                imageDigest: service.imageDigest,
                imageRef: service.imageRef,
                version: service.version,
                built: service.built,
                workload: service.workload,
            };
        },
        options,
    );
}

function only(update: Update, type: string): pulumi.runtime.MockResourceArgs {
    const found = ofType(update, type);
    assert.equal(found.length, 1, `exactly one ${type}`);
    return found[0];
}

describe("ReleasedService", () => {
    before(async () => {
        await pulumi.runtime.setMocks(new MockCloud(), "released-service", "dev", false);
        component = await import("../../components");
        source = sourceFixture("v2.4.1");
    });

    describe("building the source's version", () => {
        let cloud: MockCloud;
        let update: Update;
        before(async () => {
            cloud = new MockCloud();
            update = await deploy(cloud, { version: "v2.4.1" });
        });

        it("builds and pushes once, tagged with the version and the short SHA, kept on delete", () => {
            assert.deepEqual(update.errors, []);
            assert.equal(update.builds, 1);
            const image = only(update, IMAGE_TYPE);
            assert.equal(image.name, "payment-image");
            assert.equal(image.inputs.push, true);
            assert.deepEqual(image.inputs.tags, [`${IMAGE}:v2.4.1`, `${IMAGE}:${source.revision.slice(0, 7)}`, `${IMAGE}:stack.dev.payment`]);
            assert.deepEqual(image.inputs.context, { location: source.context });
            assert.equal(image.inputs.buildOnPreview, false);
            assert.equal(image.inputs.builder, undefined, "Docker's current builder");
        });

        it("builds with the buildx builder it is given", async () => {
            const named = await deploy(new MockCloud(), { version: "v2.4.1", builder: "released-service" });
            assert.deepEqual(only(named, IMAGE_TYPE).inputs.builder, { name: "released-service" });
        });

        it("bakes provenance into OCI labels from the source commit, never the clock", () => {
            const image = only(update, IMAGE_TYPE);
            assert.deepEqual(image.inputs.labels, {
                "org.opencontainers.image.version": "v2.4.1",
                "org.opencontainers.image.revision": source.revision,
                "org.opencontainers.image.created": COMMIT_TIME,
                "org.opencontainers.image.source": ORIGIN,
                "io.released-service.source.digest": sourceDigest(source.context),
                "io.released-service.stack": "organization/released-service/dev",
                "io.released-service.service": "payment",
            });
            assert.deepEqual(image.inputs.buildArgs, {
                RELEASE_VERSION: "v2.4.1",
                RELEASE_REVISION: source.revision,
                SOURCE_DATE_EPOCH: String(Date.parse(COMMIT_TIME) / 1000),
            });
        });

        it("pins exactly one Deployment to the pushed digest, and says so in its outputs", () => {
            const digest = cloud.registry.get(`${IMAGE}:v2.4.1`)!;
            const deployment = only(update, DEPLOYMENT_TYPE);
            const container = deployment.inputs.spec.template.spec.containers[0];
            assert.equal(container.image, `${IMAGE}@${digest}`);
            assert.equal(update.outputs.imageRef, container.image);
            assert.equal(update.outputs.imageDigest, digest);
            assert.equal(update.outputs.version, "v2.4.1");
            assert.equal(update.outputs.built, true);
        });

        it("labels the Deployment and records the release as its change-cause", () => {
            const deployment = only(update, DEPLOYMENT_TYPE);
            const digest = cloud.registry.get(`${IMAGE}:v2.4.1`)!;
            const labels = {
                "app.kubernetes.io/name": "payment",
                "app.kubernetes.io/version": "v2.4.1",
                "app.kubernetes.io/managed-by": "released-service",
            };
            assert.deepEqual(deployment.inputs.metadata, {
                labels,
                annotations: {
                    "kubernetes.io/change-cause": `released-service: v2.4.1 ${IMAGE}@${digest}`,
                    "pulumi.com/patchForce": "true",
                },
            });
            assert.deepEqual(deployment.inputs.spec.selector, { matchLabels: { "app.kubernetes.io/name": "payment" } });
            assert.deepEqual(deployment.inputs.spec.template.metadata, { labels });
        });

        it("runs the container with the defaults: no replica count (Kubernetes' 1, an autoscaler's to own), port 8080, history of 10, a readiness probe", () => {
            const spec = only(update, DEPLOYMENT_TYPE).inputs.spec;
            assert.equal("replicas" in spec, false, "no field manager of Pulumi's owns the count");
            assert.equal(spec.revisionHistoryLimit, DEFAULT_REVISION_HISTORY_LIMIT);
            assert.equal(spec.revisionHistoryLimit, 10);
            assert.equal("progressDeadlineSeconds" in spec, false, "Kubernetes' own deadline");
            const container = spec.template.spec.containers[0];
            assert.deepEqual(container.ports, [{ name: "http", containerPort: 8080 }]);
            assert.deepEqual(container.readinessProbe, { tcpSocket: { port: "http" } });
            assert.deepEqual(container.resources, { requests: { cpu: "50m", memory: "64Mi" } });
            assert.equal(container.env, undefined);
        });

        it("puts a Service in front of the pods, and names both from the component", () => {
            const service = only(update, SERVICE_TYPE);
            assert.deepEqual(service.inputs.spec, {
                selector: { "app.kubernetes.io/name": "payment" },
                ports: [{ name: "http", port: 8080, targetPort: "http" }],
            });
            const workload = update.outputs.workload as KubernetesWorkloadRecord;
            assert.match(workload.deployment, /^payment-[0-9a-f]{8}$/);
            assert.match(workload.service, /^payment-[0-9a-f]{8}$/);
            assert.deepEqual(workload, {
                kind: "kubernetes",
                namespace: "default",
                deployment: workload.deployment,
                service: workload.service,
                selector: { "app.kubernetes.io/name": "payment" },
            });
        });

        it("changes nothing on a second identical update", async () => {
            const again = await deploy(cloud, { version: "v2.4.1" });
            assert.deepEqual([...again.operations.values()], ["same", "same", "same"]);
            assert.equal(again.builds, 0);
            assert.equal(again.pushes, 0);
            assert.deepEqual(again.deleted, []);
            assert.equal(again.outputs.imageDigest, update.outputs.imageDigest);
            assert.equal(again.outputs.built, false);
        });
    });

    it("keeps the build when the component is deleted: retainOnDelete", async () => {
        // Options are not inputs: a transformation on the component sees each child's options.
        const options = new Map<string, pulumi.CustomResourceOptions>();
        const record: pulumi.ResourceTransformation = (child) => {
            options.set(child.type, child.opts);
            return undefined;
        };
        await runUpdate(new MockCloud(), () => {
            new component.ReleasedService(
                "payment",
                { image: IMAGE, version: "v2.4.1", context: source.context },
                { transformations: [record] },
            );
        });
        assert.equal(options.get(IMAGE_TYPE)?.retainOnDelete, true);
        assert.equal(options.get(DEPLOYMENT_TYPE)?.retainOnDelete, undefined);
    });

    for (const limit of [0, 3, 25]) {
        it(`keeps revisionHistoryLimit ${limit} as given`, async () => {
            const update = await deploy(new MockCloud(), { version: "v2.4.1", revisionHistoryLimit: limit });
            assert.equal(only(update, DEPLOYMENT_TYPE).inputs.spec.revisionHistoryLimit, limit);
        });
    }

    it("with progressDeadlineSeconds, sets the rollout's deadline and the provider's wait to it", async () => {
        const cloud = new MockCloud();
        const digest = cloud.pushElsewhere(`${IMAGE}:v2.4.0`);
        const update = await deploy(cloud, { version: "v2.4.0", build: false, progressDeadlineSeconds: 90 });
        assert.deepEqual(update.errors, []);
        const deployment = only(update, DEPLOYMENT_TYPE).inputs;
        assert.deepEqual(deployment.metadata.annotations, {
            "kubernetes.io/change-cause": `released-service: v2.4.0 ${IMAGE}@${digest}`,
            "pulumi.com/patchForce": "true",
            "pulumi.com/timeoutSeconds": "90",
        });
        assert.equal(TIMEOUT_ANNOTATION, "pulumi.com/timeoutSeconds");
        assert.equal(deployment.spec.progressDeadlineSeconds, 90);
    });

    it("passes replicas, port, env, resources, probe and namespace through", async () => {
        const update = await deploy(new MockCloud(), {
            version: "v2.4.1",
            replicas: 3,
            port: 9090,
            namespace: "payments",
            env: { LOG_LEVEL: "debug", A_FIRST: "1" },
            resources: { limits: { memory: "256Mi" } },
            readinessProbe: { httpGet: { path: "/healthz" }, periodSeconds: 5 },
        });
        const deployment = only(update, DEPLOYMENT_TYPE).inputs;
        assert.equal(deployment.metadata.namespace, "payments");
        assert.equal(deployment.spec.replicas, 3);
        const container = deployment.spec.template.spec.containers[0];
        assert.deepEqual(container.ports, [{ name: "http", containerPort: 9090 }]);
        assert.deepEqual(container.env, [
            { name: "A_FIRST", value: "1" },
            { name: "LOG_LEVEL", value: "debug" },
        ]);
        assert.deepEqual(container.resources, { limits: { memory: "256Mi" } });
        assert.deepEqual(container.readinessProbe, { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 });
        const service = only(update, SERVICE_TYPE).inputs;
        assert.equal(service.metadata.namespace, "payments");
        assert.deepEqual(service.spec.ports, [{ name: "http", port: 9090, targetPort: "http" }]);
    });

    describe("a production-shaped pod", () => {
        const PRODUCTION: Partial<ReleasedServiceArgs> = {
            version: "v2.4.1",
            env: { LOG_LEVEL: "info" },
            pod: {
                volumes: [
                    { name: "settings", configMap: "payment-settings" },
                    { name: "tmp", emptyDir: true },
                ],
                serviceAccountName: "payment",
                imagePullSecrets: ["registry-pull"],
                initContainers: [{ name: "migrate", args: ["migrate"], secretEnv: { DATABASE_URL: { secret: "db", key: "url" } } }],
                sidecars: [{ name: "proxy", image: "registry.example.com/proxy:1.2", args: ["--upstream=127.0.0.1:8080"] }],
                nodeSelector: { pool: "general" },
                tolerations: [{ key: "dedicated", operator: "Equal", value: "payments", effect: "NoSchedule" }],
                securityContext: { runAsNonRoot: true, fsGroup: 2000 },
                labels: { team: "payments" },
                annotations: { "prometheus.io/scrape": "true" },
            },
            container: {
                mounts: [
                    { name: "settings", mountPath: "/etc/payment", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                ],
                secretEnv: { DATABASE_URL: { secret: "db", key: "url" } },
                envFrom: [{ configMap: "payment-flags", prefix: "FLAG_" }],
                command: ["/app/server"],
                args: ["--port=8080"],
                livenessProbe: { httpGet: { path: "/livez" }, periodSeconds: 20 },
                startupProbe: { tcpSocket: {}, failureThreshold: 30 },
                securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
            },
        };

        it("adds volumes, a service account, an init container of the release's own image, a sidecar, placement and probes, the image and release labels still the component's", async () => {
            const update = await deploy(new MockCloud(), PRODUCTION);
            assert.deepEqual(update.errors, []);
            const deployment = only(update, DEPLOYMENT_TYPE).inputs;
            const imageRef = update.outputs.imageRef;
            const pod = deployment.spec.template;
            assert.deepEqual(pod.metadata, {
                labels: { team: "payments", "app.kubernetes.io/name": "payment", "app.kubernetes.io/version": "v2.4.1", "app.kubernetes.io/managed-by": "released-service" },
                annotations: { "prometheus.io/scrape": "true" },
            });
            assert.deepEqual(deployment.spec.selector, { matchLabels: { "app.kubernetes.io/name": "payment" } });
            const { containers, ...spec } = pod.spec;
            assert.deepEqual(spec, {
                volumes: [
                    { name: "settings", configMap: { name: "payment-settings" } },
                    { name: "tmp", emptyDir: {} },
                ],
                serviceAccountName: "payment",
                imagePullSecrets: [{ name: "registry-pull" }],
                initContainers: [{ name: "migrate", image: imageRef, args: ["migrate"], env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "db", key: "url" } } }] }],
                nodeSelector: { pool: "general" },
                tolerations: [{ key: "dedicated", operator: "Equal", value: "payments", effect: "NoSchedule" }],
                securityContext: { runAsNonRoot: true, fsGroup: 2000 },
            });
            assert.deepEqual(containers, [
                {
                    name: "app",
                    image: imageRef,
                    ports: [{ name: "http", containerPort: 8080 }],
                    env: [
                        { name: "LOG_LEVEL", value: "info" },
                        { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "db", key: "url" } } },
                    ],
                    volumeMounts: [
                        { name: "settings", mountPath: "/etc/payment", readOnly: true },
                        { name: "tmp", mountPath: "/tmp" },
                    ],
                    envFrom: [{ prefix: "FLAG_", configMapRef: { name: "payment-flags" } }],
                    command: ["/app/server"],
                    args: ["--port=8080"],
                    livenessProbe: { httpGet: { path: "/livez", port: "http" }, periodSeconds: 20 },
                    startupProbe: { tcpSocket: { port: "http" }, failureThreshold: 30 },
                    securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
                    resources: { requests: { cpu: "50m", memory: "64Mi" } },
                    readinessProbe: { tcpSocket: { port: "http" } },
                },
                { name: "proxy", image: "registry.example.com/proxy:1.2", args: ["--upstream=127.0.0.1:8080"] },
            ]);
            assert.equal("replicas" in deployment.spec, false, "an autoscaler may own the count");
        });

        it("passes affinity through as given", async () => {
            const affinity = {
                nodeAffinity: {
                    requiredDuringSchedulingIgnoredDuringExecution: {
                        nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64", "arm64"] }] }],
                    },
                },
                podAffinity: {
                    preferredDuringSchedulingIgnoredDuringExecution: [
                        { weight: 50, podAffinityTerm: { topologyKey: "topology.kubernetes.io/zone", labelSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } } } },
                    ],
                },
            };
            const update = await deploy(new MockCloud(), { version: "v2.4.1", pod: { affinity } });
            assert.deepEqual(update.errors, []);
            const deployment = only(update, DEPLOYMENT_TYPE).inputs;
            const { containers, ...spec } = deployment.spec.template.spec;
            assert.deepEqual(spec, { affinity });
            assert.equal(containers.length, 1);
        });

        it("spreads the service's own pods: each constraint selects them as the Deployment does, the defaults filled in", async () => {
            const update = await deploy(new MockCloud(), {
                version: "v2.4.1",
                pod: {
                    topologySpread: [
                        { topologyKey: "topology.kubernetes.io/zone", minDomains: 3 },
                        { topologyKey: "kubernetes.io/hostname", maxSkew: 2, whenUnsatisfiable: "ScheduleAnyway" },
                    ],
                },
            });
            assert.deepEqual(update.errors, []);
            const deployment = only(update, DEPLOYMENT_TYPE).inputs;
            assert.deepEqual(deployment.spec.selector, { matchLabels: { "app.kubernetes.io/name": "payment" } });
            const { containers, ...spec } = deployment.spec.template.spec;
            assert.deepEqual(spec, {
                topologySpreadConstraints: [
                    {
                        maxSkew: 1,
                        topologyKey: "topology.kubernetes.io/zone",
                        whenUnsatisfiable: "DoNotSchedule",
                        labelSelector: { matchLabels: { "app.kubernetes.io/name": "payment" } },
                        minDomains: 3,
                    },
                    {
                        maxSkew: 2,
                        topologyKey: "kubernetes.io/hostname",
                        whenUnsatisfiable: "ScheduleAnyway",
                        labelSelector: { matchLabels: { "app.kubernetes.io/name": "payment" } },
                    },
                ],
            });
            assert.equal(containers.length, 1);
        });

        it("leaves affinity and topology spread out of a pod that sets neither", async () => {
            const update = await deploy(new MockCloud(), { version: "v2.4.1", pod: { nodeSelector: { pool: "general" } } });
            assert.deepEqual(update.errors, []);
            const { containers, ...spec } = only(update, DEPLOYMENT_TYPE).inputs.spec.template.spec;
            assert.deepEqual(spec, { nodeSelector: { pool: "general" } });
            assert.equal(containers.length, 1);
        });

        it("refuses what would take the component's own or cannot run, naming each field, before registering anything", async () => {
            const update = await deploy(new MockCloud(), {
                version: "v2.4.1",
                env: { DATABASE_URL: "postgres://plain" },
                pod: {
                    volumes: [{ name: "settings", configMap: "a", secret: "b" }, { name: "empty" }],
                    initContainers: [{ name: "app" }],
                    sidecars: [{ name: "Proxy" }],
                    labels: { "app.kubernetes.io/name": "other" },
                    tolerations: [{ operator: "Maybe" }],
                    topologySpread: [{ topologyKey: "topology.kubernetes.io/zone", maxSkew: 0 }, { topologyKey: "zone", whenUnsatisfiable: "Never" }],
                },
                container: {
                    mounts: [{ name: "cache", mountPath: "relative" }],
                    secretEnv: { DATABASE_URL: { secret: "db", key: "url" } },
                    envFrom: [{}],
                },
            });
            assert.deepEqual(update.resources, []);
            assert.deepEqual(update.errors, [
                "12 invalid inputs:\n" +
                    "  - `pod.volumes[0]` must have exactly one source of configMap, secret, emptyDir, persistentVolumeClaim (got configMap and secret)\n" +
                    "  - `pod.volumes[1]` must have exactly one source of configMap, secret, emptyDir, persistentVolumeClaim (got none)\n" +
                    "  - `pod.labels.app.kubernetes.io/name` is the component's own label (it selects the service's pods and names their release); leave it out\n" +
                    "  - `pod.tolerations[0].operator` must be one of Equal, Exists (got \"Maybe\")\n" +
                    "  - `pod.topologySpread[0].maxSkew` must be a whole number from 1 to 2147483647 (got 0)\n" +
                    "  - `pod.topologySpread[1].whenUnsatisfiable` must be one of DoNotSchedule, ScheduleAnyway (got \"Never\")\n" +
                    "  - `pod.initContainers[0].name` `app` is the component's own container; give it another name\n" +
                    "  - `pod.sidecars[0].name` must be a DNS label: lower-case letters, digits and '-' (got \"Proxy\")\n" +
                    "  - `container.mounts[0].name` names no volume of `pod.volumes` (its volumes: settings, empty) (got \"cache\")\n" +
                    "  - `container.mounts[0].mountPath` must be an absolute path such as /etc/app (got \"relative\")\n" +
                    "  - `container.secretEnv.DATABASE_URL` is set in `env` too: a variable has one value\n" +
                    "  - `container.envFrom[0]` must name exactly one of `configMap` and `secret` (got an object)",
            ]);
        });

        it("refuses pod additions on a Docker host, where there is no pod", async () => {
            const update = await deploy(new MockCloud(), { version: "v2.4.1", workload: "docker", pod: { serviceAccountName: "payment" } });
            assert.deepEqual(update.resources, []);
            assert.deepEqual(update.errors, ["`pod` is a setting of the kubernetes workload, not of docker: a pod has volumes, init containers and sidecars"]);
        });
    });

    it("keeps the registry password a secret in every input and output", async () => {
        const password = "hunter2-registry";
        const cloud = new MockCloud();
        // The registry answers only these credentials: the look-ups used them too.
        cloud.credentials = { username: "ci", password };
        const update = await deploy(cloud, { version: "v2.4.1", registryUsername: "ci", registryPassword: password });
        assert.deepEqual(update.errors, []);
        const image = only(update, IMAGE_TYPE);
        assert.deepEqual(secretValue(image.inputs.registries), [{ address: REGISTRY_HOST, username: "ci", password }]);
        for (const resource of update.resources) {
            assert.equal(containsInPlainText(resource.inputs, password), false, `${resource.type} ${resource.name}`);
        }
        assert.equal(containsInPlainText(update.outputs, password), false);
    });

    it("refuses bad input before registering anything, naming every field", async () => {
        const update = await deploy(new MockCloud(), { version: "latest", revisionHistoryLimit: -1, image: "Payment" });
        assert.deepEqual(update.resources, []);
        assert.deepEqual(update.errors, [
            "3 invalid inputs:\n" +
                '  - `image` must be a lower-case image repository such as localhost:5000/payment-api (got "Payment")\n' +
                "  - `version` must name a release, not `latest` (a tag that moves with every push)\n" +
                "  - `revisionHistoryLimit` must be a whole number from 0 to 2147483647 (got -1)",
        ]);
    });

    it("refuses to build when the source's version cannot be known", async () => {
        const bare = sourceFixture();
        const { rmSync } = await import("node:fs");
        rmSync(`${bare.context}/../.git`, { recursive: true, force: true });
        const update = await runUpdate(new MockCloud(), () => {
            new component.ReleasedService("payment", { image: IMAGE, version: "v1", context: bare.context });
        });
        assert.deepEqual(update.resources, []);
        assert.deepEqual(update.errors, [
            `\`sourceVersion\` is unknown: ${bare.context}/VERSION is missing and ${bare.context} is not in a git repository; ` +
                "set `sourceVersion`, or set `build` to false to run only images already pushed",
        ]);
    });

    it("shortens a long version to a legal label value but records it whole in the change-cause", async () => {
        const cloud = new MockCloud();
        const version = `release-${"x".repeat(60)}-`;
        const digest = cloud.pushElsewhere(`${IMAGE}:${version}`);
        const update = await deploy(cloud, { version, build: false });
        const metadata = only(update, DEPLOYMENT_TYPE).inputs.metadata;
        assert.equal(metadata.labels["app.kubernetes.io/version"], `release-${"x".repeat(55)}`);
        assert.equal(metadata.annotations["kubernetes.io/change-cause"], `released-service: ${version} ${IMAGE}@${digest}`);
    });
});
