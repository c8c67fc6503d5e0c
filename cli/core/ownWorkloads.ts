// The user's own workloads of a release: resources of the stack, of any provider, whose inputs name
// the release's `imageRef`. Found in the state, not declared: the program adds nothing to be found.
// Which of them the command reads live, and how it judges what it reads there. Pure.

import { CONTAINER_TYPE } from "../../components/workloads/docker/live";
import { SERVICE_TYPE } from "../../components/workloads/swarm/live";
import { providerOf, type RecordedProvider, type StateResource } from "./connection";

/** Where a resource's live object is read: a Kubernetes object, a Docker container, a Swarm service. */
export type OwnLive =
    | {
          readonly kind: "kubernetes";
          /** `apps/v1`, `batch/v1`, `v1`. */
          readonly apiVersion: string;
          /** `Deployment`, `CronJob`. */
          readonly objectKind: string;
          readonly name: string;
          readonly namespace: string;
          /** The labels that select its pods, for a kind that runs them under a selector. */
          readonly selector?: Readonly<Record<string, string>>;
          /** The metadata.uid its last update recorded: a live object of its name with another is another object. */
          readonly uid?: string;
      }
    | { readonly kind: "docker"; readonly container: string }
    | { readonly kind: "swarm"; readonly service: string };

/** A resource of the user's own that runs a release. */
export interface OwnWorkload {
    /** Its type token: `kubernetes:apps/v1:Deployment`. */
    readonly type: string;
    /** Its resource name. */
    readonly name: string;
    readonly urn: string;
    /** Where its inputs name the release's imageRef, as JSON paths: `spec.template.spec.containers[0].image`. */
    readonly paths: readonly string[];
    /** Where it is read live; none for a type the command does not read (it reports what the state records). */
    readonly live?: OwnLive;
    /** The provider it was deployed with, so it is read where `pulumi up` put it. */
    readonly provider?: RecordedProvider;
    /** Its outputs as the state records them (a restore rewrites what they say was applied). */
    readonly outputs?: Readonly<Record<string, unknown>>;
}

/** The Kubernetes kinds that run their pods under `spec.selector.matchLabels`. */
const SELECTING_KINDS: readonly string[] = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"];

/** An image by digest, where a string names one: whole, or inside a document (an ECS task's container definitions are JSON text). */
const IMAGE_BY_DIGEST = /[a-z0-9][a-z0-9._:/-]*@sha256:[0-9a-f]{64}/g;

/** Every image by digest named under `value`, with the paths of the strings that name it. */
export function imageRefsIn(value: unknown, at = "", found = new Map<string, string[]>()): Map<string, string[]> {
    if (typeof value === "string") {
        for (const ref of new Set(value.match(IMAGE_BY_DIGEST) ?? [])) {
            found.set(ref, [...(found.get(ref) ?? []), at]);
        }
    } else if (Array.isArray(value)) {
        value.forEach((item, index) => imageRefsIn(item, `${at}[${index}]`, found));
    } else if (value !== null && typeof value === "object") {
        for (const [key, item] of Object.entries(value)) {
            imageRefsIn(item, at === "" ? key : `${at}.${key}`, found);
        }
    }
    return found;
}

/** The value at a path `pathsOf` wrote, or undefined when the object has none there. */
export function valueAt(value: unknown, path: string): unknown {
    const steps = path.match(/[^.[\]]+/g) ?? [];
    return steps.reduce<unknown>((node, step) => (node !== null && typeof node === "object" ? (node as Record<string, unknown>)[step] : undefined), value);
}

function text(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" ? value : undefined;
}

