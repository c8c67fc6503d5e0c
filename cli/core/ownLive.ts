// What a release's own workloads run live, each read where the provider it was deployed with
// connects: a Kubernetes object as the cluster holds it (the image at each place its inputs named
// the release) and the pods it selects, a Docker container, a Swarm service's tasks. A type the
// command does not read is reported as the state records it.

import { judge, type ExpectedRelease, type LiveIdentity, type LiveInstance, type LiveWorkload, type Noun } from "../../components/workloads/live";
import type { OwnReached } from "./cluster";
import { selectorText } from "../../components/workloads/kubernetes/live";
import { DIGEST_PATTERN } from "../../components/registry/reference";
import type { StackConfig } from "./config";
import { type Connection, connectionOf } from "./connection";
import type { Context } from "./context";
import { judgeObject, type LiveImage, type OwnLive, type OwnState, type OwnWorkload, valueAt } from "./ownWorkloads";
import type { ServiceState } from "./services";

/** One own workload as read live. */
export interface OwnWorkloadLive {
    /** Its type token and resource name. */
    readonly type: string;
    readonly name: string;
    /** Where it was read, for people; null for a type the command does not read. */
    readonly where: string | null;
    readonly state: OwnState;
    /** The image at each place its inputs named the release, as the live object names it (Kubernetes). */
    readonly images: readonly LiveImage[];
    /** The instances it runs, and what one is called: its pods, containers or tasks. */
    readonly noun?: Noun;
    readonly instances?: readonly LiveInstance[];
}

/** The state of instances: none is `missing`, any running another digest is `drift`. */
function stateOfInstances(instances: readonly LiveInstance[]): OwnState {
    return instances.length === 0 ? "missing" : instances.some((instance) => instance.state === "drift") ? "drift" : "ok";
}

type KubernetesLive = Extract<OwnLive, { readonly kind: "kubernetes" }>;

/** A container's, or a Swarm service's tasks': the Docker kinds' own readers. */
function hostReader(context: Context, live: Exclude<OwnLive, KubernetesLive>, connection: Connection): LiveWorkload {
    return context.deps.live(live.kind === "docker" ? { kind: "docker", container: live.container } : { kind: "swarm", service: live.service }, connection);
}

/** The object as the cluster holds it; null when there is none of its name. */
function readObject(context: Context, live: KubernetesLive, connection: Connection): Promise<unknown> {
    return context.deps.object({ apiVersion: live.apiVersion, kind: live.objectKind, name: live.name, namespace: live.namespace }, connection);
}

/** The pods an object selects, through the Kubernetes reader. */
function selectedPods(context: Context, live: KubernetesLive, selector: Readonly<Record<string, string>>, connection: Connection): LiveWorkload {
    return context.deps.live({ kind: "kubernetes", namespace: live.namespace, deployment: live.name, service: "", selector }, connection);
}

/** Reads one own workload of the release `imageRef` (`digest`) live. */
export async function readOwnWorkload(context: Context, config: StackConfig, workload: OwnWorkload, release: { readonly imageRef: string; readonly digest: string }): Promise<OwnWorkloadLive> {
    const base = { type: workload.type, name: workload.name };
    const live = workload.live;
    if (live === undefined) {
        return { ...base, where: null, state: "not read", images: [] };
    }
    const connection = ownConnection(config, workload)!;
    if (live.kind !== "kubernetes") {
        const reader = hostReader(context, live, connection);
        const instances = await reader.instances(release);
        return { ...base, where: reader.where, state: stateOfInstances(instances), images: [], noun: reader.noun, instances };
    }
    const where = `${live.objectKind} ${live.name}, namespace ${live.namespace}`;
    const judged = judgeObject(workload, await readObject(context, live, connection), release.imageRef);
    if (live.selector === undefined || judged.state === "missing") {
        return { ...base, where, ...judged };
    }
    const pods = selectedPods(context, live, live.selector, connection);
    const instances = await pods.instances(release);
    const state = judged.state === "ok" && instances.some((instance) => instance.state === "drift") ? "drift" : judged.state;
    return { ...base, where: `${where} (pods ${selectorText(live.selector)})`, state, images: judged.images, noun: pods.noun, instances };
}

/**
 * An own workload read as drift that runs exactly the release its service's pin names (image
 * `pinned.imageRef` at every path, every instance on `pinned.digest`): restored ahead of the update
 * that records it (rollback --restore-first), `restored` and not drift. Pure.
 */
export function restoredAhead(workload: OwnWorkloadLive, pinned: { readonly imageRef: string; readonly digest: string }): OwnWorkloadLive {
    if (workload.state !== "drift") {
        return workload;
    }
    const images = workload.images.every((image) => image.live === pinned.imageRef);
    const instances = (workload.instances ?? []).every((instance) => instance.state !== "drift" || instance.digest === pinned.digest);
    if (!images || !instances) {
        return workload;
    }
    return {
        ...workload,
        state: "restored",
        ...(workload.instances !== undefined ? { instances: workload.instances.map((instance): LiveInstance => (instance.state === "drift" ? { ...instance, state: "restored" } : instance)) } : {}),
    };
}

/** What one of several own workloads' instances is called. */
const INSTANCE: Noun = { one: "instance", many: "instances" };

