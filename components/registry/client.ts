// The one Docker Registry HTTP API v2 client, for the component and the command alike: which
// digest a tag holds, whether a digest is still there, and what an image's labels say. It speaks
// the bearer-token (or basic) challenge registries use, plain HTTP where Docker would, and proxies
// as Go's net/http does; it waits out a registry's throttling and brief faults within a bounded time.

import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";

import type { CredentialLookup, RegistryCredentials } from "./credentials";
import { type ProxyEnv, ProxyRefusal, proxyAuthorization, proxyFor, redacted, TunnelAgent } from "./proxy";
import type { DigestReference, RepositoryLocation } from "./reference";

/** Every manifest kind a digest may name, so the registry never answers 404 for a format it would not offer. */
export const MANIFEST_ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Requests in flight to one registry from this process, at most: a stack of a thousand services
 * asks thousands of questions at once, and a registry (or its rate limit) must not see them at once.
 */
export const MAX_REQUESTS_PER_REGISTRY = 16;

// --- What is retried, how often, for how long. Only an answer is an answer: a 404 says "not there",
// and a throttled or failing registry is asked again, then named with what it answered.

/** Tries of one request at most, the first included (regclient's limit). */
export const MAX_TRIES = 5;

/**
 * How long one request may take from its first try, its waits included: no wait or try runs past
 * it. A registry that is down thus fails a preview within 60 s, the engine's own start included.
 */
export const RETRY_WINDOW_MS = 45_000;

/** The wait after a first failed try; it doubles with each further one, up to BACKOFF_MAX_MS, with ±25 % jitter. */
export const BACKOFF_FIRST_MS = 1_000;
export const BACKOFF_MAX_MS = 10_000;

/**
 * Answers a registry, or the load balancer in front of it, gives for a moment: throttled (429, with
 * its Retry-After), a request or backend timeout (408, 504), a backend away or restarting (500,
 * 502, 503). Other 5xx (501, 505) say what will not change, so they are not asked again.
 */
export const RETRIED_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** A bearer token's lifetime when the token service does not say: the token spec's default, and its minimum. */
export const TOKEN_LIFETIME_S = 60;

/** A token is asked for again this long before it runs out, so that no request carries one that expires on the way. */
const TOKEN_EARLY_MS = 5_000;

/** Time and chance as the retries see them; a test passes its own, whose waits take no time. */
export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
    /** A number in [0, 1), for the jitter. */
    random(): number;
}

export const SYSTEM_CLOCK: Clock = {
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: () => Math.random(),
};

/** The wait before try `tries + 1` when the registry said nothing of when: exponential, capped, jittered. */
export function backoffMs(tries: number, random: number): number {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (tries - 1));
    return Math.round(base * (0.75 + random / 2));
}

