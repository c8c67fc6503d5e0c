// Each policy of the pack (policy/policies.ts) called through its own validateResource: a happy
// fixture reports nothing, and each one-field variation reports exactly the expected messages.
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import {
    DEFAULT_MINIMUM_REVISION_HISTORY_LIMIT,
    deploymentChangeCause,
    deploymentRevisionHistory,
    deploymentVersionLabel,
    imagesNoLatestTag,
    imagesPinnedByDigest,
    policies,
} from "../../policy/policies";
import {
    APP_IMAGE,
    DIGEST,
    deploymentProps,
    notApplicableReason,
    podSpec,
    resourceArgs,
    violations,
    WORKLOADS,
} from "./fixtures";

const EXPECTED_PIN = "(expected <repo>@sha256:<64 hex>)";
const WORKLOAD_TYPES =
    "kubernetes:core/v1:Pod, kubernetes:apps/v1:Deployment, kubernetes:apps/v1:StatefulSet, " +
    "kubernetes:apps/v1:DaemonSet, kubernetes:batch/v1:Job, kubernetes:batch/v1:CronJob";
const service = resourceArgs(k8s.core.v1.Service, { spec: { ports: [{ port: 80 }] } });

describe("policy images-pinned-by-digest", () => {
    for (const { kind, args } of WORKLOADS) {
        describe(kind, () => {
            it("accepts pinned containers and init containers", async () => {
                assert.deepStrictEqual(await violations(imagesPinnedByDigest, args(podSpec())), []);
            });

            it("reports a container with a tag and no digest", async () => {
                assert.deepStrictEqual(await violations(imagesPinnedByDigest, args(podSpec({ app: "nginx:1.27" }))), [
                    `container "app" image "nginx:1.27" is not pinned by digest ${EXPECTED_PIN}`,
                ]);
            });

            it("reports an init container with no tag and no digest", async () => {
                assert.deepStrictEqual(await violations(imagesPinnedByDigest, args(podSpec({ migrate: "busybox" }))), [
                    `init container "migrate" image "busybox" is not pinned by digest ${EXPECTED_PIN}`,
                ]);
            });
        });
    }

    it("reports every unpinned container of one workload, init containers first", async () => {
        const spec = podSpec({ app: "localhost:5000/payment-api:v2.4.1", migrate: `busybox@sha256:${"F".repeat(64)}` });
        assert.deepStrictEqual(await violations(imagesPinnedByDigest, resourceArgs(k8s.apps.v1.Deployment, deploymentProps({ spec }))), [
            `init container "migrate" image "busybox@sha256:${"F".repeat(64)}" is not pinned by digest ${EXPECTED_PIN}`,
            `container "app" image "localhost:5000/payment-api:v2.4.1" is not pinned by digest ${EXPECTED_PIN}`,
        ]);
    });

    it("accepts a tag beside the digest", async () => {
        const spec = podSpec({ app: `localhost:5000/payment-api:v2.4.1@${DIGEST}` });
        assert.deepStrictEqual(await violations(imagesPinnedByDigest, resourceArgs(k8s.core.v1.Pod, { spec })), []);
    });

    it("reports a container without an image", async () => {
        const spec = { containers: [{ name: "app" }, { name: "sidecar", image: "" }] };
        assert.deepStrictEqual(await violations(imagesPinnedByDigest, resourceArgs(k8s.core.v1.Pod, { spec })), [
            `container "app" has no image ${EXPECTED_PIN}`,
            `container "sidecar" has no image ${EXPECTED_PIN}`,
        ]);
    });

    it("has nothing to report on a workload without a pod spec", async () => {
        assert.deepStrictEqual(await violations(imagesPinnedByDigest, resourceArgs(k8s.core.v1.Pod, {})), []);
        const cronJob = resourceArgs(k8s.batch.v1.CronJob, { spec: { schedule: "0 3 * * *", jobTemplate: {} } });
        assert.deepStrictEqual(await violations(imagesPinnedByDigest, cronJob), []);
    });

    it("does not apply to a resource that runs no pods", async () => {
        assert.strictEqual(await notApplicableReason(imagesPinnedByDigest, service), `Policy only applies to resources of types ${WORKLOAD_TYPES}`);
    });
});

