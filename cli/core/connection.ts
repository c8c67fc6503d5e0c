// Where the command reaches a workload: the cluster or Docker daemon `pulumi up` deploys it to. The
// default providers take their settings from the stack config (`kubernetes:context`, `docker:host`),
// a provider the program declares from its own inputs, which the state records. Pure: the real
// clients (cli/core/clients.ts) turn a Connection into kubectl's flags and the docker CLI's DOCKER_HOST.

import { CONTAINER_TYPE } from "../../components/workloads/docker/live";
import { DEPLOYMENT_TYPE } from "../../components/workloads/kubernetes/live";
import { SERVICE_TYPE } from "../../components/workloads/swarm/live";
import type { WorkloadKind } from "../../components/workloads/workload";
import type { StackConfig } from "./config";

/** The provider resources' type tokens, by package. */
export const PROVIDER_TYPES = { kubernetes: "pulumi:providers:kubernetes", docker: "pulumi:providers:docker" } as const;

/** The stack config keys the default providers connect with. */
export const KUBECONFIG_KEY = "kubernetes:kubeconfig";
export const CONTEXT_KEY = "kubernetes:context";
export const CLUSTER_KEY = "kubernetes:cluster";
export const DOCKER_HOST_KEY = "docker:host";

/** Where the Docker provider connects when neither its `host` nor DOCKER_HOST says (kreuzwerker's provider schema). */
export const DOCKER_PROVIDER_DEFAULT_HOST = "unix:///var/run/docker.sock";

/** The provider resource a workload's resource was deployed with, as the state records it. */
export interface RecordedProvider {
    /** Its resource name: `default_4_34_2` for a default provider, the program's own name otherwise. */
    readonly name: string;
    /** A default provider (set up by the stack config), or one the program declares. */
    readonly default: boolean;
    /** Its recorded inputs: `context`, `kubeconfig` and `cluster` (Kubernetes), `host` (Docker); a secret stays an encrypted object. */
    readonly inputs: Readonly<Record<string, unknown>>;
}

/** Where the state says a service's workload was deployed, and what it was there. */
export interface WorkloadOrigin {
    readonly provider?: RecordedProvider;
    /** The Deployment's metadata.uid: the object on the cluster it was deployed to. */
    readonly uid?: string;
}

/**
 * Where the clients connect for one workload. Every field left out is the clients' own default,
 * which is the provider's too: kubectl's current context (KUBECONFIG, else ~/.kube/config).
 */
export interface Connection {
    /** A kubeconfig, as the provider takes it: a path (`~` is the home directory), or the file's content. */
    readonly kubeconfig?: string;
    readonly context?: string;
    readonly cluster?: string;
    /** DOCKER_HOST for the docker CLI. */
    readonly dockerHost?: string;
    /** DOCKER_HOST when neither the stack nor the environment sets one: where the Docker provider connects then. */
    readonly dockerDefaultHost?: string;
    /** Where the settings come from: the stack config, a provider the program declares (by name), or neither (the ambient context). */
    readonly from: "stack config" | "ambient" | { readonly provider: string };
    /** Settings the provider was given as secrets: the state keeps them encrypted, and the command does not read them. */
    readonly secret?: readonly string[];
}

/** What connects where nothing is configured: kubectl's and docker's current context. */
export const AMBIENT: Connection = { from: "ambient" };

/** The provider inputs each package connects with, and the stack config key of each. */
const SETTINGS = {
    kubernetes: [
        ["kubeconfig", KUBECONFIG_KEY],
        ["context", CONTEXT_KEY],
        ["cluster", CLUSTER_KEY],
    ],
    docker: [["dockerHost", DOCKER_HOST_KEY]],
} as const;
const INPUT_OF: Readonly<Record<string, string>> = { kubeconfig: "kubeconfig", context: "context", cluster: "cluster", dockerHost: "host" };

/** An encrypted value as a checkpoint keeps it (`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", …}`). */
function isSecret(value: unknown): boolean {
    return value !== null && typeof value === "object" && "4dabf18193072939515e22adb298388d" in value;
}

/**
 * Where `pulumi up` deploys a workload of `kind`, and so where the command reads it: a provider the
 * program declares connects with its recorded inputs; the default provider with the stack config's
 * keys (`kubernetes:kubeconfig`, `kubernetes:context`, `kubernetes:cluster`; `docker:host`). A Compose
 * file runs wherever `docker compose` runs: `docker:host` when the stack sets it, else the docker CLI's
 * own context. Unset settings are the clients' defaults, except that the Docker provider never reads
 * the docker CLI's contexts (DOCKER_HOST, else the local socket).
 */