/** Where a found resource is read live, from what the state recorded of it. */
function liveOf(resource: StateResource): OwnLive | undefined {
    const outputs = (resource.outputs ?? {}) as Record<string, unknown>;
    if (resource.type === CONTAINER_TYPE) {
        const container = text(outputs.name);
        return container === undefined ? undefined : { kind: "docker", container };
    }
    if (resource.type === SERVICE_TYPE) {
        const service = text(outputs.name);
        return service === undefined ? undefined : { kind: "swarm", service };
    }
    if (!resource.type?.startsWith("kubernetes:")) {
        return undefined;
    }
    const object = outputs as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown; uid?: unknown }; spec?: { selector?: { matchLabels?: unknown } } };
    const apiVersion = text(object.apiVersion);
    const objectKind = text(object.kind);
    const name = text(object.metadata?.name);
    if (apiVersion === undefined || objectKind === undefined || name === undefined) {
        return undefined;
    }
    const matchLabels = object.spec?.selector?.matchLabels;
    const selector =
        SELECTING_KINDS.includes(objectKind) && matchLabels !== null && typeof matchLabels === "object" && Object.keys(matchLabels).length > 0
            ? (matchLabels as Record<string, string>)
            : undefined;
    const uid = text(object.metadata?.uid);
    return {
        kind: "kubernetes",
        apiVersion,
        objectKind,
        name,
        namespace: text(object.metadata?.namespace) ?? "default",
        ...(selector !== undefined ? { selector } : {}),
        ...(uid !== undefined ? { uid } : {}),
    };
}

/** A release as the state records it: its component's URN and the imageRef it output. */
export interface RecordedRelease {
    readonly urn: string;
    readonly imageRef: string;
}

/**
 * Each release's own workloads among `resources`, by its component's URN: every custom resource (a
 * component such as a Helm chart is not a workload; the objects it registers are) outside the
 * release's component whose inputs name its imageRef exactly, in the state's order. A resource
 * naming two releases is a workload of both. Each resource's inputs are read once, however many
 * releases the stack has.
 */
export function ownWorkloadsOf(
    resources: readonly (StateResource & { readonly custom?: boolean; readonly parent?: string })[],
    releases: readonly RecordedRelease[],
): Map<string, OwnWorkload[]> {
    const parents = new Map(resources.flatMap((resource) => (resource.urn === undefined ? [] : [[resource.urn, resource.parent] as const])));
    const within = (resource: { readonly parent?: string }, component: string): boolean => {
        for (let parent = resource.parent; parent !== undefined; parent = parents.get(parent)) {
            if (parent === component) {
                return true;
            }
        }
        return false;
    };
    const found = new Map<string, OwnWorkload[]>(releases.map((release) => [release.urn, []]));
    for (const resource of resources) {
        if (resource.custom === false || resource.urn === undefined || resource.type === undefined || resource.type.startsWith("pulumi:")) {
            continue;
        }
        const refs = imageRefsIn(resource.inputs ?? {});
        const runs = releases.filter((release) => refs.has(release.imageRef) && !within(resource, release.urn));
        if (runs.length === 0) {
            continue;
        }
        const live = liveOf(resource);
        const provider = providerOf(resource, resources);
        for (const release of runs) {
            found.get(release.urn)!.push({
                type: resource.type,
                name: resource.urn.split("::").pop()!,
                urn: resource.urn,
                paths: refs.get(release.imageRef)!,
                ...(live !== undefined ? { live } : {}),
                ...(provider !== undefined ? { provider } : {}),
                ...(resource.outputs !== undefined ? { outputs: resource.outputs as Record<string, unknown> } : {}),
            });
        }
    }
    return found;
}

/** How a live object compares with what the state recorded it runs. */
export type OwnState = "ok" | "drift" | "missing" | "not read" | "restored";

/** One image a live object names where its inputs named the release. */
export interface LiveImage {
    readonly path: string;
    /** What the live object names there; null when it names nothing. */
    readonly live: string | null;
}

/**
 * A Kubernetes object as read live against the release it was deployed with: each path's image, and
 * `drift` when any of them names another image than `imageRef` (kubectl set image, a rollout undo).
 */
export function judgeObject(workload: OwnWorkload, object: unknown, imageRef: string): { readonly state: OwnState; readonly images: readonly LiveImage[] } {
    if (object === null || object === undefined) {
        return { state: "missing", images: [] };
    }
    const images = workload.paths.map((path): LiveImage => {
        const live = valueAt(object, path);
        return { path, live: typeof live === "string" ? live : null };
    });
    return { state: images.every((image) => image.live === imageRef) ? "ok" : "drift", images };
}
