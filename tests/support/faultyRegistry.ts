// Test fixture: a registry that misbehaves on cue (throttles with Retry-After, answers 5xx, resets
// or drops connections, answers late or never), optionally behind bearer-token auth with its token
// service on the same server, and a clock whose waits take no time.

import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

import type { Clock } from "../../components/registry/client";

/** What one request meets instead of the right answer. */
export type Fault =
    /** This status, with this Retry-After when given. */
    | { readonly status: number; readonly retryAfter?: string }
    /** The connection is destroyed before anything is answered. */
    | { readonly reset: true }
    /** Nothing is ever answered. */
    | { readonly silent: true }
    /** The right answer, this late. */
    | { readonly delayMs: number };

export interface FaultyRegistryOptions {
    /** Faults the registry's API requests (`/v2/…`) meet in turn, one each, before they are answered right. */
    readonly faults?: readonly Fault[];
    /** The fault every API request meets once `faults` are used up: a registry that stays down. */
    readonly always?: Fault;
    /** Faults the token requests meet in turn. */
    readonly tokenFaults?: readonly Fault[];
    /** Bearer-token auth, its token service at `/token` on the same server. */
    readonly bearer?: {
        /** The `expires_in` the token service answers; none when undefined. */
        readonly expiresIn?: number;
        /** The only account it grants tokens to (basic auth on a GET); anonymous requests are granted when undefined. */
        readonly account?: { readonly username: string; readonly password: string };
        /** The identity token (OAuth2 refresh token) it grants tokens for on a POST. */
        readonly identityToken?: string;
    };
}

export interface TokenRequest {
    readonly method: string;
    readonly scope: string | null;
    readonly service: string | null;
    /** The POST's grant_type, client_id and refresh_token; the GET's account. */
    readonly form: Readonly<Record<string, string>>;
}

export interface FaultyRegistry {
    /** `127.0.0.1:<port>`. */
    readonly host: string;
    /** What every repository's tag `v1` holds. */
    readonly digest: string;
    /** `METHOD /path` of every API request the registry saw, in order. */
    readonly requests: string[];
    /** The Authorization header of each of `requests` (undefined for none). */
    readonly authorizations: (string | undefined)[];
    readonly tokenRequests: TokenRequest[];
    /** Forgets every token granted so far, as a token's expiry or a revocation does on the registry's side. */
    revokeTokens(): void;
    close(): Promise<void>;
}

const MANIFEST = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { digest: `sha256:${"0".repeat(64)}` }, layers: [] }));
const SERVICE = "faulty-registry";

/** Answers `fault`, or returns false when the right answer is to follow (after `delayMs`). */
async function meet(fault: Fault | undefined, request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
    if (fault === undefined) {
        return false;
    }
    if ("status" in fault) {
        response.writeHead(fault.status, fault.retryAfter === undefined ? {} : { "Retry-After": fault.retryAfter }).end();
        return true;
    }
    if ("reset" in fault) {
        request.socket.resetAndDestroy();
        return true;
    }
    if ("silent" in fault) {
        return true;
    }
    await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    return false;
}

