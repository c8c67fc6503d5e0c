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
/** How many more of the service's pods a topology domain may hold than the emptiest. */
export const DEFAULT_MAX_SKEW = 1;
/** What the scheduler does with a pod that would skew a topology further: wait, or place it anyway. */
export const WHEN_UNSATISFIABLE = ["DoNotSchedule", "ScheduleAnyway"] as const;
export const DEFAULT_WHEN_UNSATISFIABLE = "DoNotSchedule";
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
    /**
     * What a production pod adds around the component's container: volumes, a service account, pull
     * secrets, init containers and sidecars, placement, a security context, labels and annotations.
     * The image, the release labels, the selector and the change-cause stay the component's. Defaults to none.
     */
    readonly pod?: PodSettings;
    /**
     * What the component's container adds: volume mounts, env from Secrets and ConfigMaps, its command
     * and args, liveness and startup probes, a security context. Defaults to none.
     */
    readonly container?: ContainerSettings;
}

/** What the pod adds around the component's container. */
export interface PodSettings {
    /** Volumes of the pod, for `container.mounts` and the extra containers' mounts. Defaults to none. */
    readonly volumes?: VolumeSettings[];
    /** The service account the pod runs as. Defaults to the namespace's `default`. */
    readonly serviceAccountName?: string;
    /** Secrets of type `kubernetes.io/dockerconfigjson` the kubelet pulls the images with, by name. Defaults to none. */
    readonly imagePullSecrets?: string[];
    /** Containers that run to completion before the component's starts, in order; with no `image`, the release's own (a migration, say). Defaults to none. */
    readonly initContainers?: ExtraContainer[];
    /** Containers that run beside the component's; with no `image`, the release's own. Defaults to none. */
    readonly sidecars?: ExtraContainer[];
    /** Node labels a node must have to run the pod. Defaults to none. */
    readonly nodeSelector?: Record<string, string>;
    /** Taints the pod tolerates. Defaults to none. */
    readonly tolerations?: TolerationSettings[];
    /**
     * Kubernetes' own affinity, as given: the nodes that may or should run the pod (`nodeAffinity`),
     * and the pods it should run beside (`podAffinity`) or away from (`podAntiAffinity`). Defaults to none.
     */
    readonly affinity?: k8s.types.input.core.v1.Affinity;
    /**
     * How the service's pods spread over zones, nodes or other domains, one constraint per entry;
     * each counts the service's own pods (the component selects them). Defaults to none.
     */
    readonly topologySpread?: TopologySpreadSettings[];
    /** The pod's security context. Defaults to none. */
    readonly securityContext?: PodSecurity;
    /** Labels added to the pod; the component's own (name, version, managed-by) cannot be set here. Defaults to none. */
    readonly labels?: Record<string, string>;
    /** Annotations added to the pod. Defaults to none. */
    readonly annotations?: Record<string, string>;
}

/** A volume of the pod: exactly one source. */
export interface VolumeSettings {
    /** Its name, which mounts refer to. Required. */
    readonly name: string;
    /** A ConfigMap of this name, its keys as files. */
    readonly configMap?: string;
    /** A Secret of this name, its keys as files. */
    readonly secret?: string;
    /** An empty directory that lives as long as the pod. */
    readonly emptyDir?: boolean;
    /** A PersistentVolumeClaim of this name. */
    readonly persistentVolumeClaim?: string;
}

/** A mount of a pod volume in a container. */
export interface MountSettings {
    /** The volume's name in `pod.volumes`. Required. */
    readonly name: string;
    /** Where it appears in the container. Required. */
    readonly mountPath: string;
    /** Whether the container may only read it. Defaults to false. */
    readonly readOnly?: boolean;
    /** A path inside the volume to mount instead of its root. Defaults to its root. */
    readonly subPath?: string;
}

/** One key of a Secret, as an environment variable's value. */
export interface SecretKey {
    /** The Secret's name. Required. */
    readonly secret: string;
    /** The key in it. Required. */
    readonly key: string;
}

/** Every key of a ConfigMap or of a Secret as environment variables: exactly one of them. */
export interface EnvSource {
    /** A ConfigMap of this name. */
    readonly configMap?: string;
    /** A Secret of this name. */
    readonly secret?: string;
    /** A prefix for each variable's name. Defaults to none. */
    readonly prefix?: string;
}

