// The one Docker Registry HTTP API v2 client, for the component and the command alike: which
// digest a tag holds, whether a digest is still there, and what an image's labels say. It speaks
// the bearer-token (or basic) challenge registries use, and plain HTTP where Docker would.

import { createHash, randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";

import type { CredentialLookup, RegistryCredentials } from "./credentials";
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

const slots = new Map<string, { active: number; waiting: (() => void)[] }>();

/** Runs `request` when one of the registry's slots is free; a finished request hands its slot on. */
async function inSlot<T>(registry: string, request: () => Promise<T>): Promise<T> {
    let slot = slots.get(registry);
    if (slot === undefined) {
        slot = { active: 0, waiting: [] };
        slots.set(registry, slot);
    }
    if (slot.active < MAX_REQUESTS_PER_REGISTRY) {
        slot.active++;
    } else {
        const queue = slot.waiting;
        await new Promise<void>((resolve) => queue.push(resolve));
    }
    try {
        return await request();
    } finally {
        const next = slot.waiting.shift();
        if (next === undefined) {
            slot.active--;
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
    /** Per request. Defaults to 30 s. */
    readonly timeoutMs?: number;
    /** Registry hosts (`host:port`) spoken to in plain HTTP although they are not on loopback. */
    readonly insecureRegistries?: readonly string[];
    /** The directory image labels are kept in across processes, or false for none. Defaults to defaultLabelsCache(). */
    readonly labelsCache?: string | false;
}

interface ManifestDocument {
    readonly config?: { readonly digest: string };
    readonly manifests?: readonly { readonly digest: string; readonly platform?: { readonly os?: string } }[];
}

interface Challenge {
    readonly scheme: string;
    readonly params: Readonly<Record<string, string>>;
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

/**
 * Connections kept open between requests, so a stack's hundreds of questions to one registry share
 * a few connections instead of opening one each. An idle connection does not keep the process alive.
 */
const agents = { "http:": new http.Agent({ keepAlive: true }), "https:": new https.Agent({ keepAlive: true }) };

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
}

/** No answer within the client's timeout. */
class TimeoutError extends Error {
    constructor() {
        super("no answer in time");
        this.name = "TimeoutError";
    }
}

/**
 * One HTTP request with Node's own client, the answer read whole within `timeoutMs`. Redirects (blobs
 * on a CDN) are followed; the credentials are sent along only to the same origin.
 */
function request(url: URL, method: string, headers: Readonly<Record<string, string>>, timeoutMs: number, redirects = 0): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
        const agent = agents[url.protocol as keyof typeof agents];
        if (agent === undefined) {
            reject(new Error(`unsupported protocol ${url.protocol}`));
            return;
        }
        const send = url.protocol === "https:" ? https.request : http.request;
        const outgoing = send(url, { method, headers, agent }, (incoming) => {
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
                const sent = next.origin === url.origin ? headers : Object.fromEntries(Object.entries(headers).filter(([name]) => name !== "Authorization"));
                const nextMethod = status === 303 && method !== "HEAD" ? "GET" : method;
                request(next, nextMethod, sent, timeoutMs, redirects + 1).then(resolve, reject);
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
        });
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
            reject(error);
        });
        outgoing.end();
    });
}

/** Whether a request failed on a kept-alive connection the other side had closed while it was idle. */
function closedWhileIdle(error: unknown): boolean {
    const code = (error as { code?: string }).code;
    return code === "ECONNRESET" || code === "EPIPE";
}

/** Turns a failed request into what happened, naming the host. */
function describeNetworkError(registry: string, error: unknown, timeoutMs: number): RegistryError {
    const err = error as { name?: string; message?: string; code?: string };
    if (err.name === "TimeoutError") {
        return new RegistryError(`cannot reach registry ${registry}: no answer within ${timeoutMs / 1000} s`, true);
    }
    const reasons: Record<string, string> = {
        ECONNREFUSED: "connection refused",
        ENOTFOUND: "host not found",
        EAI_AGAIN: "host not found (DNS lookup failed)",
        ECONNRESET: "connection reset",
        EHOSTUNREACH: "host unreachable",
        ETIMEDOUT: "connection timed out",
    };
    const reason = (err.code && reasons[err.code]) ?? err.message ?? String(error);
    return new RegistryError(`cannot reach registry ${registry}: ${reason}`, true);
}

export class RegistryClient {
    private readonly credentials: CredentialLookup;
    private readonly timeoutMs: number;
    private readonly insecure: ReadonlySet<string>;
    /** One token request per realm/service/scope, shared by concurrent requests for the same repository. */
    private readonly tokens = new Map<string, Promise<string>>();
    /** An image's labels never change: its digest names its config. */
    private readonly labels = new Map<string, Promise<Record<string, string>>>();
    private readonly labelsCache: string | false;

