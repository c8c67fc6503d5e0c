// Registries behind a proxy: which requests go through it (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, read
// as Go's net/http reads them), a plain-HTTP request naming the whole URL to it, and an https one
// through a CONNECT tunnel with TLS end to end.

import * as assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";

import { RegistryClient, RegistryError, RegistrySession } from "../../components/registry/client";
import { proxyFor, type ProxyEnv } from "../../components/registry/proxy";
import { TestClock } from "../support/faultyRegistry";
import { selfSignedCertificate } from "../support/registryServer";

const DIGEST = `sha256:${"b".repeat(64)}`;

describe("registry proxies", () => {
    it("are chosen per scheme, never for loopback, and skipped for what NO_PROXY names", () => {
        const env: ProxyEnv = {
            HTTPS_PROXY: "http://proxy.corp:3128",
            http_proxy: "plain.corp:8080",
            NO_PROXY: "internal.corp, .svc.local, 10.0.0.0/8, 192.168.1.7, registry.example.com:5000",
        };
        const table: [string, ProxyEnv, string | undefined][] = [
            ["https://ghcr.io/v2/", env, "http://proxy.corp:3128/"],
            ["http://insecure.example.com:5000/v2/", env, "http://plain.corp:8080/"],
            ["http://127.0.0.1:5000/v2/", env, undefined],
            ["http://localhost:5000/v2/", env, undefined],
            ["http://[::1]:5000/v2/", env, undefined],
            ["https://internal.corp/v2/", env, undefined],
            ["https://registry.internal.corp/v2/", env, undefined],
            ["https://svc.local/v2/", env, "http://proxy.corp:3128/"],
            ["https://registry.svc.local/v2/", env, undefined],
            ["https://10.1.2.3/v2/", env, undefined],
            ["https://11.1.2.3/v2/", env, "http://proxy.corp:3128/"],
            ["https://192.168.1.7:443/v2/", env, undefined],
            ["https://registry.example.com:5000/v2/", env, undefined],
            ["https://registry.example.com/v2/", env, "http://proxy.corp:3128/"],
            ["https://ghcr.io/v2/", { HTTPS_PROXY: "http://proxy.corp:3128", NO_PROXY: "*" }, undefined],
            ["https://ghcr.io/v2/", { https_proxy: "http://lower.corp:3128", HTTPS_PROXY: "http://upper.corp:3128" }, "http://upper.corp:3128/"],
            ["https://ghcr.io/v2/", { HTTP_PROXY: "http://plain.corp:8080" }, undefined],
            ["https://ghcr.io/v2/", {}, undefined],
        ];
        for (const [url, settings, expected] of table) {
            assert.equal(proxyFor(new URL(url), settings)?.href, expected, `${url} with ${JSON.stringify(settings)}`);
        }
        assert.throws(() => proxyFor(new URL("https://ghcr.io/v2/"), { HTTPS_PROXY: "socks5://user:pw@proxy.corp:1080" }), {
            message: "the proxy socks5://user:****@proxy.corp:1080 speaks socks5, and registries are reached through http or https proxies only",
        });
    });

    describe("on the wire", () => {
        const servers: { close(): void; closeAllConnections?(): void }[] = [];
        afterEach(() => {
            for (const server of servers.splice(0)) {
                server.closeAllConnections?.();
                server.close();
            }
        });

        async function listen<T extends net.Server>(server: T): Promise<number> {
            servers.push(server as T & { closeAllConnections?(): void });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            return (server.address() as net.AddressInfo).port;
        }

        it("asks a plain-HTTP registry's URL of the HTTP_PROXY, with the proxy's credentials", async () => {
            const seen: string[] = [];
            const port = await listen(
                http.createServer((request, response) => {
                    seen.push(`${request.method} ${request.url} host=${request.headers.host} ${request.headers["proxy-authorization"]}`);
                    response.writeHead(200, { "Docker-Content-Digest": DIGEST, "Content-Length": 0 }).end();
                }),
            );
            const client = new RegistryClient({
                session: new RegistrySession(new TestClock()),
                insecureRegistries: ["registry.test:5000"],
                proxyEnv: { HTTP_PROXY: `http://ci:pw@127.0.0.1:${port}` },
            });
            assert.equal(await client.digestOfTag({ registry: "registry.test:5000", repository: "team/app" }, "v1"), DIGEST);
            assert.deepEqual(seen, [`HEAD http://registry.test:5000/v2/team/app/manifests/v1 host=registry.test:5000 Basic ${Buffer.from("ci:pw").toString("base64")}`]);
        });

        it("reaches an https registry through a CONNECT tunnel, TLS with the registry itself", async () => {
            const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
            const der = selfSignedCertificate(publicKey, privateKey, "registry.test");
            const certificate = `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE-----\n`;
            const registrySaw: string[] = [];
            const registryPort = await listen(
                https.createServer({ key: privateKey.export({ type: "pkcs8", format: "pem" }), cert: certificate }, (request, response) => {
                    registrySaw.push(`${request.method} ${request.url} host=${request.headers.host}`);
                    response.writeHead(200, { "Docker-Content-Digest": DIGEST, "Content-Length": 0 }).end();
                }),
            );
            const tunnels: string[] = [];
            const proxy = http.createServer();
            proxy.on("connect", (request: http.IncomingMessage, socket: net.Socket) => {
                tunnels.push(`${request.method} ${request.url}`);
                const upstream = net.connect(registryPort, "127.0.0.1", () => {
                    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
                    upstream.pipe(socket).pipe(upstream);
                });
                socket.on("error", () => upstream.destroy());
                upstream.on("error", () => socket.destroy());
            });
            const proxyPort = await listen(proxy);
            // The registry's certificate is trusted for this test alone, as a private registry's CA would be.
            const trusted = tls.getCACertificates("default");
            tls.setDefaultCACertificates([...trusted, certificate]);
            try {
                const client = new RegistryClient({ session: new RegistrySession(new TestClock()), proxyEnv: { HTTPS_PROXY: `127.0.0.1:${proxyPort}` } });
                const location = { registry: "registry.test", repository: "team/app" };
                assert.equal(await client.digestOfTag(location, "v1"), DIGEST);
                assert.equal(await client.digestOfTag(location, "v2"), DIGEST);
            } finally {
                tls.setDefaultCACertificates(trusted);
            }
            assert.deepEqual(tunnels, ["CONNECT registry.test:443"], "one tunnel, kept alive for both requests");
            assert.deepEqual(registrySaw, ["HEAD /v2/team/app/manifests/v1 host=registry.test", "HEAD /v2/team/app/manifests/v2 host=registry.test"]);
        });

        it("names the proxy when it will not open a tunnel", async () => {
            const proxy = http.createServer();
            proxy.on("connect", (_request: http.IncomingMessage, socket: net.Socket) => {
                socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
            });
            const port = await listen(proxy);
            const client = new RegistryClient({ session: new RegistrySession(new TestClock()), proxyEnv: { https_proxy: `http://ci:secret@127.0.0.1:${port}` } });
            await assert.rejects(client.digestOfTag({ registry: "registry.test", repository: "team/app" }, "v1"), (error: unknown) => {
                assert.ok(error instanceof RegistryError && error.unreachable);
                assert.equal(error.message, `cannot reach registry registry.test through proxy http://ci:****@127.0.0.1:${port}: the proxy answered HTTP 403 to CONNECT registry.test:443`);
                return true;
            });
        });
    });
});
