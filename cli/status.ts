// What runs now: the digest the stack recorded against the digests the Deployment's pods pulled.
// Pure comparison of `kubectl get pods -o json` output; drift is named, not hidden.

import { digestOfImageId, parseDigestReference } from "./reference";

/** The parts of a `kubectl get pods -o json` list (a core/v1 PodList) this tool reads. */
export interface PodList {
    readonly items: readonly {
        readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>>; readonly deletionTimestamp?: string };
        readonly status?: {
            readonly phase?: string;
            readonly containerStatuses?: readonly { readonly name: string; readonly image: string; readonly imageID?: string; readonly ready?: boolean }[];
        };
    }[];
}

export const VERSION_LABEL = "app.kubernetes.io/version";

export type PodState = "ok" | "drift" | "unknown";

export interface PodReport {
    readonly pod: string;
    readonly phase: string;
    readonly ready: boolean;
    /** The `app.kubernetes.io/version` label of the pod (its ReplicaSet's template). */
    readonly version: string | null;
    readonly digest: string | null;
    /** `unknown` while the runtime has not reported a registry digest (pulling, or a local image). */
    readonly state: PodState;
}

export interface StatusReport {
    readonly stack: string;
    readonly recordedVersion: string | null;
    readonly recordedDigest: string | null;
    readonly imageRef: string | null;
    readonly pods: readonly PodReport[];
    /** True when any pod runs a digest other than the recorded one. */
    readonly drift: boolean;
}

function repositoryOf(reference: string): string | undefined {
    try {
        const parsed = parseDigestReference(reference);
        return `${parsed.registry}/${parsed.repository}`;
    } catch {
        return undefined;
    }
}

/**
 * Compares each pod's workload container with the recorded digest. A pod with sidecars is judged
 * by the containers from the recorded repository; when none is (someone set another image), by all.
 */
export function compareStatus(
    stack: string,
    recorded: { imageDigest?: string; imageRef?: string; version?: string },
    pods: PodList,
): StatusReport {
    const recordedRepository = recorded.imageRef ? repositoryOf(recorded.imageRef) : undefined;
    const reports = pods.items.map((pod): PodReport => {
        const statuses = pod.status?.containerStatuses ?? [];
        const ours = statuses.filter((status) => status.imageID && repositoryOf(status.imageID.replace(/^[a-z-]+:\/\//, "")) === recordedRepository);
        const judged = ours.length > 0 ? ours : statuses;
        const digests = judged.map((status) => (status.imageID ? digestOfImageId(status.imageID) : undefined));
        const known = digests.filter((digest): digest is string => digest !== undefined);
        const foreign = known.find((digest) => digest !== recorded.imageDigest);
        let state: PodState = "unknown";
        if (foreign !== undefined) {
            state = "drift";
        } else if (known.length > 0 && known.length === digests.length) {
            state = "ok";
        }
        return {
            pod: pod.metadata.name,
            phase: pod.status?.phase ?? "Unknown",
            ready: judged.length > 0 && judged.every((status) => status.ready === true),
            version: pod.metadata.labels?.[VERSION_LABEL] ?? null,
            digest: foreign ?? known[0] ?? null,
            state,
        };
    });
    return {
        stack,
        recordedVersion: recorded.version ?? null,
        recordedDigest: recorded.imageDigest ?? null,
        imageRef: recorded.imageRef ?? null,
        pods: reports,
        drift: reports.some((report) => report.state === "drift"),
    };
}

/** Pods being deleted are on their way out: what a rollout lands on is the pods that stay. */
export function livePods(pods: PodList): PodList {
    return { items: pods.items.filter((pod) => pod.metadata.deletionTimestamp === undefined) };
}

/** True when there are pods, and every one that stays runs `digest` and is ready. */
export function allRun(report: StatusReport, digest: string): boolean {
    return report.pods.length > 0 && report.pods.every((pod) => pod.digest === digest && pod.state === "ok" && pod.ready);
}