export function connectionOf(kind: WorkloadKind, config: StackConfig, provider: RecordedProvider | undefined): Connection {
    const settings = kind === "kubernetes" ? SETTINGS.kubernetes : SETTINGS.docker;
    const explicit = provider !== undefined && !provider.default ? provider : undefined;
    const values: Record<string, string> = {};
    const secret: string[] = [];
    for (const [field, key] of settings) {
        const value = explicit === undefined ? config[key] : explicit.inputs[INPUT_OF[field]];
        if (typeof value === "string" && value !== "") {
            values[field] = value;
        } else if (explicit !== undefined && isSecret(value)) {
            secret.push(INPUT_OF[field]);
        }
    }
    const set = Object.keys(values).length > 0;
    return {
        ...values,
        ...((kind === "docker" || kind === "swarm") && values.dockerHost === undefined ? { dockerDefaultHost: DOCKER_PROVIDER_DEFAULT_HOST } : {}),
        from: explicit !== undefined && (set || secret.length > 0) ? { provider: explicit.name } : set ? "stack config" : "ambient",
        ...(secret.length > 0 ? { secret } : {}),
    };
}

/** Where a connection points, for people: `kube context prod (stack config kubernetes:context)`, `Docker host tcp://… (provider edge's host)`. */
export function describeConnection(connection: Connection): string {
    const from = (input: string, key: string): string =>
        connection.from === "stack config" ? `stack config ${key}` : typeof connection.from === "object" ? `provider ${connection.from.provider}'s ${input}` : "";
    const parts = [
        ...(connection.context !== undefined ? [`kube context ${connection.context} (${from("context", CONTEXT_KEY)})`] : []),
        ...(connection.cluster !== undefined ? [`cluster ${connection.cluster} (${from("cluster", CLUSTER_KEY)})`] : []),
        ...(connection.kubeconfig !== undefined ? [`${kubeconfigText(connection.kubeconfig)} (${from("kubeconfig", KUBECONFIG_KEY)})`] : []),
        ...(connection.dockerHost !== undefined ? [`Docker host ${connection.dockerHost} (${from("host", DOCKER_HOST_KEY)})`] : []),
    ];
    return parts.join(", ");
}

/** A kubeconfig setting in words: its path, or that it holds the file's content. */
function kubeconfigText(kubeconfig: string): string {
    return looksLikeContent(kubeconfig) ? "the kubeconfig it holds" : `kubeconfig ${kubeconfig}`;
}

/** Whether a kubeconfig setting is the file's content rather than a path: a path is one line with no YAML or JSON punctuation at its start. */
export function looksLikeContent(kubeconfig: string): boolean {
    return kubeconfig.includes("\n") || /^\s*[{[]/.test(kubeconfig) || /^\s*[A-Za-z-]+:\s/.test(kubeconfig);
}

/** The state's resource fields read here. */
export interface StateResource {
    readonly type?: string;
    readonly urn?: string;
    readonly provider?: string;
    readonly inputs?: Readonly<Record<string, unknown>>;
    readonly outputs?: Readonly<Record<string, unknown>>;
}

/** The resources whose provider is the workload's cluster or daemon. */
export const WORKLOAD_TYPES: readonly string[] = [DEPLOYMENT_TYPE, CONTAINER_TYPE, SERVICE_TYPE];

/**
 * Where a service's workload resource (among `children`) was deployed: the provider resource its
 * `provider` reference (`<urn>::<id>`) names among `resources`, and a Deployment's recorded uid.
 */
export function originOf(children: readonly StateResource[], resources: readonly StateResource[]): WorkloadOrigin | undefined {
    const workload = children.find((resource) => resource.type !== undefined && WORKLOAD_TYPES.includes(resource.type));
    if (workload === undefined) {
        return undefined;
    }
    const provider = providerOf(workload, resources);
    const uid = workload.type === DEPLOYMENT_TYPE ? (workload.outputs as { metadata?: { uid?: unknown } } | undefined)?.metadata?.uid : undefined;
    if (provider === undefined && typeof uid !== "string") {
        return undefined;
    }
    return { ...(provider !== undefined ? { provider } : {}), ...(typeof uid === "string" ? { uid } : {}) };
}

/** The provider resource a resource's `provider` reference (`<urn>::<id>`) names among `resources`. */
export function providerOf(resource: StateResource, resources: readonly StateResource[]): RecordedProvider | undefined {
    const reference = resource.provider;
    const urn = reference === undefined || !reference.includes("::") ? undefined : reference.slice(0, reference.lastIndexOf("::"));
    const found = urn === undefined ? undefined : resources.find((candidate) => candidate.urn === urn);
    const name = urn?.split("::").pop();
    // A default provider is one whose name starts with `default`, as Pulumi tells them apart.
    return found === undefined || name === undefined ? undefined : { name, default: name.startsWith("default"), inputs: found.inputs ?? {} };
}