/**
 * A `Retry-After` value as milliseconds from `now`: delta-seconds, or an HTTP date (RFC 9110
 * 10.2.3; all three date forms start with the day's name). Undefined when absent or unreadable.
 */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
    const text = value?.trim() ?? "";
    if (/^\d+$/.test(text)) {
        return Number(text) * 1000;
    }
    const date = /^[A-Za-z]{3}/.test(text) ? Date.parse(text) : Number.NaN;
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(1)} s`;
}

function tries(count: number): string {
    return count === 1 ? "1 try" : `${count} tries`;
}

interface Challenge {
    readonly scheme: string;
    readonly params: Readonly<Record<string, string>>;
}

/** A host's requests in flight and waiting, and what its last answers said of it. */
interface Host {
    active: number;
    readonly waiting: (() => void)[];
    /** No request goes to the host before this time (the clock's): a Retry-After or backoff that one request met holds for all. */
    resumeAt: number;
    /** Set when a request to the host gave up on faults, until `until` or a good answer. */
    failing?: Failing;
}

/** A request gave up on a host: later ones try once (or, with no answer at all, not at all) rather than wait it out again. */
interface Failing {
    readonly until: number;
    readonly tries: number;
    readonly ms: number;
    /** The registry gave no answer (reset, no answer in time): this is what every request is told until then. */
    readonly unreachable?: RegistryError;
}

interface CachedToken {
    readonly token: Promise<string>;
    /** The clock's time at which it is asked for again; infinite while the token is being asked for. */
    expiresAt: number;
}

/**
 * What every client of this process shares: per registry host, its request slots, its pauses and
 * whether it is failing; per registry, the challenge it answers; and bearer tokens, per registry,
 * repository scope and credentials, until they run out. The component makes a client per service
 * and the command one per reference: a stack of many references asks for a token once per scope.
 */
export class RegistrySession {
    private readonly hosts = new Map<string, Host>();
    /** By registry, scope and credentials; a token being asked for is shared, a failed request for one forgotten. */
    readonly tokens = new Map<string, CachedToken>();
    /** The challenge (its scheme, realm and service) each registry answered an unauthenticated request with. */
    readonly challenges = new Map<string, Challenge>();

    constructor(readonly clock: Clock = SYSTEM_CLOCK) {}

    host(name: string): Host {
        let host = this.hosts.get(name);
        if (host === undefined) {
            host = { active: 0, waiting: [], resumeAt: 0 };
            this.hosts.set(name, host);
        }
        return host;
    }
}

let shared = new RegistrySession();

/** The session clients given none share: the process's. */
export function sharedSession(): RegistrySession {
    return shared;
}

/** Puts `session` in the shared one's place (a test's, with its own clock) and returns the one it replaced. */
export function shareSession(session: RegistrySession): RegistrySession {
    const previous = shared;
    shared = session;
    return previous;
}

/** Runs `request` when one of the host's slots is free; a finished request hands its slot on. */
async function inSlot<T>(host: Host, request: () => Promise<T>): Promise<T> {
    if (host.active < MAX_REQUESTS_PER_REGISTRY) {
        host.active++;
    } else {
        await new Promise<void>((resolve) => host.waiting.push(resolve));
    }
    try {
        return await request();
    } finally {
        const next = host.waiting.shift();
        if (next === undefined) {
            host.active--;
        } else {
            next();
        }
    }
}

/** The registry could not give an answer (down, unreachable, refused us, or answered nonsense). */
export class RegistryError extends Error {
    /** `unreachable`: no answer at all (down, refused, unknown host), as opposed to an answer we cannot use. */
    constructor(
        message: string,
        readonly unreachable = false,
    ) {
        super(message);
        this.name = "RegistryError";
    }
}

export type ManifestState = "present" | "missing";

/**
 * Where image labels are kept across processes: `$XDG_CACHE_HOME/released-service/labels`, else
 * `~/.cache/released-service/labels`. An image's labels never change (its manifest's digest names its
 * config's), so an entry never goes stale: a no-change update on this machine reads no config blob.
 */
export function defaultLabelsCache(env: NodeJS.ProcessEnv = process.env): string {
    const base = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
    return path.join(base, "released-service", "labels");
}

export interface RegistryClientOptions {
    /** Credentials per registry host; anonymous when it answers undefined. */
    readonly credentials?: CredentialLookup;
    /** Per try of a request. Defaults to 30 s. */
    readonly timeoutMs?: number;
    /** Registry hosts (`host:port`) spoken to in plain HTTP although they are not on loopback. */
    readonly insecureRegistries?: readonly string[];
    /** The directory image labels are kept in across processes, or false for none. Defaults to defaultLabelsCache(). */
    readonly labelsCache?: string | false;
    /** Slots, pauses and tokens shared with other clients. Defaults to the process's (sharedSession()). */
    readonly session?: RegistrySession;
    /** Where `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` are read. Defaults to process.env. */
    readonly proxyEnv?: ProxyEnv;
}

interface ManifestDocument {
    readonly config?: { readonly digest: string };
    readonly manifests?: readonly { readonly digest: string; readonly platform?: { readonly os?: string } }[];
}

/** Parses `Bearer realm="…",service="…",scope="repository:a:pull,push"` (quoted values may hold commas). */
export function parseChallenge(header: string): Challenge | undefined {
    const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
    if (!match) {
        return undefined;
    }
    const params: Record<string, string> = {};
    for (const pair of match[2].matchAll(/(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) {
        params[pair[1].toLowerCase()] = pair[2] ?? pair[3];
    }
    return { scheme: match[1].toLowerCase(), params };
}

/** Docker's rule: loopback registries and those declared insecure speak plain http, all others https. */
export function registryBaseUrl(registry: string, insecure: ReadonlySet<string> = new Set()): string {
    const host = registry.startsWith("[") ? registry.slice(0, registry.indexOf("]") + 1) : registry.split(":")[0];
    const loopback = host === "localhost" || host.startsWith("127.") || host === "[::1]";
    return `${loopback || insecure.has(registry) ? "http" : "https"}://${registry}`;
}

function parseJson<T>(location: RepositoryLocation, body: Buffer, what: string): T {
    try {
        return JSON.parse(body.toString("utf8")) as T;
    } catch {
        throw new RegistryError(`registry ${location.registry} answered ${what} with something that is not JSON`);
    }
}

