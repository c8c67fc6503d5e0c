// The registry client against a real registry (docker-registry on 127.0.0.1): present, deleted,
// unknown repository, a registry that is down, and the bearer-token flow with docker config credentials.

import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { credentialsFromAuths, helperFor, loadCredentialLookup, type RegistryCredentials } from "../../components/registry/credentials";
import { parseDigestReference } from "../../cli/core/reference";
import {
    checkReferences,
    MAX_REQUESTS_PER_REGISTRY,
    MAX_TRIES,
    parseChallenge,
    RegistryClient,
    RegistryError,
    RegistrySession,
    registryBaseUrl,
} from "../../components/registry/client";
import { TestClock } from "../support/faultyRegistry";
import { freePort, startRegistry, type TestRegistry } from "../support/registryServer";

const REPO = "team/payment-api";

describe("registry client against docker-registry", () => {
    let registry: TestRegistry;
    let v1: string;
    let deleted: string;
    const client = new RegistryClient();

    before(async () => {
        registry = await startRegistry();
        v1 = await registry.push(REPO, "v1");
        deleted = await registry.push(REPO, "v0");
        await registry.deleteManifest(REPO, deleted);
    });
    after(async () => {
        await registry?.stop();
    });

    it("finds a pushed manifest by digest", async () => {
        assert.equal(await client.manifestState(parseDigestReference(`${registry.host}/${REPO}@${v1}`)), "present");
    });

    it("finds a multi-platform image index by digest (the Accept header names OCI indexes)", async () => {
        const index = await registry.pushIndex(REPO, "v1-multi", [v1]);
        assert.equal(await client.manifestState(parseDigestReference(`${registry.host}/${REPO}@${index}`)), "present");
    });

    it("answers missing for a deleted manifest", async () => {
        assert.equal(await client.manifestState(parseDigestReference(`${registry.host}/${REPO}@${deleted}`)), "missing");
    });

    it("answers missing for a repository the registry never had", async () => {
        assert.equal(await client.manifestState(parseDigestReference(`${registry.host}/team/never-pushed@${v1}`)), "missing");
    });

    it("ignores a tag written before the digest, as docker does", async () => {
        assert.equal(await client.manifestState(parseDigestReference(`${registry.host}/${REPO}:v1@${v1}`)), "present");
    });

    it("fails with the host and the reason when nothing listens (an error, not missing)", async () => {
        const port = await freePort();
        await assert.rejects(
            client.manifestState(parseDigestReference(`127.0.0.1:${port}/${REPO}@${v1}`)),
            (error: unknown) => error instanceof RegistryError && error.message === `cannot reach registry 127.0.0.1:${port}: connection refused`,
        );
    });

    it("reaches a registry on a port the Fetch standard blocks (6000)", async () => {
        const asked: string[] = [];
        const server = http.createServer((request, response) => {
            asked.push(`${request.method} ${request.url}`);
            response.writeHead(404).end();
        });
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(6000, "127.0.0.1", resolve));
        try {
            assert.equal(await client.manifestState(parseDigestReference(`127.0.0.1:6000/${REPO}@${v1}`)), "missing");
            assert.deepEqual(asked, [`HEAD /v2/${REPO}/manifests/${v1}`]);
        } finally {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        }
    });

    it("checks many references concurrently and keeps their order", async () => {
        const port = await freePort();
        const references = [
            `${registry.host}/${REPO}@${v1}`,
            `${registry.host}/${REPO}@${deleted}`,
            `127.0.0.1:${port}/${REPO}@${v1}`,
            `${registry.host}/team/never-pushed@${v1}`,
        ].map(parseDigestReference);
        const progress: string[] = [];
        const results = await checkReferences(client, references, 3, (done, total) => progress.push(`${done}/${total}`));
        assert.deepEqual(
            results.map((result) => [result.reference.text, result.state, result.error]),
            [
                [references[0].text, "present", undefined],
                [references[1].text, "missing", undefined],
                [references[2].text, "error", `cannot reach registry 127.0.0.1:${port}: connection refused`],
                [references[3].text, "missing", undefined],
            ],
        );
        assert.deepEqual(progress, ["1/4", "2/4", "3/4", "4/4"]);
    });
});

