// A Docker Registry HTTP API v2 client that answers one question: is this manifest still there?
// HEAD /v2/<repo>/manifests/<digest>, with the bearer-token (or basic) challenge registries use.

import type { CredentialLookup, RegistryCredentials } from "./dockerConfig";
import type { DigestReference } from "./reference";

/** Every manifest kind a digest may name, so the registry never answers 404 for a format it would not offer. */
export const MANIFEST_ACCEPT = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

export const DEFAULT_TIMEOUT_MS = 30_000;

/** The registry could not give an answer (down, unreachable, refused us, or answered nonsense). */
export class RegistryError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "RegistryError";
    }
}

export type ManifestState = "present" | "missing";

export interface RegistryClientOptions {
    /** Credentials per registry host; anonymous when it answers undefined. */
    readonly credentials?: CredentialLookup;
    /** Per request. Defaults to 30 s. */
    readonly timeoutMs?: number;
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

/** Docker's insecure-registry default: loopback registries speak plain http, all others https. */
export function registryBaseUrl(registry: string): string {
    const host = registry.startsWith("[") ? registry.slice(0, registry.indexOf("]") + 1) : registry.split(":")[0];
    const loopback = host === "localhost" || host.startsWith("127.") || host === "[::1]";
    return `${loopback ? "http" : "https"}://${registry}`;
}

function basic(credentials: RegistryCredentials): string {
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

/** Turns undici's "fetch failed" into what happened, naming the host. */
function describeNetworkError(registry: string, error: unknown, timeoutMs: number): RegistryError {
    const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err.name === "TimeoutError") {
        return new RegistryError(`cannot reach registry ${registry}: no answer within ${timeoutMs / 1000} s`);
    }
    const code = err.cause?.code;
    const reasons: Record<string, string> = {
        ECONNREFUSED: "connection refused",
        ENOTFOUND: "host not found",
        EAI_AGAIN: "host not found (DNS lookup failed)",
        ECONNRESET: "connection reset",
        EHOSTUNREACH: "host unreachable",
        ETIMEDOUT: "connection timed out",
    };
    // fetch refuses the Fetch standard's "bad ports" (6000, 6665-6669, …) with this terse text.
    const badPort = err.cause?.message === "bad port" ? "fetch refuses to connect to this port (it is on the Fetch standard's blocked list)" : undefined;
    const reason = (code && reasons[code]) ?? badPort ?? err.cause?.message ?? err.message ?? String(error);
    return new RegistryError(`cannot reach registry ${registry}: ${reason}`);
}

export class RegistryClient {
    private readonly credentials: CredentialLookup;
    private readonly timeoutMs: number;
    /** One token request per realm/service/scope, shared by concurrent checks of the same repository. */
    private readonly tokens = new Map<string, Promise<string>>();

    constructor(options: RegistryClientOptions = {}) {
        this.credentials = options.credentials ?? (async () => undefined);
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    }

    /** Whether the registry still holds the manifest; throws RegistryError when it cannot say. */
    async manifestState(reference: DigestReference): Promise<ManifestState> {
        const url = `${registryBaseUrl(reference.registry)}/v2/${reference.repository}/manifests/${reference.digest}`;
        let response = await this.head(reference.registry, url);
        if (response.status === 401) {
            const authorization = await this.answerChallenge(reference, response.headers.get("www-authenticate"));
            response = await this.head(reference.registry, url, authorization);
        }
        switch (response.status) {
            case 200:
                return "present";
            case 404:
                return "missing";
            case 401:
            case 403:
                throw new RegistryError(
                    `registry ${reference.registry} denied access to ${reference.repository} (HTTP ${response.status}); ` +
                        `check the credentials for ${reference.registry} in your docker config`,
                );
            default:
                throw new RegistryError(
                    `registry ${reference.registry} answered HTTP ${response.status} for ${reference.repository}@${reference.digest}`,
                );
        }
    }

    private async head(registry: string, url: string, authorization?: string): Promise<Response> {
        const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
        if (authorization) {
            headers.Authorization = authorization;
        }
        try {
            return await fetch(url, { method: "HEAD", headers, signal: AbortSignal.timeout(this.timeoutMs) });
        } catch (error) {
            throw describeNetworkError(registry, error, this.timeoutMs);
        }
    }

    private async answerChallenge(reference: DigestReference, header: string | null): Promise<string> {
        const challenge = header ? parseChallenge(header) : undefined;
        let credentials: RegistryCredentials | undefined;
        try {
            credentials = await this.credentials(reference.registry);
        } catch (error) {
            throw new RegistryError((error as Error).message);
        }
        if (challenge?.scheme === "basic") {
            if (!credentials) {
                throw new RegistryError(
                    `registry ${reference.registry} needs credentials and your docker config has none for it (run docker login ${reference.registry})`,
                );
            }
            return basic(credentials);
        }
        if (challenge?.scheme !== "bearer" || !challenge.params.realm) {
            throw new RegistryError(`registry ${reference.registry} asked for authentication this tool does not speak: ${header ?? "(no challenge)"}`);
        }
        const scope = challenge.params.scope ?? `repository:${reference.repository}:pull`;
        const key = `${challenge.params.realm}|${challenge.params.service ?? ""}|${scope}`;
        let token = this.tokens.get(key);
        if (!token) {
            token = this.fetchToken(reference.registry, challenge.params.realm, challenge.params.service, scope, credentials);
            this.tokens.set(key, token);
            // A failed token request is not cached: the next check may ask again.
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
        let response: Response;
        try {
            response = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
        } catch (error) {
            throw describeNetworkError(url.host, error, this.timeoutMs);
        }
        if (!response.ok) {
            const who = credentials ? `as ${credentials.username}` : "anonymously (no credentials in your docker config)";
            throw new RegistryError(`token service ${url.host} refused a token for ${scope} ${who}: HTTP ${response.status}`);
        }
        const body = (await response.json()) as { token?: string; access_token?: string };
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
