// The released-service policies, each exported on its own so tests can call its validateResource
// without a policy server; `policies` is the list the pack serves (see index.ts).
import * as k8s from "@pulumi/kubernetes";
import {
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    validateResourceOfType,
} from "@pulumi/policy";
import {
    isPinnedByDigest,
    LATEST_TAG,
    parseImageReference,
    PINNED_FORM,
    PodContainer,
    podContainers,
    PodSpecLike,
    usesLatestTag,
} from "./images";
import { CHANGE_CAUSE_ANNOTATION, VERSION_LABEL } from "../components/workloads/kubernetes/settings";

export { CHANGE_CAUSE_ANNOTATION };

/** The fewest old ReplicaSets a Deployment may keep unless the policy config says otherwise. */
export const DEFAULT_MINIMUM_REVISION_HISTORY_LIMIT = 1;

/** What Kubernetes keeps when a Deployment leaves `spec.revisionHistoryLimit` unset. */
export const KUBERNETES_DEFAULT_REVISION_HISTORY_LIMIT = 10;

/** The label that says which release a Deployment runs: the one the workload module reads back. */
export { VERSION_LABEL };

/** The annotation `kubectl rollout history` shows for each revision. */

/** The workload kinds whose pod specs the image policies read. */
export const WORKLOAD_TYPES = [
    "kubernetes:core/v1:Pod",
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
] as const;

/** Configuration of the `deployment-revision-history` policy. */
export interface RevisionHistoryConfig {
    /** Defaults to DEFAULT_MINIMUM_REVISION_HISTORY_LIMIT (1). */
    readonly minimumRevisionHistoryLimit?: number;
}

/**
 * The pod spec a workload runs, read where its kind keeps it: a Pod at `spec`, a CronJob at
 * `spec.jobTemplate.spec.template.spec`, the others at `spec.template.spec`. Undefined when the
 * resource is not a workload; `{ spec: undefined }` when it is one without a pod spec yet.
 */
function workloadPodSpec(args: ResourceValidationArgs): { readonly spec?: PodSpecLike } | undefined {
    const pod = args.asType(k8s.core.v1.Pod);
    if (pod) {
        return { spec: pod.spec };
    }
    const templated =
        args.asType(k8s.apps.v1.Deployment) ??
        args.asType(k8s.apps.v1.StatefulSet) ??
        args.asType(k8s.apps.v1.DaemonSet) ??
        args.asType(k8s.batch.v1.Job);
    if (templated) {
        return { spec: templated.spec?.template?.spec };
    }
    const cronJob = args.asType(k8s.batch.v1.CronJob);
    if (cronJob) {
        return { spec: cronJob.spec?.jobTemplate?.spec?.template?.spec };
    }
    return undefined;
}

/**
 * Runs `check` on every container and init container of any workload kind. One validation that
 * dispatches on the type, rather than one per kind, so the runtime records the policy as not
 * applicable only to resources that are no workload at all.
 */
function validateWorkloadContainers(check: (container: PodContainer, report: ReportViolation) => void): ResourceValidation {
    return (args, report) => {
        const workload = workloadPodSpec(args);
        if (workload === undefined) {
            return args.notApplicable(`Policy only applies to resources of types ${WORKLOAD_TYPES.join(", ")}`);
        }
        for (const container of podContainers(workload.spec)) {
            check(container, report);
        }
    };
}

export const imagesPinnedByDigest: ResourceValidationPolicy = {
    name: "images-pinned-by-digest",
    description:
        "Every container and init container of a Pod, Deployment, StatefulSet, DaemonSet, Job or CronJob runs an image pinned by digest, so what runs is exactly what was built and reviewed.",
    enforcementLevel: "mandatory",
    validateResource: validateWorkloadContainers((container, report) => {
        if (container.image === undefined || container.image === "") {
            report(`${container.label} has no image (expected ${PINNED_FORM})`);
        } else if (!isPinnedByDigest(container.image)) {
            report(`${container.label} image ${JSON.stringify(container.image)} is not pinned by digest (expected ${PINNED_FORM})`);
        }
    }),
};

