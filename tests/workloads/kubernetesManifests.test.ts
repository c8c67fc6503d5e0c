// The Deployment and Service the component produces, as the provider would send them to the
// API server, checked against the Kubernetes OpenAPI schema (kubernetes-models) and against the
// label rules the API server applies beyond the schema.
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";
import * as fc from "fast-check";

import * as arb from "../support/arbitraries";
import { sourceFixture, SourceFixture } from "../support/fixtures";
import { DEPLOYMENT_TYPE, MockCloud, ofType, REGISTRY_HOST, runUpdate, SERVICE_TYPE, Update } from "../support/helpers";
import type { ReleasedServiceArgs } from "../../components/releasedService";
import type { ReadinessProbe } from "../../components/workloads/kubernetes/settings";
import type { KubernetesWorkloadRecord } from "../../components/workloads/workload";
import { labelValue } from "../../components/workloads/kubernetes/release";

type Module = typeof import("../../components");
let component: Module;
let source: SourceFixture;

/**
 * What is used of a kubernetes-models class. Declared here: its typings reach the base class
 * through an exports map that this project's `node` module resolution does not read.
 */
type Model = new (data: Record<string, unknown>) => { validate(): void };
let models: { readonly Deployment: Model; readonly Service: Model };

// kubernetes-models ships ES modules exported for `import` only. This project compiles to
// CommonJS, where TypeScript rewrites import() into require(), which that exports map refuses;
// a Function body is left alone, so Node's own import() loads the modules.
const importModule = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<unknown>;

const SEED = 20260314;
const IMAGE = `${REGISTRY_HOST}/payment-api`;
const LONG_VERSION = `release-2026.03.14-${"a3f2c8d".repeat(15)}`;

/** A label value: empty, or at most 63 characters, alphanumeric at both ends, `-`, `_`, `.` between. */
const LABEL_VALUE = /^(?:(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** A label key: an optional DNS-subdomain prefix and `/`, then a name like a value but not empty. */
const LABEL_KEY = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** What the provider sends for one recorded resource. */
interface Manifests {
    readonly deployment: Record<string, unknown>;
    readonly service: Record<string, unknown>;
}

/**
 * The recorded inputs of the one Deployment and the one Service, named. Pulumi auto-names both at
 * the engine, so the inputs the program registers have no `metadata.name`; the provider adds the
 * name the engine chose before it sends the object. The mocks choose that name and the component
 * records it in its `workload` output; it is added here the same way.
 */
function manifests(update: Update): Manifests {
    const named = (type: string, name: unknown): Record<string, unknown> => {
        const recorded = ofType(update, type);
        assert.equal(recorded.length, 1, `exactly one ${type}`);
        assert.equal(recorded[0].inputs.metadata.name, undefined, "auto-named at the engine");
        assert.equal(typeof name, "string", `${type} name`);
        return { ...recorded[0].inputs, metadata: { ...recorded[0].inputs.metadata, name } };
    };
    return {
        deployment: named(DEPLOYMENT_TYPE, (update.outputs.workload as KubernetesWorkloadRecord).deployment),
        service: named(SERVICE_TYPE, (update.outputs.workload as KubernetesWorkloadRecord).service),
    };
}

function deploy(cloud: MockCloud, name: string, args: ReleasedServiceArgs): Promise<Update> {
    return runUpdate(cloud, () => {
        const service = new component.ReleasedService(name, args);
        return { workload: service.workload };
    });
}

/** Validates against the schema; throws kubernetes-models' ValidationError, which names the path. */
function validate({ deployment, service }: Manifests): void {
    new models.Deployment(deployment).validate();
    new models.Service(service).validate();
}

/** Every label of the Deployment, its pod template and the Service, and every selector. */
function labels({ deployment, service }: Manifests): Record<string, string>[] {
    const d = deployment as { metadata: { labels: Record<string, string> }; spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } } };
    const s = service as { metadata: { labels: Record<string, string> }; spec: { selector: Record<string, string> } };
    return [d.metadata.labels, d.spec.selector.matchLabels, d.spec.template.metadata.labels, s.metadata.labels, s.spec.selector];
}