function sha256(bytes: Buffer): string {
    return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

function basic(credentials: RegistryCredentials): string {
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

/** Credentials as a token cache key: which ones, never what they are. */
function fingerprint(credentials: RegistryCredentials | undefined): string {
    if (credentials === undefined) {
        return "anonymous";
    }
    const text = JSON.stringify([credentials.username, credentials.password, credentials.identityToken ?? ""]);
    return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/**
 * Connections kept open between requests, so a stack's hundreds of questions to one registry share
 * a few connections instead of opening one each. An idle connection does not keep the process alive.
 */
const agents = { "http:": new http.Agent({ keepAlive: true }), "https:": new https.Agent({ keepAlive: true }) };

/** The same through each proxy: absolute URLs to it for http, CONNECT tunnels through it for https. */
const proxyAgents = new Map<string, http.Agent>();

function proxyAgent(proxy: URL, protocol: string): http.Agent {
    const key = `${protocol} ${proxy.href}`;
    let agent = proxyAgents.get(key);
    if (agent === undefined) {
        agent = protocol === "https:" ? new TunnelAgent(proxy) : proxy.protocol === "https:" ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
        proxyAgents.set(key, agent);
    }
    return agent;
}

/** How late a timer may fire before the wait is taken to have been this process's, not the registry's. */
const LATE_TIMER_MS = 1_000;

/** Redirects followed per request at most, as `fetch` does. */
const MAX_REDIRECTS = 20;

/** A registry's answer, its body read whole (none for HEAD). */
interface Answer {
    readonly status: number;
    readonly ok: boolean;
    /** A header's value, by lower-case name. */
    header(name: string): string | undefined;
    readonly body: Buffer;
    /** When the registry was asked again and again and this is its last fault: how many tries over how long, said after the request's name. */
    readonly gaveUp?: string;
}

/** What the registry answered, with its Retry-After when it gave one: `HTTP 429 (Retry-After: 1)`. */
function answered(answer: Answer): string {
    const retryAfter = answer.header("retry-after");
    return `HTTP ${answer.status}${retryAfter === undefined ? "" : ` (Retry-After: ${retryAfter})`}`;
}

/** No answer within the client's timeout. */
class TimeoutError extends Error {
    constructor() {
        super("no answer in time");
        this.name = "TimeoutError";
    }
}

/** Failures of a request sent on a kept-alive connection that had already been used: it may have been closed while idle. */
const onReusedConnection = new WeakSet<object>();

/** Where a request goes: the registry itself, or a proxy. */
type Route = (url: URL) => URL | undefined;

interface Outgoing {
    readonly method: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: Buffer;
}

/**
 * One HTTP request with Node's own client, the answer read whole within `timeoutMs`. Redirects (blobs
 * on a CDN) are followed; the credentials are sent along only to the same origin.
 */
function request(url: URL, sent: Outgoing, timeoutMs: number, route: Route, redirects = 0): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
        if (url.protocol !== "http:" && url.protocol !== "https:") {
            reject(new Error(`unsupported protocol ${url.protocol}`));
            return;
        }
        let proxy: URL | undefined;
        try {
            proxy = route(url);
        } catch (error) {
            reject(error);
            return;
        }
        const headers = { ...sent.headers, ...(sent.body === undefined ? {} : { "Content-Length": String(sent.body.length) }) };
        const onAnswer = (incoming: http.IncomingMessage): void => {
            const status = incoming.statusCode ?? 0;
            const location = incoming.headers.location;
            if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
                incoming.resume();
                clearTimeout(timer);
                if (redirects >= MAX_REDIRECTS) {
                    reject(new Error("redirect count exceeded"));
                    return;
                }
                const next = new URL(location, url);
                const kept = next.origin === url.origin ? sent.headers : Object.fromEntries(Object.entries(sent.headers).filter(([name]) => name !== "Authorization"));
                const redirected = status === 303 && sent.method !== "HEAD" ? { method: "GET", headers: kept } : { ...sent, headers: kept };
                request(next, redirected, timeoutMs, route, redirects + 1).then(resolve, reject);
                return;
            }
            const chunks: Buffer[] = [];
            incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
            incoming.on("error", reject);
            incoming.on("end", () => {
                clearTimeout(timer);
                const body = Buffer.concat(chunks);
                resolve({
                    status,
                    ok: status >= 200 && status < 300,
                    header: (name) => {
                        const value = incoming.headers[name];
                        return Array.isArray(value) ? value.join(", ") : value;
                    },
                    body,
                });
            });
        };
        let outgoing: http.ClientRequest;
        if (proxy === undefined) {
            const send = url.protocol === "https:" ? https.request : http.request;
            outgoing = send(url, { method: sent.method, headers, agent: agents[url.protocol as keyof typeof agents] }, onAnswer);
        } else if (url.protocol === "https:") {
            outgoing = https.request(url, { method: sent.method, headers, agent: proxyAgent(proxy, url.protocol) }, onAnswer);
        } else {
            // A plain-HTTP request through a proxy names the whole URL.
            const send = proxy.protocol === "https:" ? https.request : http.request;
            outgoing = send(
                {
                    host: proxy.hostname,
                    port: proxy.port || (proxy.protocol === "https:" ? 443 : 80),
                    path: url.href,
                    method: sent.method,
                    headers: { ...headers, Host: url.host, ...proxyAuthorization(proxy) },
                    agent: proxyAgent(proxy, url.protocol),
                },
                onAnswer,
            );
        }
        // The registry has `timeoutMs` to answer. A timer that fires late found this process busy elsewhere
        // (a program declaring a thousand services keeps it so for seconds): the answer may be waiting
        // unread, so the time the process was busy is given to the registry again.
        const arm = (ms: number): NodeJS.Timeout => {
            const due = Date.now() + ms;
            return setTimeout(() => {
                const late = Date.now() - due;
                if (late > LATE_TIMER_MS) {
                    timer = arm(Math.min(late, timeoutMs));
                } else {
                    outgoing.destroy(new TimeoutError());
                }
            }, ms);
        };
        let timer = arm(timeoutMs);
        outgoing.on("error", (error) => {
            clearTimeout(timer);
            if (outgoing.reusedSocket) {
                onReusedConnection.add(error);
            }
            reject(error);
        });
        outgoing.end(sent.body);
    });
}

