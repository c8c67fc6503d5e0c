// What runs live for a workload record, by kind: the one place the command chooses a kind's reader.
// The clients come in from outside, so tests answer them from recorded data.

import { composeLive, type ContainerInspect, dockerLive, inspectContainer, inspectLabelled } from "../../components/workloads/docker/live";
import { kubernetesLive, listPodsWithKubectl, type PodLister } from "../../components/workloads/kubernetes/live";
import type { LiveWorkload } from "../../components/workloads/live";
import { inspectTasks, swarmLive, type TaskInspect } from "../../components/workloads/swarm/live";
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
