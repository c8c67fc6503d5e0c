// What runs live for a workload record, by kind: the one place the command chooses a kind's reader.
// The clients come in from outside, so tests answer them from recorded data.

import { composeLive, CONTAINER_TYPE, containerImage, type ContainerInspect, dockerLive, inspectContainer, inspectLabelled } from "../../components/workloads/docker/live";
import { DEPLOYMENT_TYPE, deploymentImage, kubernetesLive, listPodsWithKubectl, type PodLister } from "../../components/workloads/kubernetes/live";
import type { LiveWorkload } from "../../components/workloads/live";
import { inspectTasks, SERVICE_TYPE, serviceImage, swarmLive, type TaskInspect } from "../../components/workloads/swarm/live";
import type { WorkloadRecord } from "../../components/workloads/workload";

/** How each kind is asked: kubectl for pods, the docker CLI for containers, Compose services' containers and Swarm tasks. */
export interface LiveClients {
    readonly listPods: PodLister;
    readonly inspectContainer: (name: string) => Promise<ContainerInspect[]>;
    readonly inspectLabelled: (service: string) => Promise<ContainerInspect[]>;
    readonly inspectTasks: (service: string) => Promise<TaskInspect[]>;
}

/** The real clients: kubectl and docker with the user's current context. */
export const REAL_CLIENTS: LiveClients = { listPods: listPodsWithKubectl, inspectContainer, inspectLabelled, inspectTasks };

export function liveOf(record: WorkloadRecord, clients: LiveClients): LiveWorkload {
    switch (record.kind) {
        case "kubernetes":
            return kubernetesLive(record, clients.listPods);
        case "docker":
            return dockerLive(record, clients.inspectContainer);
        case "compose":
            return composeLive(record, clients.inspectLabelled);
        case "swarm":
            return swarmLive(record, clients.inspectTasks);
    }
}

/** Where each kind's recorded resource names the image it was last told to run (a Compose file has no resource). */
const RECORDED_IMAGE: Readonly<Record<string, (outputs: Readonly<Record<string, unknown>>) => unknown>> = {
    [DEPLOYMENT_TYPE]: deploymentImage,
    [CONTAINER_TYPE]: containerImage,
    [SERVICE_TYPE]: serviceImage,
};

/**
 * The image a service's recorded workload resources name: what its workload was last told to run,
 * recorded even when the update then failed.
 */
export function deployedImageOf(resources: readonly { readonly type?: string; readonly outputs?: Readonly<Record<string, unknown>> }[]): string | undefined {
    for (const resource of resources) {
        const read = resource.type === undefined ? undefined : RECORDED_IMAGE[resource.type];
        const image = read?.(resource.outputs ?? {});
        if (typeof image === "string") {
            return image;
        }
    }
    return undefined;
}
