// The Kubernetes workload's settings, defaults and names, apart from its resources: the checks,
// the docs and the command read them without loading a provider SDK.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" } } as const;
/** The namespace a Deployment lands in when neither the args nor the provider name one. */
export const DEFAULT_NAMESPACE = "default";
export const MANAGED_BY = "released-service";
/** The container's name inside the pod. */
export const CONTAINER_NAME = "app";
/** The label that selects a service's pods: its name. */
export const NAME_LABEL = "app.kubernetes.io/name";
/** The label every pod of a release carries with its version. */
export const VERSION_LABEL = "app.kubernetes.io/version";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
/**
 * The kubernetes provider's own wait for a rollout. It does not stop at ProgressDeadlineExceeded: it
 * waits until this timeout (10 minutes unless set), so a deadline is set both here and in the spec.
 */
export const TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds";
/**
 * Server-side apply refuses to change a field another field manager owns, and `kubectl rollout undo`
 * or `kubectl set image` makes kubectl the owner of the image, the change-cause and the version label.
 * Forcing the apply lets the next update take them back, so the config decides what runs again.
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

/** The settings of the Kubernetes workload. */
export interface KubernetesSettings {
    /** Namespace of the Deployment and Service. Defaults to the provider's namespace. */
    readonly namespace?: string;
    /** Pods to run. Defaults to none: Kubernetes creates 1, and an autoscaler may own the count. */
    readonly replicas?: number;
    /** The port the container listens on and the Service exposes. Defaults to 8080. */
    readonly port?: number;
    /** Old ReplicaSets Kubernetes keeps for `kubectl rollout undo`; 0 keeps none. Defaults to 10. */
    readonly revisionHistoryLimit?: number;
    /**
     * Seconds a rollout may take before it fails: the Deployment's `progressDeadlineSeconds` (time
     * without progress) and the time `pulumi up` waits for the whole rollout. Defaults to none
     * (Kubernetes' 600 s deadline, the provider's 10-minute wait).
     */
    readonly progressDeadlineSeconds?: number;
    /** Environment variables of the container. Defaults to none. */
    readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Container resources. Defaults to requests of 50m CPU and 64Mi memory. */
    readonly resources?: pulumi.Input<k8s.types.input.core.v1.ResourceRequirements>;
    /** When a pod counts as ready: an HTTP GET, a TCP connection or a command. Defaults to a TCP check of `port`. */
    readonly readinessProbe?: ReadinessProbe;
}

/** The port a probe reaches when it names none: the container's port, named so in the pod spec. */
export const PROBED_PORT_NAME = "http";

/**
 * A readiness probe: one of `httpGet`, `tcpSocket` or `exec`, and Kubernetes' timings. Ports are
 * numbers (the container's `port` when left out), so every Pulumi language can state one.
 */
export interface ReadinessProbe {
    /** An HTTP GET that must answer 2xx or 3xx. Defaults to none. */
    readonly httpGet?: HttpGetCheck;
    /** A TCP connection that must open. Defaults to none; with no check set, a TCP check of `port`. */
    readonly tcpSocket?: TcpSocketCheck;
    /** A command run in the container that must exit 0. Defaults to none. */
    readonly exec?: ExecCheck;
    /** Seconds after the container starts before the first probe. Defaults to Kubernetes' 0. */
    readonly initialDelaySeconds?: number;
    /** Seconds between probes. Defaults to Kubernetes' 10. */
    readonly periodSeconds?: number;
    /** Seconds one probe may take. Defaults to Kubernetes' 1. */
    readonly timeoutSeconds?: number;
    /** Successes in a row after a failure that make the pod ready again. Defaults to Kubernetes' 1. */
    readonly successThreshold?: number;
    /** Failures in a row that make the pod not ready. Defaults to Kubernetes' 3. */
    readonly failureThreshold?: number;
}

/** An HTTP GET of a readiness probe. */
export interface HttpGetCheck {
    /** The path requested, e.g. `/healthz`. Required. */
    readonly path: string;
    /** The port requested. Defaults to `port`. */
    readonly port?: number;
}

/** A TCP connection of a readiness probe. */
export interface TcpSocketCheck {
    /** The port connected to. Defaults to `port`. */
    readonly port?: number;
}

/** A command of a readiness probe. */
export interface ExecCheck {
    /** The command and its arguments, run without a shell. Required. */
    readonly command: string[];
}