/** The digest a reference names after its `@`, when it names one. */
function digestOf(reference: unknown): string | null {
    const digest = typeof reference === "string" ? reference.slice(reference.lastIndexOf("@") + 1) : undefined;
    return digest !== undefined && DIGEST_PATTERN.test(digest) ? digest : null;
}

/**
 * The instances one own workload runs, judged against `expected`: a Kubernetes object is one itself
 * (its template, `CronJob/report-1a2b`: a CronJob runs no pod until its schedule), then each pod it
 * selects; a container; a Swarm service's tasks. A type the command does not read has none.
 */
async function instancesOf(context: Context, workload: OwnWorkload, connection: Connection, expected: ExpectedRelease): Promise<LiveInstance[]> {
    const live = workload.live;
    if (live === undefined) {
        return [];
    }
    if (live.kind !== "kubernetes") {
        return hostReader(context, live, connection).instances(expected);
    }
    const object = await readObject(context, live, connection);
    const name = `${live.objectKind}/${live.name}`;
    if (object === null || object === undefined) {
        return [{ name, phase: "Missing", ready: false, version: null, digest: null, state: "unknown" }];
    }
    const digests = [...new Set(workload.paths.map((path) => digestOf(valueAt(object, path))))];
    const digest = digests.find((one) => one !== expected.digest) ?? digests[0] ?? null;
    const template: LiveInstance = { name, phase: "Template", ready: true, version: null, digest, state: digests.includes(null) ? "drift" : judge(digest, expected) };
    return live.selector === undefined ? [template] : [template, ...(await selectedPods(context, live, live.selector, connection).instances(expected))];
}

const DRIFT_CAUSE =
    "A workload was changed outside Pulumi (kubectl set image, a rollout undo). `pulumi up --refresh` puts the recorded image back where the object has the annotation pulumi.com/patchForce: \"true\".";

/** The cluster or daemon an own workload is read on: where the provider it was deployed with connects. */
export function ownConnection(config: StackConfig, workload: OwnWorkload): Connection | undefined {
    return workload.live === undefined ? undefined : connectionOf(workload.live.kind, config, workload.provider);
}

/** What holds an own Kubernetes object's name where it is deployed, when its last update recorded its uid; undefined for any other workload. */
export function ownIdentity(context: Context, workload: OwnWorkload, connection: Connection): Promise<LiveIdentity> | undefined {
    const live = workload.live;
    if (live?.kind !== "kubernetes" || live.uid === undefined) {
        return undefined;
    }
    return context.deps.identify({ apiVersion: live.apiVersion, kind: live.objectKind, name: live.name, namespace: live.namespace }, connection);
}

/**
 * Asks, for every own Kubernetes object of `services` that recorded its uid, what holds its name
 * where it is deployed, all at once; one whose cluster does not answer is left to the reads, which
 * say why.
 */
export async function ownIdentities(context: Context, config: StackConfig, services: readonly ServiceState[]): Promise<OwnReached[]> {
    const asked = services.flatMap((service) =>
        (service.ownWorkloads ?? []).flatMap((workload) => {
            const connection = ownConnection(config, workload);
            const answer = connection === undefined ? undefined : ownIdentity(context, workload, connection);
            return answer === undefined || connection === undefined ? [] : [answer.then((identity): OwnReached => ({ service: service.name, workload, connection, answer: identity }))];
        }),
    );
    const answered = await Promise.allSettled(asked);
    return answered.flatMap((one) => (one.status === "fulfilled" ? [one.value] : []));
}

/** Where the command reads one own workload, reached through `connection`, as one workload of its own; undefined for a type it does not read. */
export function ownWorkloadLive(context: Context, workload: OwnWorkload, connection: Connection): LiveWorkload | undefined {
    if (workload.live === undefined) {
        return undefined;
    }
    return {
        noun: INSTANCE,
        location: {},
        where: `${workload.name} (${workload.type})`,
        none: `Nothing of ${workload.name} (${workload.type}) runs.`,
        driftCause: DRIFT_CAUSE,
        instances: (expected) => instancesOf(context, workload, connection, expected),
    };
}

/**
 * A release's own workloads as one workload of the command's: every instance of every one of them,
 * so a drill or an undo waits until all run a digest, as for a ReleasedService's own.
 */
export function ownLiveWorkload(context: Context, config: StackConfig, service: ServiceState): LiveWorkload | undefined {
    const workloads = (service.ownWorkloads ?? []).filter((workload) => workload.live !== undefined);
    if (workloads.length === 0) {
        return undefined;
    }
    return {
        noun: INSTANCE,
        location: {},
        where: `the workloads that run ${service.name}: ${workloads.map((workload) => workload.name).join(", ")}`,
        none: `None of the workloads that run ${service.name} runs an instance.`,
        driftCause: DRIFT_CAUSE,
        instances: async (expected) => (await Promise.all(workloads.map((workload) => instancesOf(context, workload, ownConnection(config, workload)!, expected)))).flat(),
    };
}

/** Where the command reads what a service runs: the workload its component recorded, else its own workloads found in the state. */
export function serviceLive(context: Context, config: StackConfig, service: ServiceState): LiveWorkload | undefined {
    const record = service.workload;
    return record !== undefined ? context.deps.live(record, connectionOf(record.kind, config, service.origin?.provider)) : ownLiveWorkload(context, config, service);
}