export const imagesNoLatestTag: ResourceValidationPolicy = {
    name: "images-no-latest-tag",
    description:
        "No container or init container of a workload names the `latest` tag, explicitly or by leaving out both tag and digest: `latest` moves with every push, so it records nothing a rollback could return to.",
    enforcementLevel: "mandatory",
    validateResource: validateWorkloadContainers((container, report) => {
        if (container.image === undefined || !usesLatestTag(container.image)) {
            return;
        }
        const image = JSON.stringify(container.image);
        report(
            parseImageReference(container.image).tag === LATEST_TAG
                ? `${container.label} image ${image} uses the tag "latest" (expected a release tag or only a digest)`
                : `${container.label} image ${image} has no tag or digest, so it runs "latest" (expected a release tag or a digest)`,
        );
    }),
};

export const deploymentRevisionHistory: ResourceValidationPolicy = {
    name: "deployment-revision-history",
    description:
        "Deployments keep old ReplicaSets (spec.revisionHistoryLimit at least minimumRevisionHistoryLimit), so `kubectl rollout undo` has a revision to return to.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            minimumRevisionHistoryLimit: {
                type: "integer",
                minimum: 0,
                default: DEFAULT_MINIMUM_REVISION_HISTORY_LIMIT,
                description: "The fewest old ReplicaSets a Deployment may keep.",
            },
        },
    },
    validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (deployment, args, report) => {
        // getConfig() is {} when no config reaches the pack, so the schema's default is applied here too.
        const minimum = args.getConfig<RevisionHistoryConfig>().minimumRevisionHistoryLimit ?? DEFAULT_MINIMUM_REVISION_HISTORY_LIMIT;
        const limit = deployment.spec?.revisionHistoryLimit;
        const expected = `expected at least ${minimum}`;
        if (limit === undefined) {
            if (KUBERNETES_DEFAULT_REVISION_HISTORY_LIMIT < minimum) {
                report(`spec.revisionHistoryLimit is unset, which Kubernetes treats as ${KUBERNETES_DEFAULT_REVISION_HISTORY_LIMIT} (${expected})`);
            }
        } else if (limit < minimum) {
            report(`spec.revisionHistoryLimit is ${limit} (${expected})`);
        }
    }),
};

/** Reports a metadata entry that is absent or empty; `field` is how the message names it. */
function requireMetadataEntry(
    entries: Readonly<Record<string, string>> | undefined,
    key: string,
    field: string,
    expected: string,
    report: ReportViolation,
): void {
    const value = entries?.[key];
    if (value === undefined) {
        report(`${field}[${JSON.stringify(key)}] is missing (expected ${expected})`);
    } else if (value.trim() === "") {
        report(`${field}[${JSON.stringify(key)}] is empty (expected ${expected})`);
    }
}

export const deploymentVersionLabel: ResourceValidationPolicy = {
    name: "deployment-version-label",
    description: `Deployments carry the label ${VERSION_LABEL}, so anyone reading the cluster can tell which release runs.`,
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (deployment, _args, report) => {
        requireMetadataEntry(deployment.metadata?.labels, VERSION_LABEL, "metadata.labels", 'the release version, e.g. "v2.4.1"', report);
    }),
};

export const deploymentChangeCause: ResourceValidationPolicy = {
    name: "deployment-change-cause",
    description: `Deployments carry the annotation ${CHANGE_CAUSE_ANNOTATION}, so \`kubectl rollout history\` says what each revision changed.`,
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (deployment, _args, report) => {
        requireMetadataEntry(
            deployment.metadata?.annotations,
            CHANGE_CAUSE_ANNOTATION,
            "metadata.annotations",
            'a note of what this revision changes, e.g. "v2.4.1 (payment-api@sha256:…)"',
            report,
        );
    }),
};

/** Every policy of the pack, in the order it reports them. */
export const policies: readonly ResourceValidationPolicy[] = [
    imagesPinnedByDigest,
    imagesNoLatestTag,
    deploymentRevisionHistory,
    deploymentVersionLabel,
    deploymentChangeCause,
];
