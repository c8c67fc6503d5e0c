// What a Swarm service runs now: its tasks that Swarm wants running, each judged by the image of
// its spec (`repo@sha256:…`), as `docker inspect` of the tasks reports them.
import { RELEASE_LABEL } from "../../labels";
import { digestOfReference, docker } from "../docker/live";
import { type ExpectedRelease, judge, type LiveInstance, type LiveWorkload } from "../live";
import type { SwarmWorkloadRecord } from "../workload";

/** The parts of `docker inspect <task>` read here. */
export interface TaskInspect {
    readonly ID: string;
    readonly Slot?: number;
    readonly NodeID?: string;
    readonly DesiredState: string;
    readonly Status: { readonly State: string; readonly Err?: string };
    readonly Spec: { readonly ContainerSpec: { readonly Image: string; readonly Labels?: Readonly<Record<string, string>> | null } };
}

/** Each task Swarm wants running, as an instance: ready when it runs. */
export function taskInstances(service: string, tasks: readonly TaskInspect[], expected: ExpectedRelease): LiveInstance[] {
    return tasks
        .filter((task) => task.DesiredState === "running")
        .map((task) => {
            const digest = digestOfReference(task.Spec.ContainerSpec.Image);
            return {
                name: `${service}.${task.Slot ?? task.NodeID ?? "?"}.${task.ID.slice(0, 12)}`,
                phase: task.Status.State,
                ready: task.Status.State === "running",
                version: task.Spec.ContainerSpec.Labels?.[RELEASE_LABEL] ?? null,
                digest,
                state: judge(digest, expected),
            };
        });
}

/** The tasks of a service, from the Swarm manager the Docker CLI talks to. */
export async function inspectTasks(service: string): Promise<TaskInspect[]> {
    const ids = (await docker(["service", "ps", "--quiet", "--no-trunc", "--filter", "desired-state=running", service])).trim();
    return ids === "" ? [] : (JSON.parse(await docker(["inspect", ...ids.split("\n")])) as TaskInspect[]);
}

/** A Swarm service's tasks, live. */
export function swarmLive(record: SwarmWorkloadRecord, inspect: (service: string) => Promise<TaskInspect[]> = inspectTasks): LiveWorkload {
    return {
        noun: { one: "task", many: "tasks" },
        location: { service: record.service },
        where: `Swarm service ${record.service}`,
        none: `No task of Swarm service ${record.service} runs.`,
        driftCause:
            "Swarm rolled the service back (a failed update, or docker service rollback), or it was updated outside Pulumi: " +
            "the stack config still names a release that does not run. `released-service rollback --to <update>` records " +
            "what should run; `pulumi up --refresh` deploys the recorded release again (a plain `pulumi up` sees no change).",
        instances: async (expected) => taskInstances(record.service, await inspect(record.service), expected),
    };
}

/** The type of the resource whose recorded outputs say which image Swarm was last told to run. */
export const SERVICE_TYPE = "docker:index/service:Service";

/** The image a recorded Swarm service's tasks are to run. */
export function serviceImage(outputs: Readonly<Record<string, unknown>>): unknown {
    return (outputs as { taskSpec?: { containerSpec?: { image?: unknown } } }).taskSpec?.containerSpec?.image;
}