/**
 * Whether a request that got no answer is asked again. A reset, a dropped connection, no answer in
 * time or a proxy's fault may be a moment's (a registry restarting behind its load balancer, an
 * idle timeout).
 * A refused connection, an unknown host or an unreachable network is not retried: nothing listens
 * there, and asking again would only hold back the one sentence that says so (and, for the
 * quickstart's registry, how to start it) while a preview waits; a registry restarting behind a
 * load balancer is answered for with a 502 or 503, which are retried.
 */
function retriedFailure(error: unknown): boolean {
    if (error instanceof ProxyRefusal) {
        return RETRIED_STATUSES.has(error.status);
    }
    const err = error as { name?: string; code?: string };
    return err.name === "TimeoutError" || ["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"].includes(err.code ?? "");
}

/** Turns a failed request into what happened, naming the host (and the proxy it went through). */
function describeNetworkError(noun: string, error: unknown, timeoutMs: number): string {
    const err = error as { name?: string; message?: string; code?: string };
    if (err.name === "TimeoutError") {
        return `cannot reach ${noun}: no answer within ${timeoutMs / 1000} s`;
    }
    const reasons: Record<string, string> = {
        ECONNREFUSED: "connection refused",
        ENOTFOUND: "host not found",
        EAI_AGAIN: "host not found (DNS lookup failed)",
        ECONNRESET: "connection reset",
        EPIPE: "connection reset",
        EHOSTUNREACH: "host unreachable",
        ENETUNREACH: "network unreachable",
        ETIMEDOUT: "connection timed out",
    };
    const reason = error instanceof ProxyRefusal ? error.message : ((err.code && reasons[err.code]) ?? err.message ?? String(error));
    return `cannot reach ${noun}: ${reason}`;
}

/** One request's time: from its first try, shared by the token request it needed. */
interface Budget {
    startedAt?: number;
}

export class RegistryClient {
    private readonly credentials: CredentialLookup;
    private readonly timeoutMs: number;
    private readonly insecure: ReadonlySet<string>;
    private readonly session: RegistrySession;
    private readonly route: Route;
    /** An image's labels never change: its digest names its config. */
    private readonly labels = new Map<string, Promise<Record<string, string>>>();
    private readonly labelsCache: string | false;

    constructor(options: RegistryClientOptions = {}) {
        this.credentials = options.credentials ?? (async () => undefined);
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        this.insecure = new Set(options.insecureRegistries ?? []);
        this.labelsCache = options.labelsCache ?? defaultLabelsCache();
        this.session = options.session ?? sharedSession();
        const env = options.proxyEnv ?? process.env;
        this.route = (url) => proxyFor(url, env);
    }