function assertLegalLabels(m: Manifests): void {
    for (const set of labels(m)) {
        for (const [key, value] of Object.entries(set)) {
            assert.match(key, LABEL_KEY);
            assert.ok(value.length <= 63 && LABEL_VALUE.test(value), `label ${key}: ${JSON.stringify(value)} is not a legal label value`);
        }
    }
}

describe("manifests against the Kubernetes schema", () => {
    before(async () => {
        await pulumi.runtime.setMocks(new MockCloud(), "released-service", "dev", false);
        component = await import("../../components");
        source = sourceFixture("v2.4.1");
        const [apps, core] = await Promise.all([
            importModule("kubernetes-models/apps/v1/Deployment"),
            importModule("kubernetes-models/v1/Service"),
        ]);
        models = {
            Deployment: (apps as { Deployment: Model }).Deployment,
            Service: (core as { Service: Model }).Service,
        };
    });

    it("validates the defaults: only an image and a version (and a build context of its own)", async () => {
        const update = await deploy(new MockCloud(), "payment", { image: IMAGE, version: "v2.4.1", context: source.context });
        assert.deepEqual(update.errors, []);
        const m = manifests(update);
        assert.equal(m.deployment.apiVersion, "apps/v1");
        assert.equal(m.deployment.kind, "Deployment");
        assert.equal(m.service.apiVersion, "v1");
        assert.equal(m.service.kind, "Service");
        validate(m);
        assertLegalLabels(m);
    });

    it("validates a fully specified service: replicas, port, namespace, env, resources, probe, no history, credentials, a long version", async () => {
        const cloud = new MockCloud();
        const digest = cloud.pushElsewhere(`${IMAGE}:${LONG_VERSION}`);
        const update = await deploy(cloud, "payment", {
            image: IMAGE,
            version: LONG_VERSION,
            build: false,
            replicas: 3,
            port: 9090,
            namespace: "payments",
            env: { LOG_LEVEL: "debug", DATABASE_URL: "postgres://db:5432/payments" },
            resources: { limits: { cpu: "500m", memory: "256Mi" }, requests: { cpu: "50m", memory: "64Mi" } },
            readinessProbe: { httpGet: { path: "/healthz" }, periodSeconds: 5, failureThreshold: 3 },
            revisionHistoryLimit: 0,
            registryUsername: "ci",
            registryPassword: "hunter2-registry",
        });
        assert.deepEqual(update.errors, []);
        const m = manifests(update);
        const spec = m.deployment.spec as { replicas: number; revisionHistoryLimit: number; template: { spec: { containers: { image: string }[] } } };
        assert.equal(spec.replicas, 3);
        assert.equal(spec.revisionHistoryLimit, 0);
        assert.equal(spec.template.spec.containers[0].image, `${IMAGE}@${digest}`);
        assert.ok(LONG_VERSION.length > 63, "longer than a label value may be");
        validate(m);
        assertLegalLabels(m);
    });

    const probes: [string, ReadinessProbe, Record<string, unknown>][] = [
        ["a TCP check of the container's port", { tcpSocket: {}, periodSeconds: 3 }, { tcpSocket: { port: "http" }, periodSeconds: 3 }],
        ["a TCP check of another port", { tcpSocket: { port: 9000 } }, { tcpSocket: { port: 9000 } }],
        [
            "an HTTP check of another port",
            { httpGet: { path: "/ready", port: 8081 }, timeoutSeconds: 2, failureThreshold: 5 },
            { httpGet: { path: "/ready", port: 8081 }, timeoutSeconds: 2, failureThreshold: 5 },
        ],
        [
            "a command",
            { exec: { command: ["/bin/busybox", "true"] }, initialDelaySeconds: 0, successThreshold: 1 },
            { exec: { command: ["/bin/busybox", "true"] }, initialDelaySeconds: 0, successThreshold: 1 },
        ],
        ["timings alone, with the default check", { periodSeconds: 7 }, { tcpSocket: { port: "http" }, periodSeconds: 7 }],
    ];
    for (const [title, probe, expected] of probes) {
        it(`validates a readiness probe: ${title}`, async () => {
            const update = await deploy(new MockCloud(), "payment", { image: IMAGE, version: "v2.4.1", context: source.context, readinessProbe: probe });
            assert.deepEqual(update.errors, []);
            const m = manifests(update);
            const spec = m.deployment.spec as { template: { spec: { containers: { readinessProbe: unknown }[] } } };
            assert.deepEqual(spec.template.spec.containers[0].readinessProbe, expected);
            validate(m);
        });
    }

    it("validates a pod's placement: Kubernetes' affinity as given, and spreads over the service's own pods", async () => {
        const update = await deploy(new MockCloud(), "payment", {
            image: IMAGE,
            version: "v2.4.1",
            context: source.context,
            pod: {
                affinity: {
                    nodeAffinity: {
                        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: "pool", operator: "In", values: ["general"] }] } }],
                    },
                    podAntiAffinity: {
                        requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { "app.kubernetes.io/name": "ledger" } } }],
                    },
                },
                topologySpread: [
                    { topologyKey: "topology.kubernetes.io/zone", minDomains: 3 },
                    { topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" },
                ],
            },
        });
        assert.deepEqual(update.errors, []);
        const m = manifests(update);
        const spec = m.deployment.spec as { selector: unknown; template: { spec: { topologySpreadConstraints: { labelSelector: unknown }[] } } };
        assert.deepEqual(
            spec.template.spec.topologySpreadConstraints.map((constraint) => constraint.labelSelector),
            [spec.selector, spec.selector],
        );
        validate(m);
    });

    it("refuses broken manifests, so the checks above can fail", async () => {
        const update = await deploy(new MockCloud(), "payment", { image: IMAGE, version: "v2.4.1", context: source.context });
        const { deployment, service } = manifests(update);
        const spec = deployment.spec as Record<string, unknown>;
        const broken = (change: Record<string, unknown>) => new models.Deployment({ ...deployment, spec: { ...spec, ...change } });
        assert.throws(() => broken({ replicas: "three" }).validate(), /data\/spec\/replicas must be integer/);
        // What a Deployment cannot store even though it is a whole number: replicas is an int32.
        assert.throws(() => broken({ replicas: 2 ** 31 }).validate(), /data\/spec\/replicas must match format "int32"/);
        assert.throws(() => broken({ selector: undefined }).validate(), /data\/spec must have required property selector/);
        const template = spec.template as { spec: Record<string, unknown> };
        assert.throws(
            () => broken({ template: { ...template, spec: { ...template.spec, topologySpreadConstraints: [{ topologyKey: "kubernetes.io/hostname", maxSkew: 1 }] } } }).validate(),
            /data\/spec\/template\/spec\/topologySpreadConstraints\/0 must have required property whenUnsatisfiable/,
        );
        const ports = (service.spec as { ports: Record<string, unknown>[] }).ports;
        assert.throws(
            () => new models.Service({ ...service, spec: { ...(service.spec as object), ports: [{ ...ports[0], port: "http" }] } }).validate(),
            /data\/spec\/ports\/0\/port must be integer/,
        );
    });

    it(`validates whatever valid replicas, port, history, namespace, name and version it is given (50 generated)`, async () => {
        const inputs = fc.record({
            name: arb.workloadName,
            version: arb.tag,
            replicas: arb.count,
            port: arb.portNumber,
            revisionHistoryLimit: arb.count,
            namespace: arb.namespace,
        });
        await fc.assert(
            fc.asyncProperty(inputs, async ({ name, ...args }) => {
                const cloud = new MockCloud();
                const update = await deploy(cloud, name, {
                    ...args,
                    image: IMAGE,
                    digest: cloud.pushDigest(`sha256:${"9c1e3a5b".repeat(8)}`),
                    build: false,
                });
                assert.deepEqual(update.errors, []);
                validate(manifests(update));
            }),
            { seed: SEED, numRuns: 50 },
        );
    }).timeout(30_000);

    it("labels the version with a legal label value for every valid version (1000 generated)", () => {
        fc.assert(
            fc.property(arb.tag, (version) => {
                const value = labelValue(version);
                assert.ok(value.length <= 63 && LABEL_VALUE.test(value), `version ${JSON.stringify(version)} → label ${JSON.stringify(value)}`);
            }),
            { seed: SEED, numRuns: 1000 },
        );
    });
});
