// What a Kubernetes workload runs live: the pods its selector matches, listed with kubectl (so the
// package needs no Kubernetes client library), each judged against the release the stack recorded.
// Plain functions with no @pulumi import: the command reads a workload through them.

import { execFile, type ExecFileException } from "node:child_process";
import { DIGEST_PATTERN, locateRepository, parseImageReference } from "../../registry/reference";
import type { ExpectedRelease, InstanceState, LiveIdentity, LiveInstance, LiveWorkload, Noun } from "../live";
import type { KubernetesWorkloadRecord } from "../workload";
import { VERSION_LABEL } from "./settings";

/** What this kind calls one instance of a workload, and several. */
export const NOUN: Noun = { one: "pod", many: "pods" };

/** The parts of a `kubectl get pods -o json` list (a core/v1 PodList) read here. */
export interface PodList {
    readonly items: readonly {
        readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>>; readonly deletionTimestamp?: string };
        readonly status?: {
            readonly phase?: string;
            readonly containerStatuses?: readonly { readonly name: string; readonly image: string; readonly imageID?: string; readonly ready?: boolean }[];
        };
    }[];
}

/** Lists the pods a label selector (`k=v,k2=v2`) matches in a namespace. */
export type PodLister = (namespace: string, selector: string) => Promise<PodList>;

/** `k=v,k2=v2`, as kubectl takes a selector. */
export function selectorText(selector: Readonly<Record<string, string>>): string {
    return Object.entries(selector)
        .map(([key, value]) => `${key}=${value}`)
        .join(",");
}

export function kubernetesLive(record: KubernetesWorkloadRecord, listPods: PodLister, identify?: DeploymentIdentifier): LiveWorkload {
    const selector = selectorText(record.selector);
    return {
        ...(identify === undefined ? {} : { identify: () => identify(record.namespace, record.deployment) }),
        noun: NOUN,
        location: { namespace: record.namespace, selector },
        where: `${selector}, namespace ${record.namespace}`,
        none: `No pods match ${selector} in namespace ${record.namespace}.`,
        driftCause:
            "The Deployment was changed outside Pulumi (for example by kubectl rollout undo). " +
            "`pulumi up --refresh` restores the recorded digest; `released-service rollback --to <update>` records another one.",
        instances: async (expected) => comparePods(expected, livePods(await listPods(record.namespace, selector))),
    };
}

/**
 * The manifest digest a pod's `imageID` names. Runtimes write `docker-pullable://repo@sha256:…`
 * (dockershim) or `repo@sha256:…` (containerd, CRI-O); a bare `sha256:…` is a local image ID, not
 * a registry digest, so it says nothing about what was pulled.
 */
export function digestOfImageId(imageId: string): string | undefined {
    const at = imageId.lastIndexOf("@");
    if (at < 0) {
        return undefined;
    }
    const digest = imageId.slice(at + 1);
    return DIGEST_PATTERN.test(digest) ? digest : undefined;
}

