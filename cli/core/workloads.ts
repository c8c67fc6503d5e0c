// What runs live for a workload record, by kind: the one place the command chooses a kind's reader.
// The clients come in from outside (cli/core/clients.ts, one set per connection), so tests answer
// them from recorded data.

import { composeLive } from "../../components/workloads/compose/live";
import { CONTAINER_TYPE, containerImage, type ContainerInspect, dockerLive } from "../../components/workloads/docker/live";
import {
    DEPLOYMENT_TYPE,
    type DeploymentIdentifier,
    deploymentImage,
    kubernetesLive,
    type ObjectReader,
    type ObjectReference,
    type PodLister,
} from "../../components/workloads/kubernetes/live";
import type { LiveIdentity, LiveWorkload } from "../../components/workloads/live";
import { SERVICE_TYPE, serviceImage, swarmLive, type SwarmInspect } from "../../components/workloads/swarm/live";
import type { WorkloadRecord } from "../../components/workloads/workload";

/** How each kind is asked: kubectl for pods, the docker CLI for containers, Compose services' containers and Swarm tasks. */
export interface LiveClients {
    readonly listPods: PodLister;
    readonly inspectContainer: (name: string) => Promise<ContainerInspect[]>;
    readonly inspectComposeService: (service: string) => Promise<ContainerInspect[]>;
    /** Runs the docker CLI: the drill reruns docker compose with it. */
    readonly docker: (args: readonly string[]) => Promise<unknown>;
    readonly inspectTasks: (service: string) => Promise<SwarmInspect>;
    /** What the cluster holds under a Deployment's name, to check it is the one the stack recorded. */
    readonly identifyDeployment?: DeploymentIdentifier;
    /** Any Kubernetes object as the cluster holds it: the user's own workloads are read this way. */
    readonly getObject: ObjectReader;
    /** What the cluster holds under an object's name, to check it is the one the stack recorded. */
    readonly identifyObject: (object: ObjectReference) => Promise<LiveIdentity>;
    /** Applies an object server-side under a field manager (rollback --restore-first). */
    readonly applyObject: (object: Readonly<Record<string, unknown>>, fieldManager: string) => Promise<void>;
}

/** One write to a live workload (rollback --restore-first): a server-side apply of a Kubernetes object, or a docker CLI call. */
export type LiveWrite =
    | { readonly kind: "apply"; readonly object: Readonly<Record<string, unknown>>; readonly fieldManager: string; readonly reference: ObjectReference }
    | { readonly kind: "docker"; readonly args: readonly string[] };

/** `projectDir`: the Pulumi project's directory, which a Compose file's path is relative to. */
export function liveOf(record: WorkloadRecord, clients: LiveClients, projectDir: string): LiveWorkload {
    switch (record.kind) {
        case "kubernetes":
            return kubernetesLive(record, clients.listPods, clients.identifyDeployment);
        case "docker":
            return dockerLive(record, clients.inspectContainer);
        case "compose":
            return composeLive(record, projectDir, clients.inspectComposeService, clients.docker);
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
