// Which proxy a registry request goes through, read from the environment the way Go's net/http
// (and so docker) reads it, and the agents that send requests through one: a plain-HTTP proxy
// is asked for the absolute URL, an https registry is reached through a CONNECT tunnel.

import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";

/** `HTTPS_PROXY` for https, `HTTP_PROXY` for http (the upper-case name first, as Go reads them), `NO_PROXY` for the exceptions. */
export type ProxyEnv = Readonly<Record<string, string | undefined>>;

function variable(env: ProxyEnv, name: string): string | undefined {
    const value = env[name.toUpperCase()] || env[name.toLowerCase()];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** `host` without IPv6 brackets, lower case. */
function bare(host: string): string {
    return host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
}

function defaultPort(protocol: string): string {
    return protocol === "https:" ? "443" : "80";
}

function loopback(host: string): boolean {
    if (host === "localhost") {
        return true;
    }
    const family = net.isIP(host);
    return (family === 4 && host.startsWith("127.")) || (family === 6 && (host === "::1" || host === "0:0:0:0:0:0:0:1"));
}

/** Whether one `NO_PROXY` entry covers `host:port`: `*`, an IP, a CIDR, a domain and its subdomains, or `.domain` for subdomains alone; a port, when given, must match. */
function exempted(entry: string, host: string, port: string): boolean {
    if (entry === "*") {
        return true;
    }
    if (entry.includes("/")) {
        const [address, bits] = entry.split("/");
        const family = net.isIP(address);
        if (family === 0 || net.isIP(host) !== family) {
            return false;
        }
        const block = new net.BlockList();
        block.addSubnet(address, Number(bits), family === 4 ? "ipv4" : "ipv6");
        return block.check(host, family === 4 ? "ipv4" : "ipv6");
    }
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    const entryHost = bare(withPort?.[1] ?? entry);
    if (withPort !== null && withPort[2] !== port) {
        return false;
    }
    if (net.isIP(entryHost) !== 0) {
        return entryHost === host;
    }
    const domain = entryHost.replace(/^\*\./, ".");
    return domain.startsWith(".") ? host.endsWith(domain) : host === domain || host.endsWith(`.${domain}`);
}

/**
 * The proxy `url` is to be requested through, or undefined for a direct connection. Loopback is
 * never proxied (Go's rule: a registry on localhost is this machine's, wherever the proxy is).
 */
export function proxyFor(url: URL, env: ProxyEnv): URL | undefined {
    const host = bare(url.hostname);
    if (loopback(host)) {
        return undefined;
    }
    const setting = variable(env, url.protocol === "https:" ? "https_proxy" : "http_proxy");
    if (setting === undefined) {
        return undefined;
    }
    const port = url.port || defaultPort(url.protocol);
    const noProxy = (variable(env, "no_proxy") ?? "").split(",").map((entry) => entry.trim().toLowerCase());
    if (noProxy.some((entry) => entry !== "" && exempted(entry, host, port))) {
        return undefined;
    }
    let proxy: URL;
    try {
        proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(setting) ? setting : `http://${setting}`);
    } catch {
        throw new Error(`the proxy setting ${redacted(setting)} is not a URL`);
    }
    if (proxy.protocol !== "http:" && proxy.protocol !== "https:") {
        throw new Error(`the proxy ${redacted(setting)} speaks ${proxy.protocol.replace(/:$/, "")}, and registries are reached through http or https proxies only`);
    }
    return proxy;
}

/** A proxy URL as it may be shown: without its password. */
export function redacted(proxy: string | URL): string {
    try {
        const url = new URL(proxy);
        if (url.password !== "") {
            url.password = "****";
        }
        return url.toString().replace(/\/$/, "");
    } catch {
        return String(proxy).replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:****@");
    }
}

/** The header a proxy with `user:password` in its URL is sent. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
    if (proxy.username === "") {
        return {};
    }
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    return { "Proxy-Authorization": `Basic ${Buffer.from(credentials).toString("base64")}` };
}

/** The proxy answered the CONNECT with something other than 200: it would not open the tunnel. */
export class ProxyRefusal extends Error {
    constructor(
        readonly status: number,
        target: string,
    ) {
        super(`the proxy answered HTTP ${status} to CONNECT ${target}`);
        this.name = "ProxyRefusal";
    }
}

/**
 * An https agent whose connections are CONNECT tunnels through `proxy`, TLS running end to end
 * with the registry inside them. Node's Agent takes a connection handed to createConnection's
 * callback, so the tunnel is opened there and the pool, keep-alive and TLS sessions stay Node's.
 */
export class TunnelAgent extends https.Agent {
    constructor(readonly proxy: URL) {
        super({ keepAlive: true });
    }

    override createConnection(options: https.RequestOptions, callback?: (error: Error | null, stream: Duplex) => void): Duplex | null | undefined {
        // Node's Agent hands a failure to this callback alone, with no stream (lib/_http_agent.js, oncreate).
        const done = callback as ((error: Error | null, stream?: Duplex) => void) | undefined;
        const host = options.hostname ?? options.host ?? "localhost";
        const target = `${net.isIPv6(host) ? `[${host}]` : host}:${options.port ?? 443}`;
        const send = this.proxy.protocol === "https:" ? https.request : http.request;
        const connect = send({
            host: this.proxy.hostname,
            port: this.proxy.port || defaultPort(this.proxy.protocol),
            method: "CONNECT",
            path: target,
            headers: { Host: target, ...proxyAuthorization(this.proxy) },
            agent: false,
        });
        const fail = (error: Error): void => done?.(error);
        connect.once("connect", (answer, socket) => {
            if (answer.statusCode !== 200) {
                socket.destroy();
                fail(new ProxyRefusal(answer.statusCode ?? 0, target));
                return;
            }
            const servername = net.isIP(host) === 0 ? host : undefined;
            done?.(null, tls.connect({ ...(options as tls.ConnectionOptions), socket, servername }));
        });
        connect.once("error", fail);
        connect.end();
        return undefined;
    }
}
