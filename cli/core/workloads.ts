// What runs live for a workload record, by kind: the one place the command chooses a kind's reader.
// A kind without one yet is answered with undefined, and each command says what it cannot check.

import { kubernetesLive, type LiveWorkload, type PodLister } from "../../components/workloads/kubernetes/live";
import type { WorkloadRecord } from "../../components/workloads/workload";

/** The clients the readers use: kubectl's pod listing for Kubernetes. */
export interface LiveClients {
    readonly listPods: PodLister;
}

export function liveOf(record: WorkloadRecord, clients: LiveClients): LiveWorkload | undefined {
    switch (record.kind) {
        case "kubernetes":
            return kubernetesLive(record, clients.listPods);
        default:
            return undefined;
    }
}