describe("registry client with bearer-token auth", () => {
    const account = { username: "ci-bot", password: "pull-only-secret" };
    let registry: TestRegistry;
    let digest: string;
    let dockerConfigDir: string;

    before(async () => {
        registry = await startRegistry({ tokenAuth: account });
        digest = await registry.push(REPO, "v1");
        dockerConfigDir = await mkdtemp(path.join(os.tmpdir(), "released-service-docker-config-"));
    });
    after(async () => {
        await registry?.stop();
        if (dockerConfigDir) {
            await rm(dockerConfigDir, { recursive: true, force: true });
        }
    });

    async function clientWithAuths(auths: Record<string, { auth: string }>): Promise<RegistryClient> {
        const configPath = path.join(dockerConfigDir, "config.json");
        await writeFile(configPath, JSON.stringify({ auths }));
        // A session of its own: tokens are kept per process, and each test here counts the ones it asks for.
        return new RegistryClient({ credentials: await loadCredentialLookup(configPath), session: new RegistrySession() });
    }

    const basicAuth = (username: string, password: string): string => Buffer.from(`${username}:${password}`).toString("base64");

    it("fetches a token with the docker config credentials and shares it between concurrent checks", async () => {
        const client = await clientWithAuths({ [registry.host]: { auth: basicAuth(account.username, account.password) } });
        const before = registry.tokenRequests();
        const reference = parseDigestReference(`${registry.host}/${REPO}@${digest}`);
        const missing = parseDigestReference(`${registry.host}/${REPO}@sha256:${"0".repeat(64)}`);
        const results = await checkReferences(client, [reference, missing, reference], 3);
        assert.deepEqual(
            results.map((result) => result.state),
            ["present", "missing", "present"],
        );
        assert.equal(registry.tokenRequests() - before, 1);
    });

    it("names the account the token service refused", async () => {
        const client = await clientWithAuths({ [`http://${registry.host}`]: { auth: basicAuth(account.username, "wrong") } });
        await assert.rejects(
            client.manifestState(parseDigestReference(`${registry.host}/${REPO}@${digest}`)),
            (error: unknown) =>
                error instanceof RegistryError &&
                error.message.startsWith(`token service 127.0.0.1:`) &&
                error.message.endsWith(` refused a token for repository:${REPO}:pull as ci-bot: HTTP 401`),
        );
    });

    it("says so when the docker config has no credentials for the registry", async () => {
        const client = await clientWithAuths({ "other.example.com": { auth: basicAuth(account.username, account.password) } });
        await assert.rejects(
            client.manifestState(parseDigestReference(`${registry.host}/${REPO}@${digest}`)),
            (error: unknown) => error instanceof RegistryError && / refused a token for .* anonymously \(no credentials in your docker config\): HTTP 401$/.test(error.message),
        );
    });
});