    /** Whether the registry still holds the manifest; throws RegistryError when it cannot say. */
    async manifestState(reference: DigestReference): Promise<ManifestState> {
        const response = await this.send(reference, "HEAD", `manifests/${reference.digest}`, MANIFEST_ACCEPT);
        if (response.status === 404) {
            return "missing";
        }
        this.expectOk(reference, response, `${reference.repository}@${reference.digest}`);
        return "present";
    }

    /**
     * The digest `<repository>:<tag>` holds now, or undefined when the registry says the tag (or the
     * repository) does not exist. Anything else the registry cannot answer is a RegistryError.
     */
    async digestOfTag(location: RepositoryLocation, tag: string): Promise<string | undefined> {
        const response = await this.send(location, "HEAD", `manifests/${tag}`, MANIFEST_ACCEPT);
        if (response.status === 404) {
            return undefined;
        }
        this.expectOk(location, response, `${location.repository}:${tag}`);
        const digest = response.header("docker-content-digest");
        if (digest === undefined || !/^sha256:[a-f0-9]{64}$/.test(digest)) {
            throw new RegistryError(`registry ${location.registry} answered ${location.repository}:${tag} without a sha256 Docker-Content-Digest`);
        }
        return digest;
    }

    /**
     * The digest `<repository>:<tag>` holds and the labels of that image, or undefined when the tag
     * does not exist. For an index (a multi-platform image), the labels of its first platform image:
     * a build writes the same labels into every platform. Labels read once are kept (see
     * defaultLabelsCache): then the tag's manifest is the one request.
     */
    async imageAt(location: RepositoryLocation, tag: string): Promise<{ digest: string; labels: Record<string, string> } | undefined> {
        const response = await this.send(location, "GET", `manifests/${tag}`, MANIFEST_ACCEPT);
        if (response.status === 404) {
            return undefined;
        }
        this.expectOk(location, response, `${location.repository}:${tag}`);
        const body = response.body;
        const computed = sha256(body);
        const digest = response.header("docker-content-digest") ?? computed;
        let labels = this.labels.get(digest);
        if (labels === undefined) {
            // Kept across processes only when every document read is the one its digest names.
            const addressed = digest === computed;
            labels = (addressed ? this.cachedLabels(digest) : Promise.resolve(undefined)).then(
                (cached) =>
                    cached ??
                    this.labelsOf(location, digest, parseJson<ManifestDocument>(location, body, `${location.repository}:${tag}`)).then(async ({ labels: read, verified }) => {
                        if (addressed && verified) {
                            await this.keepLabels(digest, read);
                        }
                        return read;
                    }),
            );
            this.labels.set(digest, labels);
            labels.catch(() => this.labels.delete(digest));
        }
        return { digest, labels: await labels };
    }

    /** The labels of a manifest, and whether every document read on the way matched its digest. */
    private async labelsOf(location: RepositoryLocation, digest: string, document: ManifestDocument): Promise<{ labels: Record<string, string>; verified: boolean }> {
        let manifest = document;
        let verified = true;
        if (manifest.manifests !== undefined) {
            // Attestation manifests (BuildKit provenance) carry the platform unknown/unknown.
            const image = manifest.manifests.find((m) => m.platform?.os !== "unknown") ?? manifest.manifests[0];
            if (image === undefined) {
                return { labels: {}, verified };
            }
            const read = await this.document<ManifestDocument>(location, `manifests/${image.digest}`, MANIFEST_ACCEPT, image.digest);
            manifest = read.value;
            verified = read.verified;
        }
        if (manifest.config === undefined) {
            throw new RegistryError(`registry ${location.registry} holds no image config for ${location.repository}@${digest}`);
        }
        const config = await this.document<{ config?: { Labels?: Record<string, string> | null } }>(location, `blobs/${manifest.config.digest}`, "*/*", manifest.config.digest);
        return { labels: config.value.config?.Labels ?? {}, verified: verified && config.verified };
    }

    /** A JSON document by digest, and whether its bytes are the ones that digest names. */
    private async document<T>(location: RepositoryLocation, resource: string, accept: string, digest: string): Promise<{ value: T; verified: boolean }> {
        const response = await this.send(location, "GET", resource, accept);
        this.expectOk(location, response, `${location.repository} ${resource}`);
        const body = response.body;
        return { value: parseJson<T>(location, body, `${location.repository} ${resource}`), verified: sha256(body) === digest };
    }

    private labelsFile(digest: string): string | undefined {
        const hex = /^sha256:([a-f0-9]{64})$/.exec(digest)?.[1];
        return this.labelsCache === false || hex === undefined ? undefined : path.join(this.labelsCache, "sha256", `${hex}.json`);
    }