export async function startFaultyRegistry(options: FaultyRegistryOptions = {}): Promise<FaultyRegistry> {
    const digest = `sha256:${createHash("sha256").update(MANIFEST).digest("hex")}`;
    const faults = [...(options.faults ?? [])];
    const tokenFaults = [...(options.tokenFaults ?? [])];
    const requests: string[] = [];
    const authorizations: (string | undefined)[] = [];
    const tokenRequests: TokenRequest[] = [];
    /** Granted tokens and the repositories each may pull. */
    let granted = new Map<string, string[]>();
    let port = 0;

    const token = async (request: http.IncomingMessage, response: http.ServerResponse, url: URL): Promise<void> => {
        const chunks: Buffer[] = [];
        for await (const chunk of request) {
            chunks.push(chunk as Buffer);
        }
        const form = request.method === "POST" ? new URLSearchParams(Buffer.concat(chunks).toString("utf8")) : url.searchParams;
        const scope = form.get("scope");
        const seen: Record<string, string> = {};
        for (const name of ["grant_type", "client_id", "refresh_token", "account"]) {
            const value = form.get(name);
            if (value !== null) {
                seen[name] = value;
            }
        }
        tokenRequests.push({ method: request.method ?? "", scope, service: form.get("service"), form: seen });
        if (await meet(tokenFaults.shift(), request, response)) {
            return;
        }
        const bearer = options.bearer ?? {};
        const allowed =
            request.method === "POST"
                ? bearer.identityToken !== undefined && form.get("grant_type") === "refresh_token" && form.get("refresh_token") === bearer.identityToken
                : bearer.account === undefined ||
                  request.headers.authorization === `Basic ${Buffer.from(`${bearer.account.username}:${bearer.account.password}`).toString("base64")}`;
        if (!allowed) {
            response.writeHead(401).end();
            return;
        }
        const issued = `token-${tokenRequests.length}`;
        granted.set(issued, (scope ?? "").split(" ").map((one) => one.split(":")[1]));
        const body = { [request.method === "POST" ? "access_token" : "token"]: issued, ...(bearer.expiresIn === undefined ? {} : { expires_in: bearer.expiresIn }) };
        response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    };

    const server = http.createServer((request, response) => {
        const url = new URL(request.url ?? "/", "http://registry");
        if (url.pathname === "/token") {
            void token(request, response, url);
            return;
        }
        requests.push(`${request.method} ${url.pathname}`);
        authorizations.push(request.headers.authorization);
        void (async () => {
            if (await meet(faults.shift() ?? options.always, request, response)) {
                return;
            }
            const match = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
            const repository = match?.[1] ?? "";
            if (options.bearer !== undefined) {
                const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
                if (presented === undefined || !(granted.get(presented) ?? []).includes(repository)) {
                    const challenge = `Bearer realm="http://127.0.0.1:${port}/token",service="${SERVICE}",scope="repository:${repository}:pull"`;
                    response.writeHead(401, { "WWW-Authenticate": challenge }).end();
                    return;
                }
            }
            if (match === null || (match[2] !== "v1" && match[2] !== digest)) {
                response.writeHead(404).end();
                return;
            }
            response
                .writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": digest, "Content-Length": MANIFEST.length })
                .end(request.method === "GET" ? MANIFEST : undefined);
        })();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    return {
        host: `127.0.0.1:${port}`,
        digest,
        requests,
        authorizations,
        tokenRequests,
        revokeTokens: () => {
            granted = new Map();
        },
        close: async () => {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}

/**
 * A clock for the retries whose waits take no time: each moves its time on (`waits` records them),
 * or, with `manual`, waits until the test moves it with advance(). Its jitter is none (random 0.5).
 */
export class TestClock implements Clock {
    readonly waits: number[] = [];
    private time: number;
    private sleepers: { at: number; wake: () => void }[] = [];
    private onSleep: (() => void)[] = [];

    /** Starts on a whole second, so that an HTTP date (whole seconds) is exactly as far as meant. */
    constructor(
        private readonly manual = false,
        start = Date.UTC(2026, 0, 5, 9, 0, 0),
    ) {
        this.time = start;
    }

    now(): number {
        return this.time;
    }

    random(): number {
        return 0.5;
    }

    sleep(ms: number): Promise<void> {
        this.waits.push(ms);
        if (!this.manual) {
            this.time += ms;
            return new Promise((resolve) => setImmediate(resolve));
        }
        const slept = new Promise<void>((wake) => this.sleepers.push({ at: this.time + ms, wake }));
        for (const notify of this.onSleep.splice(0)) {
            notify();
        }
        return slept;
    }

    /** Resolves once `count` waits are under way (manual clock). */
    async sleeping(count: number): Promise<void> {
        while (this.sleepers.length < count) {
            await new Promise<void>((resolve) => this.onSleep.push(resolve));
        }
    }

    /** Moves the time on, waking the waits that are due. */
    advance(ms: number): void {
        this.time += ms;
        const due = this.sleepers.filter((sleeper) => sleeper.at <= this.time);
        this.sleepers = this.sleepers.filter((sleeper) => sleeper.at > this.time);
        for (const sleeper of due) {
            sleeper.wake();
        }
    }
}