describe("docker config credentials", () => {
    const encoded = (text: string): string => Buffer.from(text).toString("base64");

    it("reads auths under the host, a URL of it, or Docker Hub's historical key", () => {
        const config = {
            auths: {
                "https://index.docker.io/v1/": { auth: encoded("hub-user:hub:pass") },
                "http://127.0.0.1:5000": { auth: encoded("local:pw") },
                "ghcr.io": { username: "gh", password: "token" },
            },
        };
        const table: [string, RegistryCredentials | undefined][] = [
            ["registry-1.docker.io", { username: "hub-user", password: "hub:pass" }],
            ["127.0.0.1:5000", { username: "local", password: "pw" }],
            ["ghcr.io", { username: "gh", password: "token" }],
            ["quay.io", undefined],
        ];
        for (const [registry, expected] of table) {
            assert.deepEqual(credentialsFromAuths(config, registry), expected, registry);
        }
    });

    it("asks a per-registry helper before the default store, with docker's server names", () => {
        const config = { credHelpers: { "123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login" }, credsStore: "desktop" };
        assert.deepEqual(helperFor(config, "123.dkr.ecr.eu-west-1.amazonaws.com"), { helper: "ecr-login", server: "123.dkr.ecr.eu-west-1.amazonaws.com" });
        assert.deepEqual(helperFor(config, "registry-1.docker.io"), { helper: "desktop", server: "https://index.docker.io/v1/" });
        assert.equal(helperFor({}, "ghcr.io"), undefined);
    });

    it("uses the helper's answer, and auths when the helper has nothing", async () => {
        const dir = await mkdtemp(path.join(os.tmpdir(), "released-service-docker-config-"));
        try {
            const configPath = path.join(dir, "config.json");
            await writeFile(configPath, JSON.stringify({ credsStore: "fake", auths: { "ghcr.io": { auth: encoded("file:pw") } } }));
            const asked: string[] = [];
            const lookup = await loadCredentialLookup(configPath, async (helper, server) => {
                asked.push(`${helper} ${server}`);
                return server === "quay.io" ? { username: "helper", password: "secret" } : undefined;
            });
            assert.deepEqual(await lookup("quay.io"), { username: "helper", password: "secret" });
            assert.deepEqual(await lookup("ghcr.io"), { username: "file", password: "pw" });
            assert.deepEqual(asked, ["fake quay.io", "fake ghcr.io"]);
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });

    it("is anonymous when there is no docker config", async () => {
        const lookup = await loadCredentialLookup(path.join(os.tmpdir(), "released-service-no-such-dir", "config.json"));
        assert.equal(await lookup("ghcr.io"), undefined);
    });
});

describe("registry client on a connection the registry closed", () => {
    it("asks again at once, on a new connection, when a kept-alive one is closed under it", async () => {
        const digest = `sha256:${"c".repeat(64)}`;
        const seen: string[] = [];
        const server = http.createServer((request, response) => {
            seen.push(`${request.method} ${request.url}`);
            if (seen.length === 2) {
                // What a registry's idle timeout does to a kept-alive connection: it is simply gone.
                request.socket.destroy();
                return;
            }
            response.writeHead(200, { "Docker-Content-Digest": digest, "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Content-Length": 0 }).end();
        });
        const port = await freePort();
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
        try {
            const clock = new TestClock();
            const client = new RegistryClient({ session: new RegistrySession(clock) });
            const location = { registry: `127.0.0.1:${port}`, repository: "team/app" };
            assert.equal(await client.digestOfTag(location, "v1"), digest);
            assert.equal(await client.digestOfTag(location, "v2"), digest);
            assert.deepEqual(seen, ["HEAD /v2/team/app/manifests/v1", "HEAD /v2/team/app/manifests/v2", "HEAD /v2/team/app/manifests/v2"]);
            assert.deepEqual(clock.waits, [], "a connection closed while idle says nothing of the registry: no backoff");
        } finally {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        }
    });
});

describe("registry protocol details", () => {
    it("parses bearer challenges, including scopes with commas", () => {
        assert.deepEqual(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push"'), {
            scheme: "bearer",
            params: { realm: "https://auth.example.com/token", service: "registry.example.com", scope: "repository:team/app:pull,push" },
        });
        assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: "basic", params: { realm: "Registry Realm" } });
    });

    it("speaks http only to loopback registries", () => {
        const table: [string, string][] = [
            ["localhost:5000", "http://localhost:5000"],
            ["127.0.0.1:41234", "http://127.0.0.1:41234"],
            ["[::1]:5000", "http://[::1]:5000"],
            ["registry.example.com", "https://registry.example.com"],
            ["registry-1.docker.io", "https://registry-1.docker.io"],
        ];
        for (const [registry, expected] of table) {
            assert.equal(registryBaseUrl(registry), expected);
        }
    });

    it("splits references the way docker names them", () => {
        const digest = `sha256:${"a".repeat(64)}`;
        const table: [string, string, string][] = [
            [`localhost:5000/payment-api@${digest}`, "localhost:5000", "payment-api"],
            [`nginx@${digest}`, "registry-1.docker.io", "library/nginx"],
            [`docker.io/team/app@${digest}`, "registry-1.docker.io", "team/app"],
            [`team/app:v1@${digest}`, "registry-1.docker.io", "team/app"],
            [`ghcr.io/org/team/app@${digest}`, "ghcr.io", "org/team/app"],
        ];
        for (const [text, registry, repository] of table) {
            assert.deepEqual(parseDigestReference(text), { text, registry, repository, digest });
        }
    });

    it("refuses what is not a digest reference, naming it", () => {
        assert.throws(() => parseDigestReference("payment-api:v1"), { message: "`payment-api:v1` is not a digest reference: expected <repository>@sha256:<64 hex>" });
        assert.throws(() => parseDigestReference("payment-api@sha256:abc"), {
            message: "`payment-api@sha256:abc` has an invalid digest: expected sha256: followed by 64 lower-case hex digits",
        });
    });
});

describe("registry client under load", () => {
    it(`keeps at most ${MAX_REQUESTS_PER_REGISTRY} requests in flight to one registry, and answers them all`, async () => {
        let inFlight = 0;
        let most = 0;
        const server = http.createServer((_request, response) => {
            inFlight++;
            most = Math.max(most, inFlight);
            setTimeout(() => {
                inFlight--;
                response.writeHead(404).end();
            }, 20);
        });
        const port = await freePort();
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
        try {
            const client = new RegistryClient();
            const location = { registry: `127.0.0.1:${port}`, repository: "svc" };
            const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => client.digestOfTag(location, `v${i}`)));
            assert.deepEqual(answers, answers.map(() => undefined));
            assert.equal(most, MAX_REQUESTS_PER_REGISTRY);
        } finally {
            server.close();
        }
    });
});