    /** Labels kept for `digest`, or undefined: a missing, unreadable or malformed entry is read from the registry again. */
    private async cachedLabels(digest: string): Promise<Record<string, string> | undefined> {
        const file = this.labelsFile(digest);
        if (file === undefined) {
            return undefined;
        }
        try {
            const entry = JSON.parse(await fs.readFile(file, "utf8")) as { labels?: unknown };
            const labels = entry.labels;
            const valid = labels !== null && typeof labels === "object" && !Array.isArray(labels) && Object.values(labels).every((v) => typeof v === "string");
            return valid ? (labels as Record<string, string>) : undefined;
        } catch {
            return undefined;
        }
    }

    /** Keeps labels for the next process; written aside and renamed, and a cache that cannot be written is no error. */
    private async keepLabels(digest: string, labels: Record<string, string>): Promise<void> {
        const file = this.labelsFile(digest);
        if (file === undefined) {
            return;
        }
        const aside = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
        try {
            await fs.mkdir(path.dirname(file), { recursive: true });
            await fs.writeFile(aside, `${JSON.stringify({ labels })}\n`);
            await fs.rename(aside, file);
        } catch {
            await fs.rm(aside, { force: true }).catch(() => undefined);
        }
    }

    private expectOk(location: RepositoryLocation, response: Answer, what: string): void {
        if (response.status === 401 || response.status === 403) {
            throw new RegistryError(
                `registry ${location.registry} denied access to ${location.repository} (HTTP ${response.status}); ` +
                    `check the credentials for ${location.registry} (stack config registryUsername/registryPassword, or docker login ${location.registry})`,
            );
        }
        if (!response.ok) {
            throw new RegistryError(`registry ${location.registry} answered ${answered(response)} for ${what}${response.gaveUp ?? ""}`);
        }
    }

    /**
     * One API request. A registry known to challenge is sent its token (or basic credentials) at
     * once; otherwise, or when it refuses the token it was sent, its challenge is answered once.
     */
    private async send(location: RepositoryLocation, method: string, path: string, accept: string): Promise<Answer> {
        const url = new URL(`${registryBaseUrl(location.registry, this.insecure)}/v2/${location.repository}/${path}`);
        const budget: Budget = {};
        const known = this.session.challenges.get(location.registry);
        let authorization = known === undefined ? undefined : await this.authorize(location, known, `repository:${location.repository}:pull`, budget, true);
        let response = await this.fetch(location.registry, url, method, accept, budget, authorization?.header);
        if (response.status === 401) {
            authorization?.forget();
            const header = response.header("www-authenticate");
            const challenge = header === undefined ? undefined : parseChallenge(header);
            if (challenge === undefined || (challenge.scheme !== "basic" && (challenge.scheme !== "bearer" || !challenge.params.realm))) {
                throw new RegistryError(`registry ${location.registry} asked for authentication this client does not speak: ${header ?? "(no challenge)"}`);
            }
            const { scope, ...params } = challenge.params;
            this.session.challenges.set(location.registry, { scheme: challenge.scheme, params });
            authorization = await this.authorize(location, challenge, scope ?? `repository:${location.repository}:pull`, budget, false);
            response = await this.fetch(location.registry, url, method, accept, budget, authorization?.header);
        }
        return response;
    }

    private fetch(registry: string, url: URL, method: string, accept: string, budget: Budget, authorization?: string): Promise<Answer> {
        const headers: Record<string, string> = { Accept: accept };
        if (authorization !== undefined) {
            headers.Authorization = authorization;
        }
        // Inside the slot until the body is read, retries and their waits included: the connection is
        // busy until then, and a registry that throttles is not sent more while it does.
        const host = this.session.host(registry);
        return inSlot(host, () => this.ask(host, this.noun(`registry ${registry}`, url), url, { method, headers }, budget));
    }

    /** `registry R`, or `registry R through proxy P` when the request goes through one. */
    private noun(name: string, url: URL): string {
        try {
            const proxy = this.route(url);
            return proxy === undefined ? name : `${name} through proxy ${redacted(proxy)}`;
        } catch {
            return name;
        }
    }

