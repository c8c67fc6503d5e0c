// What a Swarm service runs now: its tasks that Swarm wants running, each judged by the image of
// its spec (`repo@sha256:…`), as `docker inspect` of the tasks reports them. A task's version is
// the release label of the service spec (current or previous) that runs its image: the provider
// replaces a service whose container labels change, so the version is on the service only.
import { RELEASE_LABEL } from "../../labels";
import { digestOfReference, docker, type DockerRun } from "../docker/live";
import { type ExpectedRelease, judge, type LiveInstance, type LiveWorkload, type Noun } from "../live";
import type { SwarmWorkloadRecord } from "../workload";

/** What this kind calls one instance of a workload, and several. */
export const NOUN: Noun = { one: "task", many: "tasks" };

/** The parts of `docker inspect <task>` read here. */
export interface TaskInspect {
    readonly ID: string;
    readonly Slot?: number;
    readonly NodeID?: string;
    readonly DesiredState: string;
    readonly Status: { readonly State: string; readonly Err?: string };
    readonly Spec: { readonly ContainerSpec: { readonly Image: string } };
}

/** The parts of a service spec (`docker service inspect`: `Spec`, `PreviousSpec`) read here. */
export interface ServiceSpecInspect {
    readonly Labels?: Readonly<Record<string, string>> | null;
    readonly TaskTemplate: { readonly ContainerSpec: { readonly Image: string } };
}

/** A service's tasks, and the specs Swarm keeps of it (the current one, and the previous one when there is one). */
export interface SwarmInspect {
    readonly tasks: readonly TaskInspect[];
    readonly specs: readonly ServiceSpecInspect[];
}

/** Each task Swarm wants running, as an instance: ready when it runs. */
export function taskInstances(service: string, { tasks, specs }: SwarmInspect, expected: ExpectedRelease): LiveInstance[] {
    const versionOf = (image: string): string | null => specs.find((spec) => spec.TaskTemplate.ContainerSpec.Image === image)?.Labels?.[RELEASE_LABEL] ?? null;
    return tasks
        .filter((task) => task.DesiredState === "running")
        .map((task) => {
            const digest = digestOfReference(task.Spec.ContainerSpec.Image);
            return {
                name: `${service}.${task.Slot ?? task.NodeID ?? "?"}.${task.ID.slice(0, 12)}`,
                phase: task.Status.State,
                ready: task.Status.State === "running",
                version: versionOf(task.Spec.ContainerSpec.Image),
                digest,
                state: judge(digest, expected),
            };
        });
}

/** The tasks and specs of a service, from the Swarm manager the Docker CLI talks to. */
export async function inspectTasks(service: string, run: DockerRun = docker): Promise<SwarmInspect> {
    const ids = (await run(["service", "ps", "--quiet", "--no-trunc", "--filter", "desired-state=running", service])).trim();
    const tasks = ids === "" ? [] : (JSON.parse(await run(["inspect", ...ids.split("\n")])) as TaskInspect[]);
    const [found] = JSON.parse(await run(["service", "inspect", service])) as { Spec: ServiceSpecInspect; PreviousSpec?: ServiceSpecInspect | null }[];
    return { tasks, specs: found.PreviousSpec ? [found.Spec, found.PreviousSpec] : [found.Spec] };
}

/** A Swarm service's tasks, live. */
export function swarmLive(record: SwarmWorkloadRecord, inspect: (service: string) => Promise<SwarmInspect> = inspectTasks): LiveWorkload {
    return {
        noun: NOUN,
        location: { swarmService: record.service },
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
