// What every workload kind shares: it runs a release that components/release decided, and it
// records where it runs, so the command can ask what runs there live. No kind sees a build or a registry.
import type * as pulumi from "@pulumi/pulumi";

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

/**
 * Where a ReleasedService's workload runs, registered among the component's outputs as `workload`:
 * plain data a checkpoint keeps, from which the command finds what runs live.
 */
export type WorkloadRecord = KubernetesWorkloadRecord;

export type WorkloadKind = WorkloadRecord["kind"];