    /**
     * Asks until an answer that is not a fault, then returns it; 404 and every other answer are the
     * caller's to read. Faults (RETRIED_STATUSES, a reset or dropped connection, no answer in time) are
     * asked again after the registry's Retry-After or a backoff, which every request to the host
     * waits out, within MAX_TRIES and the request's RETRY_WINDOW_MS. Then the last fault is returned
     * (an answer, `gaveUp` saying how many tries over how long) or thrown (no answer, unreachable).
     */
    private async ask(host: Host, noun: string, url: URL, sent: Outgoing, budget: Budget): Promise<Answer> {
        const clock = this.session.clock;
        // A registry that has just failed another request's every try is asked once, or, when it gave
        // no answer at all, not asked: a stack of many references fails in the time of one.
        const failing = host.failing !== undefined && host.failing.until > clock.now() ? host.failing : undefined;
        if (failing?.unreachable !== undefined) {
            throw failing.unreachable;
        }
        const allowed = failing === undefined ? MAX_TRIES : 1;
        await this.paused(host, Number.POSITIVE_INFINITY);
        budget.startedAt ??= clock.now();
        const deadline = budget.startedAt + RETRY_WINDOW_MS;
        const started = clock.now();
        for (let tried = 1; ; tried++) {
            let answer: Answer | undefined;
            let failure: unknown;
            try {
                answer = await request(url, sent, Math.max(1, Math.min(this.timeoutMs, deadline - clock.now())), this.route);
            } catch (error) {
                failure = error;
            }
            if (answer !== undefined && !RETRIED_STATUSES.has(answer.status)) {
                host.failing = undefined;
                return answer;
            }
            if (answer === undefined && !retriedFailure(failure)) {
                throw new RegistryError(describeNetworkError(noun, failure, this.timeoutMs), true);
            }
            const now = clock.now();
            const over = ` (${tries(tried)} over ${seconds(now - started)})`;
            const history = failing === undefined ? over : ` (1 try: it had just failed another request ${failing.tries} times over ${seconds(failing.ms)})`;
            const retryAfter = answer === undefined ? undefined : retryAfterMs(answer.header("retry-after"), now);
            if (answer !== undefined && retryAfter !== undefined && now + retryAfter > deadline && tried < allowed) {
                return { ...answer, gaveUp: `: waiting ${Math.ceil(retryAfter / 1000)} s would pass the ${RETRY_WINDOW_MS / 1000} s a request may take${over}` };
            }
            // A kept-alive connection the registry closed while it was idle fails on reuse: asked again at once, on a new one.
            const wait = failure !== undefined && onReusedConnection.has(failure as object) ? 0 : (retryAfter ?? backoffMs(tried, clock.random()));
            if (tried >= allowed || now + wait > deadline || !(await this.paused(host, deadline, now + wait))) {
                const remember = (unreachable?: RegistryError): void => {
                    if (failing === undefined) {
                        host.failing = { until: clock.now() + RETRY_WINDOW_MS, tries: tried, ms: now - started, unreachable };
                    }
                };
                if (answer !== undefined) {
                    remember();
                    return { ...answer, gaveUp: history };
                }
                const error = new RegistryError(`${describeNetworkError(noun, failure, this.timeoutMs)}${history}`, true);
                remember(error);
                throw error;
            }
        }
    }

    /**
     * Waits until the host takes requests again, after extending its pause to `until` when given;
     * false, without waiting, when the pause runs past `deadline`.
     */
    private async paused(host: Host, deadline: number, until?: number): Promise<boolean> {
        const clock = this.session.clock;
        if (until !== undefined) {
            host.resumeAt = Math.max(host.resumeAt, until);
        }
        for (let now = clock.now(); host.resumeAt > now; now = clock.now()) {
            if (host.resumeAt > deadline) {
                return false;
            }
            await clock.sleep(host.resumeAt - now);
        }
        return true;
    }

    /**
     * The Authorization header for `scope` under `challenge`: basic credentials, or a bearer token kept
     * for the registry, scope and credentials, else asked for. `ahead`: sent before the registry asked
     * (it answered this challenge before), so nothing is said when there are no credentials to send.
     */
    private async authorize(
        location: RepositoryLocation,
        challenge: Challenge,
        scope: string,
        budget: Budget,
        ahead: boolean,
    ): Promise<{ header: string; forget(): void } | undefined> {
        let credentials: RegistryCredentials | undefined;
        try {
            credentials = await this.credentials(location.registry);
        } catch (error) {
            throw new RegistryError((error as Error).message);
        }
        if (challenge.scheme === "basic") {
            if (credentials === undefined || credentials.password === "") {
                if (ahead) {
                    return undefined;
                }
                throw new RegistryError(
                    `registry ${location.registry} needs credentials and none are configured for it (set registryUsername/registryPassword, or run docker login ${location.registry})`,
                );
            }
            return { header: basic(credentials), forget: () => undefined };
        }
        const tokens = this.session.tokens;
        const key = `${location.registry}|${scope}|${fingerprint(credentials)}`;
        let cached = tokens.get(key);
        if (cached === undefined || cached.expiresAt <= this.session.clock.now()) {
            const asked = this.fetchToken(location.registry, challenge, scope, credentials, budget);
            const entry: CachedToken = { token: asked.then(({ token }) => token), expiresAt: Number.POSITIVE_INFINITY };
            asked.then(
                ({ lifetimeS }) => {
                    entry.expiresAt = this.session.clock.now() + lifetimeS * 1000 - TOKEN_EARLY_MS;
                },
                () => {
                    // A failed request for a token is not kept: the next request asks again.
                    if (tokens.get(key) === entry) {
                        tokens.delete(key);
                    }
                },
            );
            tokens.set(key, entry);
            cached = entry;
        }
        const entry = cached;
        return {
            header: `Bearer ${await entry.token}`,
            // A token the registry refused: the next request asks for another.
            forget: () => {
                if (tokens.get(key) === entry) {
                    tokens.delete(key);
                }
            },
        };
    }