    constructor(options: RegistryClientOptions = {}) {
        this.credentials = options.credentials ?? (async () => undefined);
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        this.insecure = new Set(options.insecureRegistries ?? []);
        this.labelsCache = options.labelsCache ?? defaultLabelsCache();
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
            throw new RegistryError(`registry ${location.registry} answered HTTP ${response.status} for ${what}`);
        }
    }

    /** One API request, answering an authentication challenge once if the registry sends one. */
    private async send(location: RepositoryLocation, method: string, path: string, accept: string): Promise<Answer> {
        const url = `${registryBaseUrl(location.registry, this.insecure)}/v2/${location.repository}/${path}`;
        let response = await this.fetch(location.registry, url, method, accept);
        if (response.status === 401) {
            const authorization = await this.answerChallenge(location, response.header("www-authenticate"));
            response = await this.fetch(location.registry, url, method, accept, authorization);
        }
        return response;
    }

    private async fetch(registry: string, url: string, method: string, accept: string, authorization?: string): Promise<Answer> {
        const headers: Record<string, string> = { Accept: accept };
        if (authorization) {
            headers.Authorization = authorization;
        }
        // Inside the slot until the body is read: the connection is busy until then.
        const attempt = (): Promise<Answer> => request(new URL(url), method, headers, this.timeoutMs);
        return inSlot(registry, async () => {
            try {
                return await attempt().catch((error: unknown) => {
                    // A kept-alive connection the registry closed while it was idle fails on reuse: these
                    // requests only read, so the one answer is to ask again on a new connection.
                    if (!closedWhileIdle(error)) {
                        throw error;
                    }
                    return attempt();
                });
            } catch (error) {
                throw describeNetworkError(registry, error, this.timeoutMs);
            }
        });
    }

    private async answerChallenge(location: RepositoryLocation, header: string | undefined): Promise<string> {
        const challenge = header ? parseChallenge(header) : undefined;
        let credentials: RegistryCredentials | undefined;
        try {
            credentials = await this.credentials(location.registry);
        } catch (error) {
            throw new RegistryError((error as Error).message);
        }
        if (challenge?.scheme === "basic") {
            if (!credentials) {
                throw new RegistryError(
                    `registry ${location.registry} needs credentials and none are configured for it (set registryUsername/registryPassword, or run docker login ${location.registry})`,
                );
            }
            return basic(credentials);
        }
        if (challenge?.scheme !== "bearer" || !challenge.params.realm) {
            throw new RegistryError(`registry ${location.registry} asked for authentication this client does not speak: ${header ?? "(no challenge)"}`);
        }
        const scope = challenge.params.scope ?? `repository:${location.repository}:pull`;
        const key = `${challenge.params.realm}|${challenge.params.service ?? ""}|${scope}`;
        let token = this.tokens.get(key);
        if (!token) {
            token = this.fetchToken(location.registry, challenge.params.realm, challenge.params.service, scope, credentials);
            this.tokens.set(key, token);
            // A failed token request is not cached: the next request may ask again.
            token.catch(() => this.tokens.delete(key));
        }
        return `Bearer ${await token}`;
    }

    private async fetchToken(
        registry: string,
        realm: string,
        service: string | undefined,
        scope: string,
        credentials: RegistryCredentials | undefined,
    ): Promise<string> {
        const url = new URL(realm);
        if (service) {
            url.searchParams.set("service", service);
        }
        url.searchParams.set("scope", scope);
        const headers: Record<string, string> = credentials ? { Authorization: basic(credentials) } : {};
        let response: Answer;
        try {
            response = await request(url, "GET", headers, this.timeoutMs);
        } catch (error) {
            throw describeNetworkError(url.host, error, this.timeoutMs);
        }
        if (!response.ok) {
            const who = credentials ? `as ${credentials.username}` : "anonymously (no credentials in your docker config)";
            throw new RegistryError(`token service ${url.host} refused a token for ${scope} ${who}: HTTP ${response.status}`);
        }
        let body: { token?: string; access_token?: string };
        try {
            body = JSON.parse(response.body.toString("utf8")) as { token?: string; access_token?: string };
        } catch {
            throw new RegistryError(`token service ${url.host} answered with something that is not JSON`);
        }
        const token = body.token ?? body.access_token;
        if (!token) {
            throw new RegistryError(`token service ${url.host} answered without a token for ${registry}`);
        }
        return token;
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
