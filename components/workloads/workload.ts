// What every workload kind shares: it runs a release that components/release decided, and it
// records where it runs, so the command can ask what runs there live. No kind sees a build or the registry client.
import type * as pulumi from "@pulumi/pulumi";

/**
 * What runs a release. An object and a type of one name: the form of enum every Pulumi language
 * reads from the package's schema.
 */
export const WorkloadKind = {
    /** A Kubernetes Deployment and a Service in front of its pods. */
    Kubernetes: "kubernetes",
    /** One container on a Docker host. */
    Docker: "docker",
    /** A Docker Swarm service. */
    Swarm: "swarm",
    /** A Compose file pinning the service's image, for `docker compose` to run. */
    Compose: "compose",
} as const;
export type WorkloadKind = (typeof WorkloadKind)[keyof typeof WorkloadKind];

/** The port a service listens on, whatever runs it, unless its `port` says otherwise. */
export const DEFAULT_PORT = 8080;

/** The kinds of workload a ReleasedService pins to its release. */
export const WORKLOAD_KINDS: readonly WorkloadKind[] = Object.values(WorkloadKind);
export const DEFAULT_WORKLOAD: WorkloadKind = WorkloadKind.Kubernetes;

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

/**
 * Where a ReleasedService's workload runs, registered among the component's outputs as `workload`:
 * plain data a checkpoint keeps, from which the command finds what runs live. One type for every
 * kind, so every Pulumi language can read it; each kind sets its own fields.
 */
export interface ServiceWorkload {
    /** What runs the release. */
    readonly kind: WorkloadKind;
    /** kubernetes: the namespace of the Deployment and Service. */
    readonly namespace?: string;
    /** kubernetes: the Deployment's name. */
    readonly deployment?: string;
    /** kubernetes: the Service in front of the pods; swarm: the Swarm service; compose: the service in the Compose file. */
    readonly service?: string;
    /** kubernetes: the labels that select the Deployment's pods. */
    readonly selector?: Record<string, string>;
    /** docker: the container's name. */
    readonly container?: string;
    /** compose: the file written, as given (relative to the Pulumi project). */
    readonly file?: string;
}

/** A Kubernetes Deployment: its pods are those its selector matches. */
export interface KubernetesWorkloadRecord extends ServiceWorkload {
    readonly kind: "kubernetes";
    readonly namespace: string;
    readonly deployment: string;
    /** The Service in front of the Deployment's pods. */
    readonly service: string;
    readonly selector: Readonly<Record<string, string>>;
}

/** One container on a Docker host (the Docker provider's host, or `DOCKER_HOST`). */
export interface DockerWorkloadRecord extends ServiceWorkload {
    readonly kind: "docker";
    readonly container: string;
}

/** A Swarm service: its tasks run the release. */
export interface SwarmWorkloadRecord extends ServiceWorkload {
    readonly kind: "swarm";
    readonly service: string;
}

/** A service of a Compose file whose image is pinned; `docker compose` runs it, not Pulumi. */
export interface ComposeWorkloadRecord extends ServiceWorkload {
    readonly kind: "compose";
    /** The file written, as given (relative to the Pulumi project). */
    readonly file: string;
    readonly service: string;
}

/** A workload record of one kind, with the fields that kind always sets. */
export type WorkloadRecord = KubernetesWorkloadRecord | DockerWorkloadRecord | SwarmWorkloadRecord | ComposeWorkloadRecord;

/** Pins a workload of one kind to the release; its resources are children of `parent`, named after `name`. */
export type PinWorkload<Settings, Record extends WorkloadRecord = WorkloadRecord> = (
    name: string,
    release: PinnedRelease,
    settings: Settings,
    parent: pulumi.Resource,
) => pulumi.Output<Record>;