describe("policy images-no-latest-tag", () => {
    for (const { kind, args } of WORKLOADS) {
        describe(kind, () => {
            it("accepts digests and release tags", async () => {
                assert.deepStrictEqual(await violations(imagesNoLatestTag, args(podSpec())), []);
                assert.deepStrictEqual(await violations(imagesNoLatestTag, args(podSpec({ app: "nginx:1.27" }))), []);
            });

            it("reports an explicit latest on a container", async () => {
                assert.deepStrictEqual(await violations(imagesNoLatestTag, args(podSpec({ app: "nginx:latest" }))), [
                    'container "app" image "nginx:latest" uses the tag "latest" (expected a release tag or only a digest)',
                ]);
            });

            it("reports an implicit latest on an init container", async () => {
                assert.deepStrictEqual(await violations(imagesNoLatestTag, args(podSpec({ migrate: "busybox" }))), [
                    'init container "migrate" image "busybox" has no tag or digest, so it runs "latest" (expected a release tag or a digest)',
                ]);
            });
        });
    }

    it("reports latest even when a digest pins it", async () => {
        const image = `localhost:5000/payment-api:latest@${DIGEST}`;
        assert.deepStrictEqual(await violations(imagesNoLatestTag, resourceArgs(k8s.core.v1.Pod, { spec: podSpec({ app: image }) })), [
            `container "app" image ${JSON.stringify(image)} uses the tag "latest" (expected a release tag or only a digest)`,
        ]);
    });

    it("leaves a missing image to images-pinned-by-digest", async () => {
        const spec = { containers: [{ name: "app" }, { name: "sidecar", image: "" }] };
        assert.deepStrictEqual(await violations(imagesNoLatestTag, resourceArgs(k8s.core.v1.Pod, { spec })), []);
    });

    it("does not apply to a resource that runs no pods", async () => {
        assert.strictEqual(await notApplicableReason(imagesNoLatestTag, service), `Policy only applies to resources of types ${WORKLOAD_TYPES}`);
    });
});

describe("policy deployment-revision-history", () => {
    const check = (props = deploymentProps(), config: Record<string, unknown> = {}) =>
        violations(deploymentRevisionHistory, resourceArgs(k8s.apps.v1.Deployment, props, config));

    it("defaults to a minimum of 1", () => {
        assert.strictEqual(DEFAULT_MINIMUM_REVISION_HISTORY_LIMIT, 1);
        assert.deepStrictEqual(deploymentRevisionHistory.configSchema, {
            properties: {
                minimumRevisionHistoryLimit: {
                    type: "integer",
                    minimum: 0,
                    default: 1,
                    description: "The fewest old ReplicaSets a Deployment may keep.",
                },
            },
        });
    });

    const table: { limit: number | undefined; config: Record<string, unknown>; expected: string[] }[] = [
        { limit: 10, config: {}, expected: [] },
        { limit: 1, config: {}, expected: [] },
        { limit: 0, config: {}, expected: [`spec.revisionHistoryLimit is 0 (expected at least 1)`] },
        { limit: 0, config: { minimumRevisionHistoryLimit: 0 }, expected: [] },
        { limit: 3, config: { minimumRevisionHistoryLimit: 5 }, expected: [`spec.revisionHistoryLimit is 3 (expected at least 5)`] },
        { limit: 5, config: { minimumRevisionHistoryLimit: 5 }, expected: [] },
        { limit: undefined, config: {}, expected: [] },
        { limit: undefined, config: { minimumRevisionHistoryLimit: 10 }, expected: [] },
        {
            limit: undefined,
            config: { minimumRevisionHistoryLimit: 11 },
            expected: [`spec.revisionHistoryLimit is unset, which Kubernetes treats as 10 (expected at least 11)`],
        },
    ];
    for (const { limit, config, expected } of table) {
        it(`revisionHistoryLimit ${limit ?? "unset"} with config ${JSON.stringify(config)}: ${expected.length} violation(s)`, async () => {
            assert.deepStrictEqual(await check(deploymentProps({ revisionHistoryLimit: limit }), config), expected);
        });
    }

    it("does not apply to other kinds", async () => {
        const statefulSet = WORKLOADS.find((w) => w.kind === "StatefulSet")?.args(podSpec());
        assert.ok(statefulSet);
        for (const other of [statefulSet, service]) {
            assert.strictEqual(
                await notApplicableReason(deploymentRevisionHistory, other),
                "Policy only applies to resources of type 'kubernetes:apps/v1:Deployment'",
            );
        }
    });
});