/** A taint the pod tolerates. */
export interface TolerationSettings {
    /** The taint's key; none with `operator` Exists tolerates every taint. Defaults to none. */
    readonly key?: string;
    /** `Equal` (the value must match) or `Exists`. Defaults to `Equal`. */
    readonly operator?: string;
    /** The taint's value, with `Equal`. Defaults to none. */
    readonly value?: string;
    /** `NoSchedule`, `PreferNoSchedule` or `NoExecute`; none tolerates every effect. Defaults to none. */
    readonly effect?: string;
}

/** How the service's pods spread over the domains of one node label. */
export interface TopologySpreadSettings {
    /** The node label whose values are the domains, e.g. `topology.kubernetes.io/zone` or `kubernetes.io/hostname`. Required. */
    readonly topologyKey: string;
    /** How many more of the service's pods a domain may hold than the emptiest. Defaults to 1. */
    readonly maxSkew?: number;
    /** `DoNotSchedule` (a pod waits rather than skew further) or `ScheduleAnyway` (the spread is a preference). Defaults to `DoNotSchedule`. */
    readonly whenUnsatisfiable?: string;
    /**
     * With `DoNotSchedule`: while the pod may run in fewer domains than this, the emptiest counts as
     * holding none, so pods wait for new domains (a cluster autoscaler's) rather than crowd the ones
     * there are. Defaults to Kubernetes' 1.
     */
    readonly minDomains?: number;
}

/** The pod's security context. */
export interface PodSecurity {
    /** Whether every container must run as a user other than root. Defaults to Kubernetes'. */
    readonly runAsNonRoot?: boolean;
    /** The user id the containers run as. Defaults to the image's. */
    readonly runAsUser?: number;
    /** The group id the containers run as. Defaults to the image's. */
    readonly runAsGroup?: number;
    /** The group that owns the pod's volumes. Defaults to none. */
    readonly fsGroup?: number;
}

/** A container's security context. */
export interface ContainerSecurity {
    /** Whether the root filesystem is read-only. Defaults to Kubernetes' false. */
    readonly readOnlyRootFilesystem?: boolean;
    /** Whether a process may gain more privileges than its parent. Defaults to Kubernetes'. */
    readonly allowPrivilegeEscalation?: boolean;
    /** Whether the container must run as a user other than root. Defaults to the pod's. */
    readonly runAsNonRoot?: boolean;
    /** The user id it runs as. Defaults to the pod's, else the image's. */
    readonly runAsUser?: number;
}

/** What the component's container adds. */
export interface ContainerSettings {
    /** Volumes of `pod.volumes` mounted in it. Defaults to none. */
    readonly mounts?: MountSettings[];
    /** Environment variables from Secrets, by name: `DATABASE_URL: {secret: db, key: url}`. Defaults to none. */
    readonly secretEnv?: Record<string, SecretKey>;
    /** Every key of ConfigMaps and Secrets as environment variables. Defaults to none. */
    readonly envFrom?: EnvSource[];
    /** The command, in place of the image's entrypoint. Defaults to the image's. */
    readonly command?: string[];
    /** The arguments, in place of the image's. Defaults to the image's. */
    readonly args?: string[];
    /** When the kubelet restarts the container: an HTTP GET, a TCP connection or a command. Defaults to none. */
    readonly livenessProbe?: ReadinessProbe;
    /** What must pass before the other probes start, for a slow start. Defaults to none. */
    readonly startupProbe?: ReadinessProbe;
    /** Its security context. Defaults to none. */
    readonly securityContext?: ContainerSecurity;
}

/** An init container or a sidecar. */
export interface ExtraContainer {
    /** Its name in the pod; not `app`, the component's own. Required. */
    readonly name: string;
    /** Its image. Defaults to the release's own, by digest. */
    readonly image?: string;
    /** The command. Defaults to the image's entrypoint. */
    readonly command?: string[];
    /** The arguments. Defaults to the image's. */
    readonly args?: string[];
    /** Plain environment variables. Defaults to none. */
    readonly env?: Record<string, string>;
    /** Environment variables from Secrets. Defaults to none. */
    readonly secretEnv?: Record<string, SecretKey>;
    /** Volumes of `pod.volumes` mounted in it. Defaults to none. */
    readonly mounts?: MountSettings[];
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