    /**
     * A bearer token from the challenge's realm: with an identity token, distribution's OAuth2 flow
     * (a form POST, grant_type=refresh_token, client_id docker as the docker daemon sends it); else a
     * GET with the credentials as basic auth, as docker sends them.
     */
    private async fetchToken(
        registry: string,
        challenge: Challenge,
        scope: string,
        credentials: RegistryCredentials | undefined,
        budget: Budget,
    ): Promise<{ token: string; lifetimeS: number }> {
        const url = new URL(challenge.params.realm);
        const service = challenge.params.service;
        let sent: Outgoing;
        if (credentials?.identityToken !== undefined) {
            const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credentials.identityToken, client_id: "docker", scope });
            if (service) {
                form.set("service", service);
            }
            sent = { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: Buffer.from(form.toString()) };
        } else {
            if (service) {
                url.searchParams.set("service", service);
            }
            url.searchParams.set("scope", scope);
            const withPassword = credentials !== undefined && credentials.password !== "";
            if (withPassword) {
                url.searchParams.set("account", credentials.username);
            }
            sent = { method: "GET", headers: withPassword ? { Authorization: basic(credentials) } : {} };
        }
        const response = await this.ask(this.session.host(url.host), this.noun(`token service ${url.host}`, url), url, sent, budget);
        const who =
            credentials?.identityToken !== undefined
                ? "with the identity token in your docker config"
                : credentials !== undefined && credentials.password !== ""
                  ? `as ${credentials.username}`
                  : "anonymously (no credentials in your docker config)";
        if (response.status === 401 || response.status === 403) {
            throw new RegistryError(`token service ${url.host} refused a token for ${scope} ${who}: HTTP ${response.status}`);
        }
        if (!response.ok) {
            throw new RegistryError(`token service ${url.host} answered ${answered(response)} when asked ${who} for a token for ${scope}${response.gaveUp ?? ""}`);
        }
        let body: { token?: string; access_token?: string; expires_in?: number };
        try {
            body = JSON.parse(response.body.toString("utf8")) as typeof body;
        } catch {
            throw new RegistryError(`token service ${url.host} answered with something that is not JSON`);
        }
        const token = body.token ?? body.access_token;
        if (!token) {
            throw new RegistryError(`token service ${url.host} answered without a token for ${registry}`);
        }
        // Distribution's rule: a token lives at least the default, whatever the service says.
        const lifetimeS = typeof body.expires_in === "number" && body.expires_in > TOKEN_LIFETIME_S ? body.expires_in : TOKEN_LIFETIME_S;
        return { token, lifetimeS };
    }
}

export interface CheckResult {
    readonly reference: DigestReference;
    readonly state: ManifestState | "error";
    /** Why the state is "error". */
    readonly error?: string;
}

/** Checks every reference, at most `concurrency` at a time, in input order; never throws for one bad registry. */
export async function checkReferences(
    client: Pick<RegistryClient, "manifestState">,
    references: readonly DigestReference[],
    concurrency = 8,
    onDone?: (done: number, total: number) => void,
): Promise<CheckResult[]> {
    const results: CheckResult[] = new Array(references.length);
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
        while (next < references.length) {
            const index = next++;
            const reference = references[index];
            try {
                results[index] = { reference, state: await client.manifestState(reference) };
            } catch (error) {
                if (!(error instanceof RegistryError)) {
                    throw error;
                }
                results[index] = { reference, state: "error", error: error.message };
            }
            onDone?.(++done, references.length);
        }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, references.length) }, worker));
    return results;
}