describe("policy deployment-version-label", () => {
    const check = (labels?: Record<string, string>) =>
        violations(deploymentVersionLabel, resourceArgs(k8s.apps.v1.Deployment, deploymentProps({ labels })));
    const expected = '(expected the release version, e.g. "v2.4.1")';

    it("accepts a Deployment with the label", async () => {
        assert.deepStrictEqual(await check(), []);
    });

    it("reports a missing label", async () => {
        assert.deepStrictEqual(await check({ "app.kubernetes.io/name": "app" }), [
            `metadata.labels["app.kubernetes.io/version"] is missing ${expected}`,
        ]);
    });

    it("reports an empty label", async () => {
        assert.deepStrictEqual(await check({ "app.kubernetes.io/version": "" }), [
            `metadata.labels["app.kubernetes.io/version"] is empty ${expected}`,
        ]);
    });

    it("reports a Deployment with no metadata", async () => {
        const { spec } = deploymentProps();
        assert.deepStrictEqual(await violations(deploymentVersionLabel, resourceArgs(k8s.apps.v1.Deployment, { spec })), [
            `metadata.labels["app.kubernetes.io/version"] is missing ${expected}`,
        ]);
    });

    it("reads the Deployment's own labels, not its pod template's", async () => {
        const props = deploymentProps({ labels: {} });
        const template = { metadata: { labels: { "app.kubernetes.io/version": "v2.4.1" } }, spec: podSpec() };
        const withTemplateLabel = { ...props, spec: { ...props.spec, selector: { matchLabels: {} }, template } };
        assert.deepStrictEqual(await violations(deploymentVersionLabel, resourceArgs(k8s.apps.v1.Deployment, withTemplateLabel)), [
            `metadata.labels["app.kubernetes.io/version"] is missing ${expected}`,
        ]);
    });
});

describe("policy deployment-change-cause", () => {
    const check = (annotations?: Record<string, string>) =>
        violations(deploymentChangeCause, resourceArgs(k8s.apps.v1.Deployment, deploymentProps({ annotations })));
    const expected = '(expected a note of what this revision changes, e.g. "v2.4.1 (payment-api@sha256:…)")';

    it("accepts a Deployment with the annotation", async () => {
        assert.deepStrictEqual(await check(), []);
        assert.deepStrictEqual(await check({ "kubernetes.io/change-cause": `v2.4.1 (${APP_IMAGE})` }), []);
    });

    it("reports a missing annotation", async () => {
        assert.deepStrictEqual(await check({}), [`metadata.annotations["kubernetes.io/change-cause"] is missing ${expected}`]);
    });

    it("reports a blank annotation", async () => {
        assert.deepStrictEqual(await check({ "kubernetes.io/change-cause": "  " }), [
            `metadata.annotations["kubernetes.io/change-cause"] is empty ${expected}`,
        ]);
    });
});

describe("policy pack contents", () => {
    it("serves each policy once, under a unique name, mandatory unless configured otherwise", () => {
        assert.deepStrictEqual(
            policies.map((p) => [p.name, p.enforcementLevel]),
            [
                ["images-pinned-by-digest", "mandatory"],
                ["images-no-latest-tag", "mandatory"],
                ["deployment-revision-history", "mandatory"],
                ["deployment-version-label", "mandatory"],
                ["deployment-change-cause", "mandatory"],
            ],
        );
    });

    it("accepts the happy Deployment under every policy", async () => {
        const deployment = resourceArgs(k8s.apps.v1.Deployment, deploymentProps());
        for (const policy of policies) {
            assert.deepStrictEqual(await violations(policy, deployment), [], policy.name);
        }
    });

    it("lets only deployment-revision-history take parameters", () => {
        assert.deepStrictEqual(
            policies.filter((p) => p.configSchema !== undefined).map((p) => Object.keys(p.configSchema?.properties ?? {})),
            [["minimumRevisionHistoryLimit"]],
        );
    });
});
