// The released-service package's public API: the component, the types of its args and outputs,
// and the names a policy or a test of a user's program reads on what it declares. Everything else
// is the package's own; its modules import each other directly.
export { RELEASED_SERVICE_TYPE, ReleasedService, type ReleasedServiceArgs } from "./releasedService";
export { RELEASED_IMAGE_TYPE, ReleasedImage } from "./releasedImage";
export type { ReleaseArgs } from "./release/resolve";
export type { KubernetesSettings } from "./workloads/kubernetes/settings";
export type { DockerSettings } from "./workloads/docker/settings";
export type { Healthcheck } from "./workloads/docker/shared";
export type { SwarmSettings } from "./workloads/swarm/settings";
export type { ComposeSettings } from "./workloads/compose/settings";
export type {
    ComposeWorkloadRecord,
    DockerWorkloadRecord,
    KubernetesWorkloadRecord,
    SwarmWorkloadRecord,
    WorkloadKind,
    WorkloadRecord,
} from "./workloads/workload";
export { RELEASE_LABEL, SERVICE_LABEL, SOURCE_DIGEST_LABEL, STACK_LABEL } from "./labels";
export { CHANGE_CAUSE_ANNOTATION, NAME_LABEL, VERSION_LABEL } from "./workloads/kubernetes/settings";