describe("registry client transport", () => {
    async function serve(handler: http.RequestListener): Promise<{ server: http.Server; host: string; connections: () => number; close: () => Promise<void> }> {
        const server = http.createServer(handler);
        let connections = 0;
        server.on("connection", () => connections++);
        const port = await freePort();
        await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
        return {
            server,
            host: `127.0.0.1:${port}`,
            connections: () => connections,
            close: async () => {
                server.closeAllConnections();
                await new Promise((resolve) => server.close(resolve));
            },
        };
    }

    it("says how long it waited for a registry that does not answer, and how often", async () => {
        const silent = await serve(() => undefined);
        try {
            const client = new RegistryClient({ timeoutMs: 300, session: new RegistrySession(new TestClock()) });
            await assert.rejects(client.digestOfTag({ registry: silent.host, repository: "team/app" }, "v1"), (error: unknown) => {
                assert.ok(error instanceof RegistryError && error.unreachable);
                assert.equal(error.message, `cannot reach registry ${silent.host}: no answer within 0.3 s (5 tries over 15.0 s)`);
                return true;
            });
        } finally {
            await silent.close();
        }
    });

    it("asks again for a body the registry stopped sending, then says how long it waited", async () => {
        let asked = 0;
        const stalled = await serve((_request, response) => {
            asked++;
            response.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Content-Length": 1000 });
            response.write("{");
        });
        try {
            const client = new RegistryClient({ timeoutMs: 300, labelsCache: false, session: new RegistrySession(new TestClock()) });
            await assert.rejects(client.imageAt({ registry: stalled.host, repository: "team/app" }, "v1"), {
                message: `cannot reach registry ${stalled.host}: no answer within 0.3 s (5 tries over 15.0 s)`,
            });
            assert.equal(asked, MAX_TRIES);
        } finally {
            await stalled.close();
        }
    });

    it("does not count against the registry the time this process was busy elsewhere", async () => {
        const digest = `sha256:${"d".repeat(64)}`;
        const registry = await serve((_request, response) => response.writeHead(200, { "Docker-Content-Digest": digest, "Content-Length": 0 }).end());
        try {
            const client = new RegistryClient({ timeoutMs: 300 });
            const asked = client.digestOfTag({ registry: registry.host, repository: "team/app" }, "v1");
            // A program declaring many services holds the event loop: the request waits, unsent.
            const until = Date.now() + 1_500;
            while (Date.now() < until) {
                // busy
            }
            assert.equal(await asked, digest);
        } finally {
            await registry.close();
        }
    });

    it("follows a blob's redirect to another host without the registry's credentials", async () => {
        const config = Buffer.from(JSON.stringify({ config: { Labels: { "org.opencontainers.image.version": "v1" } } }));
        const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
        const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: configDigest } }));
        const cdnSaw: (string | undefined)[] = [];
        const cdn = await serve((request, response) => {
            cdnSaw.push(request.headers.authorization);
            response.writeHead(200).end(config);
        });
        const expected = `Basic ${Buffer.from("ci-bot:secret").toString("base64")}`;
        const registry = await serve((request, response) => {
            if (request.headers.authorization !== expected) {
                response.writeHead(401, { "WWW-Authenticate": 'Basic realm="registry"' }).end();
            } else if (request.url?.includes("/blobs/")) {
                response.writeHead(307, { Location: `http://${cdn.host}/blob?signed=1` }).end();
            } else {
                response.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json" }).end(manifest);
            }
        });
        try {
            const client = new RegistryClient({ credentials: async () => ({ username: "ci-bot", password: "secret" }), labelsCache: false });
            const image = await client.imageAt({ registry: registry.host, repository: "team/app" }, "v1");
            assert.deepEqual(image?.labels, { "org.opencontainers.image.version": "v1" });
            assert.deepEqual(cdnSaw, [undefined]);
        } finally {
            await Promise.all([cdn.close(), registry.close()]);
        }
    });

    it("asks a hundred questions of one registry over kept-alive connections", async () => {
        // As registries do: a length with every answer, so a connection outlives it.
        const registry = await serve((_request, response) => response.writeHead(404, { "Content-Length": 0 }).end());
        try {
            const client = new RegistryClient();
            const location = { registry: registry.host, repository: "svc" };
            for (let round = 0; round < 2; round++) {
                await Promise.all(Array.from({ length: 50 }, (_, i) => client.digestOfTag(location, `v${round}-${i}`)));
            }
            assert.ok(registry.connections() <= MAX_REQUESTS_PER_REGISTRY, `${registry.connections()} connections`);
        } finally {
            await registry.close();
        }
    });
});
