// What every workload kind shares: it runs a release that components/release decided, and it
// records where it runs, so the command can ask what runs there live. No kind sees a build or a registry.
import type * as pulumi from "@pulumi/pulumi";

/** The kinds of workload a ReleasedService pins to its release. */
export const WORKLOAD_KINDS = ["kubernetes", "docker", "swarm", "compose"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
export const DEFAULT_WORKLOAD: WorkloadKind = "kubernetes";

/** The release a workload pins itself to. */
export interface PinnedRelease {
    /** Repository without tag or digest. */
    readonly image: string;
    /** `sha256:…`. */
    readonly digest: pulumi.Output<string>;
    /** `<image>@sha256:…`: the only reference a workload may run. */
    readonly imageRef: pulumi.Output<string>;
    readonly version: pulumi.Output<string>;
}

/** A Kubernetes Deployment: its pods are those its selector matches. */
export interface KubernetesWorkloadRecord {
    readonly kind: "kubernetes";
    readonly namespace: string;
    readonly deployment: string;
    /** The Service in front of the Deployment's pods. */
    readonly service: string;
    readonly selector: Readonly<Record<string, string>>;
}

/** One container on a Docker host (the Docker provider's host, or `DOCKER_HOST`). */
export interface DockerWorkloadRecord {
    readonly kind: "docker";
    readonly container: string;
}

/** A Swarm service: its tasks run the release. */
export interface SwarmWorkloadRecord {
    readonly kind: "swarm";
    readonly service: string;
}

/** A service of a Compose file whose image is pinned; `docker compose` runs it, not Pulumi. */
export interface ComposeWorkloadRecord {
    readonly kind: "compose";
    /** The file written, as given (relative to the Pulumi project). */
    readonly file: string;
    readonly service: string;
}

/**
 * Where a ReleasedService's workload runs, registered among the component's outputs as `workload`:
 * plain data a checkpoint keeps, from which the command finds what runs live.
 */
export type WorkloadRecord = KubernetesWorkloadRecord | DockerWorkloadRecord | SwarmWorkloadRecord | ComposeWorkloadRecord;

/** Pins a workload of one kind to the release; its resources are children of `parent`, named after `name`. */
export type PinWorkload<Settings, Record extends WorkloadRecord = WorkloadRecord> = (
    name: string,
    release: PinnedRelease,
    settings: Settings,
    parent: pulumi.Resource,
) => pulumi.Output<Record>;