/** The registry and repository a `repo[:tag]@digest` names, as the registry API addresses it. */
function repositoryKey(reference: string): string | undefined {
    const { repository: name, digest } = parseImageReference(reference.replace(/^[a-z-]+:\/\//, ""));
    if (digest === undefined || name === "") {
        return undefined;
    }
    const { registry, repository } = locateRepository(name);
    return `${registry}/${repository}`;
}

/**
 * Judges each pod by its workload container. A pod with sidecars is judged by the containers from
 * the recorded repository; when none is (someone set another image), by all.
 */
export function comparePods(expected: ExpectedRelease, pods: PodList): LiveInstance[] {
    const recordedRepository = expected.imageRef ? repositoryKey(expected.imageRef) : undefined;
    return pods.items.map((pod): LiveInstance => {
        const statuses = pod.status?.containerStatuses ?? [];
        const ours = statuses.filter((status) => status.imageID && repositoryKey(status.imageID) === recordedRepository);
        const judged = ours.length > 0 ? ours : statuses;
        const digests = judged.map((status) => (status.imageID ? digestOfImageId(status.imageID) : undefined));
        const known = digests.filter((digest): digest is string => digest !== undefined);
        const foreign = known.find((digest) => digest !== expected.digest);
        let state: InstanceState = "unknown";
        if (foreign !== undefined) {
            state = "drift";
        } else if (known.length > 0 && known.length === digests.length) {
            state = "ok";
        }
        return {
            name: pod.metadata.name,
            phase: pod.status?.phase ?? "Unknown",
            ready: judged.length > 0 && judged.every((status) => status.ready === true),
            version: pod.metadata.labels?.[VERSION_LABEL] ?? null,
            digest: foreign ?? known[0] ?? null,
            state,
        };
    });
}

/** Pods being deleted are on their way out: what a rollout lands on is the pods that stay. */
export function livePods(pods: PodList): PodList {
    return { items: pods.items.filter((pod) => pod.metadata.deletionTimestamp === undefined) };
}

/** kubectl's words for a cluster that does not answer (its client also logs raw lines before them). */
const UNREACHABLE = /connection refused|was refused|unable to connect|no such host|i\/o timeout|context deadline exceeded|dial tcp|couldn't get current server API group list/i;

/**
 * Why pods could not be listed, in one line: a context that does not answer is named with its
 * server, with none of the client's log lines; anything else keeps kubectl's last line.
 */
export function describeKubectlFailure(what: string, stderr: string, context: { name?: string; server?: string }): string {
    if (/current-context is not set|no configuration has been provided/i.test(stderr) || (UNREACHABLE.test(stderr) && context.name === undefined)) {
        return `${what}: kubectl has no current context (kubectl config current-context names none); set one with kubectl config use-context`;
    }
    if (UNREACHABLE.test(stderr)) {
        const server = context.server ? ` (server ${context.server})` : "";
        return `${what}: kube context ${context.name}${server} does not answer; no cluster was reached`;
    }
    const lines = stderr.trim().split("\n").filter((line) => !/^[EWI]\d{4} /.test(line));
    return `${what}: ${(lines.at(-1) ?? stderr).trim()}`;
}

/**
 * Where kubectl connects: a kubeconfig file, a context and a cluster of it, each as kubectl's own
 * flag; none set is kubectl's current context (KUBECONFIG, else ~/.kube/config).
 */
export interface KubectlTarget {
    readonly kubeconfig?: string;
    readonly context?: string;
    readonly cluster?: string;
}

/** kubectl's global flags for `target`. */
export function kubectlFlags(target: KubectlTarget): string[] {
    return [
        ...(target.kubeconfig === undefined ? [] : ["--kubeconfig", target.kubeconfig]),
        ...(target.context === undefined ? [] : ["--context", target.context]),
        ...(target.cluster === undefined ? [] : ["--cluster", target.cluster]),
    ];
}

function kubectl(target: KubectlTarget, args: readonly string[]): Promise<{ stdout: string; stderr: string; error?: ExecFileException }> {
    return new Promise((resolve) => {
        execFile("kubectl", [...kubectlFlags(target), ...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) =>
            resolve({ stdout, stderr, error: error ?? undefined }),
        );
    });
}

/** What `contextOf` answered, by target: a command asks once per cluster, however many workloads it reads there. */
const contexts = new Map<string, Promise<{ name?: string; server?: string }>>();

/** The context kubectl uses with `target`, and its cluster's server, when its kubeconfig names them. */
function contextOf(target: KubectlTarget): Promise<{ name?: string; server?: string }> {
    const key = JSON.stringify(kubectlFlags(target));
    const known = contexts.get(key) ?? askContext(target);
    contexts.set(key, known);
    return known;
}

async function askContext(target: KubectlTarget): Promise<{ name?: string; server?: string }> {
    const [name, server] = await Promise.all([
        target.context === undefined ? kubectl(target, ["config", "current-context"]) : Promise.resolve({ stdout: target.context }),
        kubectl(target, ["config", "view", "--minify", "--output", "jsonpath={.clusters[0].cluster.server}"]),
    ]);
    const text = (result: { stdout: string; error?: unknown }): string | undefined => (result.error ? undefined : result.stdout.trim() || undefined);
    return { name: text(name), server: text(server) };
}

/** A context in words: `kube context staging (server https://10.0.0.2:6443)`. */
export function describeContext(context: { name?: string; server?: string }): string {
    const server = context.server ? ` (server ${context.server})` : "";
    return context.name === undefined ? `kubectl's current context${server}` : `kube context ${context.name}${server}`;
}

/** Why kubectl failed, in one line, or that it is not installed. */
async function kubectlFailure(what: string, target: KubectlTarget, failed: { stderr: string; error: ExecFileException }): Promise<Error> {
    if (failed.error.code === "ENOENT") {
        return new Error(`${what}: kubectl is not installed or not on PATH`);
    }
    return new Error(describeKubectlFailure(what, failed.stderr || failed.error.message, await contextOf(target)));
}

/** `kubectl get pods -o json` where `target` points (by default the user's current context): the pods `selector` matches, or every pod of the namespace. */
export async function listPodsWithKubectl(namespace: string, selector?: string, target: KubectlTarget = {}): Promise<PodList> {
    const what = selector === undefined ? `cannot list pods in namespace ${namespace}` : `cannot list pods ${selector} in namespace ${namespace}`;
    const listed = await kubectl(target, ["get", "pods", "--namespace", namespace, ...(selector === undefined ? [] : ["--selector", selector]), "--output", "json"]);
    if (listed.error) {
        throw await kubectlFailure(what, target, { stderr: listed.stderr, error: listed.error });
    }
    try {
        return JSON.parse(listed.stdout) as PodList;
    } catch {
        throw new Error("kubectl get pods answered something that is not JSON");
    }
}

/** What the cluster in reach holds under a Deployment's name: the Deployment's uid, or null when there is none. */
export type DeploymentIdentifier = (namespace: string, name: string) => Promise<LiveIdentity>;

/** Whether a pod's labels satisfy `k=v,k2=v2`, as the API server judges an equality selector. */
export function matchesSelector(labels: Readonly<Record<string, string>> | undefined, selector: string): boolean {
    return selector
        .split(",")
        .filter((term) => term !== "")
        .every((term) => {
            const at = term.indexOf("=");
            return at > 0 && labels?.[term.slice(0, at)] === term.slice(at + 1);
        });
}

/**
 * A PodLister whose calls made together share one listing per namespace: a stack of many services
 * asks once (every pod of the namespace, matched here) instead of once per service. A call made
 * alone asks with its own selector; nothing is kept after the calls are answered, so a poll always
 * reads what runs now.
 */
export function sharedPodLister(list: (namespace: string, selector?: string) => Promise<PodList>): PodLister {
    const waiting = new Map<string, { selector: string; resolve: (pods: PodList) => void; reject: (error: unknown) => void }[]>();
    const flush = (namespace: string): void => {
        const calls = waiting.get(namespace) ?? [];
        waiting.delete(namespace);
        const selectors = new Set(calls.map((call) => call.selector));
        const shared = selectors.size === 1 ? list(namespace, calls[0].selector) : list(namespace);
        shared.then(
            (pods) => {
                for (const call of calls) {
                    call.resolve(selectors.size === 1 ? pods : { items: pods.items.filter((pod) => matchesSelector(pod.metadata.labels, call.selector)) });
                }
            },
            (error: unknown) => calls.forEach((call) => call.reject(error)),
        );
    };
    return (namespace, selector) =>
        new Promise<PodList>((resolve, reject) => {
            const calls = waiting.get(namespace);
            if (calls === undefined) {
                waiting.set(namespace, [{ selector, resolve, reject }]);
                setImmediate(() => flush(namespace));
            } else {
                calls.push({ selector, resolve, reject });
            }
        });
}

/** The type of the resource whose recorded outputs say what the cluster was last told to run. */
export const DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment";

/** The image a recorded Deployment names (its first container), recorded even when the rollout then failed. */
export function deploymentImage(outputs: Readonly<Record<string, unknown>>): unknown {
    return (outputs as { spec?: { template?: { spec?: { containers?: { image?: unknown }[] } } } }).spec?.template?.spec?.containers?.[0]?.image;
}

/** A Kubernetes object by its apiVersion, kind, name and namespace. */
export interface ObjectReference {
    readonly apiVersion: string;
    readonly kind: string;
    readonly name: string;
    readonly namespace: string;
}

/** kubectl's fully qualified resource for a kind: `deployment.v1.apps`, `pod` for the core group. */
export function kubectlResource(apiVersion: string, kind: string): string {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    return group === "" ? kind.toLowerCase() : `${kind.toLowerCase()}.${version}.${group}`;
}

/** What the cluster `target` points at holds under an object's name: its uid (null when there is none), and which context and server answered. */
export async function identifyObjectWithKubectl(object: ObjectReference, target: KubectlTarget = {}): Promise<LiveIdentity> {
    const [found, context] = await Promise.all([
        kubectl(target, ["get", kubectlResource(object.apiVersion, object.kind), object.name, "--namespace", object.namespace, "--ignore-not-found", "--output", "jsonpath={.metadata.uid}"]),
        contextOf(target),
    ]);
    if (found.error) {
        throw await kubectlFailure(`cannot read ${object.kind} ${object.name} in namespace ${object.namespace}`, target, { stderr: found.stderr, error: found.error });
    }
    return { uid: found.stdout.trim() || null, reached: describeContext(context) };
}

/** Every object of one kind in a namespace, by name: its uid; and which context and server answered. Undefined when the user may not list them. */
export type UidListing = { readonly uids: ReadonlyMap<string, string>; readonly reached: string } | undefined;

/** `kubectl get <kind> --namespace <namespace>` where `target` points: each object's name and uid; undefined when the API server forbids the listing. */
export async function listUidsWithKubectl(apiVersion: string, kind: string, namespace: string, target: KubectlTarget = {}): Promise<UidListing> {
    const [listed, context] = await Promise.all([
        kubectl(target, ["get", kubectlResource(apiVersion, kind), "--namespace", namespace, "--output", 'jsonpath={range .items[*]}{.metadata.name}{" "}{.metadata.uid}{"\\n"}{end}']),
        contextOf(target),
    ]);
    if (listed.error) {
        if (/\(Forbidden\)/.test(listed.stderr)) {
            return undefined;
        }
        throw await kubectlFailure(`cannot list ${kind} objects in namespace ${namespace}`, target, { stderr: listed.stderr, error: listed.error });
    }
    const uids = new Map(
        listed.stdout
            .split("\n")
            .map((line) => line.trim().split(" "))
            .filter((fields): fields is [string, string] => fields.length === 2),
    );
    return { uids, reached: describeContext(context) };
}

/**
 * What holds an object's name, asked the way a PodLister asks for pods: calls made together share
 * one listing per kind and namespace (a stack of many services asks once, not once per workload),
 * a call alone asks by name, and so does every call when the user may get objects but not list
 * them. Nothing is kept after the calls are answered.
 */
export function sharedIdentifier(
    one: (object: ObjectReference) => Promise<LiveIdentity>,
    list: (apiVersion: string, kind: string, namespace: string) => Promise<UidListing>,
): (object: ObjectReference) => Promise<LiveIdentity> {
    type Call = { object: ObjectReference; resolve: (identity: LiveIdentity) => void; reject: (error: unknown) => void };
    const waiting = new Map<string, Call[]>();
    const flush = (key: string): void => {
        const calls = waiting.get(key) ?? [];
        waiting.delete(key);
        const byName = (): void => calls.forEach((call) => one(call.object).then(call.resolve, call.reject));
        if (calls.length === 1) {
            byName();
            return;
        }
        const { apiVersion, kind, namespace } = calls[0].object;
        list(apiVersion, kind, namespace).then(
            (listing) => {
                if (listing === undefined) {
                    byName();
                    return;
                }
                calls.forEach((call) => call.resolve({ uid: listing.uids.get(call.object.name) ?? null, reached: listing.reached }));
            },
            (error: unknown) => calls.forEach((call) => call.reject(error)),
        );
    };
    return (object) =>
        new Promise<LiveIdentity>((resolve, reject) => {
            const key = JSON.stringify([object.apiVersion, object.kind, object.namespace]);
            const calls = waiting.get(key);
            if (calls === undefined) {
                waiting.set(key, [{ object, resolve, reject }]);
                setImmediate(() => flush(key));
            } else {
                calls.push({ object, resolve, reject });
            }
        });
}

/** Reads a Kubernetes object as the cluster `target` points at holds it; null when there is none of that name. */
export type ObjectReader = (object: ObjectReference) => Promise<unknown>;

/** `kubectl get <kind> <name> -o json` where `target` points. */
export async function getObjectWithKubectl(object: ObjectReference, target: KubectlTarget = {}): Promise<unknown> {
    const resource = kubectlResource(object.apiVersion, object.kind);
    const found = await kubectl(target, ["get", resource, object.name, "--namespace", object.namespace, "--ignore-not-found", "--output", "json"]);
    if (found.error) {
        throw await kubectlFailure(`cannot read ${object.kind} ${object.name} in namespace ${object.namespace}`, target, { stderr: found.stderr, error: found.error });
    }
    if (found.stdout.trim() === "") {
        return null;
    }
    try {
        return JSON.parse(found.stdout) as unknown;
    } catch {
        throw new Error(`kubectl get ${resource} answered something that is not JSON`);
    }
}
