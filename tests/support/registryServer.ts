// Test fixture: a real registry (CNCF distribution: Debian's `docker-registry` when installed, else
// a `registry:2` container when a Docker daemon answers) on 127.0.0.1, images pushed through its
// HTTP API, and optionally the bearer-token auth registries use.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const REGISTRY_BINARY = "docker-registry";

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

export interface TokenAuth {
    /** The only account the token service accepts (Basic auth, as docker sends it). */
    readonly username: string;
    readonly password: string;
}

export interface TestRegistry {
    /** `127.0.0.1:<port>`: the host part of references into this registry. */
    readonly host: string;
    /** Its storage directory (distribution's filesystem driver). */
    readonly storage: string;
    /** How many token requests the token service answered (0 without token auth). */
    tokenRequests(): number;
    /** Pushes a one-layer image under `tag` and returns its manifest digest. */
    push(repository: string, tag: string): Promise<string>;
    /** Pushes an OCI image index (a multi-platform image) over manifests pushed before, and returns its digest. */
    pushIndex(repository: string, tag: string, manifests: readonly string[]): Promise<string>;
    /** Deletes a manifest by digest, as a registry garbage-collection policy would. */
    deleteManifest(repository: string, digest: string): Promise<void>;
    stop(): Promise<void>;
}

function sha256(data: Buffer | string): string {
    return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The registry:2 image a user with Docker runs the same registry from. */
export const REGISTRY_IMAGE = "registry:2";

export type RegistryRunner = "binary" | "container";

/**
 * How this machine runs a registry: Debian's binary when installed, else a `registry:2` container
 * when a Docker daemon answers. Fails loudly naming both otherwise: a skip would hide a broken gate.
 */
export function registryRunner(): RegistryRunner {
    const binary = spawnSync(REGISTRY_BINARY, ["--version"], { encoding: "utf8" });
    if (!binary.error && binary.status === 0) {
        return "binary";
    }
    const daemon = spawnSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" });
    if (!daemon.error && daemon.status === 0) {
        return "container";
    }
    throw new Error(
        `the registry tests need a registry to run: install \`${REGISTRY_BINARY}\` (apt-get install docker-registry, as .ci/run does), ` +
            `or start Docker so that they can run a ${REGISTRY_IMAGE} container (docker version: ${(daemon.stderr ?? daemon.error?.message ?? "").trim() || "no answer"})`,
    );
}

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

// --- A token service: distribution verifies RS256 tokens whose x5c certificate is in its root bundle.

function derLength(length: number): Buffer {
    if (length < 0x80) {
        return Buffer.from([length]);
    }
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest >>= 8) {
        bytes.unshift(rest & 0xff);
    }
    return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...content: Buffer[]): Buffer {
    const body = Buffer.concat(content);
    return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const SEQUENCE = 0x30;
const SHA256_WITH_RSA = der(SEQUENCE, Buffer.from("06092a864886f70d01010b0500", "hex"));

function utcTime(date: Date): Buffer {
    const text = date.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
    return der(0x17, Buffer.from(text, "ascii"));
}

/**
 * A minimal self-signed X.509 v1 certificate: all Go's verifier needs to trust the token's key, and
 * all Node's needs to trust a server named `commonName` (with no alternative names, the name it checks).
 */
export function selfSignedCertificate(publicKey: KeyObject, privateKey: KeyObject, commonName = "released-service test token issuer"): Buffer {
    const name = der(SEQUENCE, der(0x31, der(SEQUENCE, Buffer.from("0603550403", "hex"), der(0x0c, Buffer.from(commonName)))));
    const now = Date.now();
    const tbs = der(
        SEQUENCE,
        der(0x02, Buffer.from([0x01, 0x23, 0x45])),
        SHA256_WITH_RSA,
        name,
        der(SEQUENCE, utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + 86_400_000))),
        name,
        publicKey.export({ type: "spki", format: "der" }),
    );
    const signature = sign("sha256", tbs, privateKey);
    const certificate = der(SEQUENCE, tbs, SHA256_WITH_RSA, der(0x03, Buffer.from([0]), signature));
    if (!new X509Certificate(certificate).verify(publicKey)) {
        throw new Error("test fixture built a certificate that does not verify");
    }
    return certificate;
}

function base64url(data: Buffer | string): string {
    return Buffer.from(data).toString("base64url");
}

interface TokenService {
    readonly realm: string;
    readonly certificatePem: string;
    requests(): number;
    close(): Promise<void>;
}

async function startTokenService(auth: TokenAuth, service: string, issuer: string): Promise<TokenService> {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const certificate = selfSignedCertificate(publicKey, privateKey);
    const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
    let requests = 0;
    const server = http.createServer((request, response) => {
        requests++;
        const url = new URL(request.url ?? "/", "http://token");
        if (request.headers.authorization !== expected) {
            response.writeHead(401).end();
            return;
        }
        // Grants what was asked (`repository:<name>:<actions>`), which is what a permissive token service does.
        const access = url.searchParams.getAll("scope").map((scope) => {
            const [type, ...rest] = scope.split(":");
            const actions = rest.pop() ?? "";
            return { type, name: rest.join(":"), actions: actions.split(",") };
        });
        const now = Math.floor(Date.now() / 1000);
        const header = { typ: "JWT", alg: "RS256", x5c: [certificate.toString("base64")] };
        const claims = { iss: issuer, sub: auth.username, aud: service, exp: now + 300, nbf: now - 60, iat: now, jti: randomBytes(8).toString("hex"), access };
        const signed = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
        const token = `${signed}.${base64url(sign("sha256", Buffer.from(signed), privateKey))}`;
        response.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    const pem = `-----BEGIN CERTIFICATE-----\n${certificate.toString("base64").replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE-----\n`;
    return {
        realm: `http://127.0.0.1:${port}/token`,
        certificatePem: pem,
        requests: () => requests,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
}

// --- The registry process.

/** Resolves once the registry logs that it listens; rejects with its output if it exits first. */
function waitUntilListening(child: ChildProcess, address: string): Promise<void> {
    return new Promise((resolve, reject) => {
        let output = "";
        const onData = (chunk: Buffer): void => {
            output += chunk.toString();
            if (output.includes(`listening on ${address}`)) {
                child.stderr?.off("data", onData);
                child.stdout?.off("data", onData);
                child.off("exit", onExit);
                resolve();
            }
        };
        const onExit = (code: number | null): void => reject(new Error(`docker-registry exited (${code}) before listening:\n${output}`));
        child.stderr?.on("data", onData);
        child.stdout?.on("data", onData);
        child.once("exit", onExit);
    });
}

interface RegistryProcess {
    stop(): Promise<void>;
}

async function serveBinary(dir: string, address: string): Promise<RegistryProcess | Error> {
    const child = spawn(REGISTRY_BINARY, ["serve", path.join(dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    try {
        await waitUntilListening(child, address);
    } catch (error) {
        return error as Error;
    }
    // Keep draining its log so a chatty registry never blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
    return {
        async stop() {
            if (child.exitCode === null) {
                const exited = new Promise((resolve) => child.once("exit", resolve));
                child.kill("SIGTERM");
                await exited;
            }
        },
    };
}

/**
 * The same registry as a `registry:2` container on the host's network, every file it reads
 * mounted at the path the config names, so the config is the binary's, unchanged.
 */
async function serveContainer(
    dir: string,
    address: string,
    storage: string,
    tls: RegistryOptions["tls"],
): Promise<RegistryProcess | Error> {
    await mkdir(storage, { recursive: true });
    const name = `released-service-test-registry-${address.split(":")[1]}`;
    const mounts = [dir, storage, ...(tls ? [path.dirname(tls.certificate), path.dirname(tls.key)] : [])];
    const args = ["run", "-d", "--rm", "--network", "host", "--name", name, ...[...new Set(mounts)].flatMap((m) => ["-v", `${m}:${m}`]), REGISTRY_IMAGE, "serve", path.join(dir, "config.yml")];
    const started = spawnSync("docker", args, { encoding: "utf8" });
    if (started.status !== 0) {
        return new Error(`docker ${args.join(" ")} failed: ${started.stderr || started.error?.message}`);
    }
    const stop = async (): Promise<void> => {
        spawnSync("docker", ["rm", "-f", name], { encoding: "utf8" });
    };
    const deadline = Date.now() + 30_000;
    for (;;) {
        if (await listening(address)) {
            return { stop };
        }
        if (Date.now() > deadline) {
            const logs = spawnSync("docker", ["logs", name], { encoding: "utf8" });
            await stop();
            return new Error(`the ${REGISTRY_IMAGE} container ${name} did not listen on ${address} within 30 s:\n${logs.stdout}${logs.stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

function listening(address: string): Promise<boolean> {
    const [host, port] = address.split(":");
    return new Promise((resolve) => {
        const socket = net.connect(Number(port), host, () => {
            socket.end();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

export interface RegistryOptions {
    readonly tokenAuth?: TokenAuth;
    /** Serve HTTPS under this name (which must resolve to 127.0.0.1) with this certificate. */
    readonly tls?: { readonly hostname: string; readonly certificate: string; readonly key: string };
    /** Share another registry's storage directory: what one serves, the other serves too. */
    readonly storage?: string;
    /** Listen on this port of 127.0.0.1 (the quickstart's 5000); a free one otherwise. */
    readonly port?: number;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
    const runner = registryRunner();
    const dir = await mkdtemp(path.join(os.tmpdir(), "released-service-registry-"));
    const port = options.port ?? (await freePort());
    const address = `127.0.0.1:${port}`;
    const host = options.tls ? `${options.tls.hostname}:${port}` : address;
    const storage = options.storage ?? path.join(dir, "data");
    const service = "released-service-test-registry";
    const issuer = "released-service-test-issuer";
    const tokens = options.tokenAuth ? await startTokenService(options.tokenAuth, service, issuer) : undefined;
    let authConfig = "";
    if (tokens) {
        await writeFile(path.join(dir, "root.pem"), tokens.certificatePem);
        authConfig = [
            "auth:",
            "  token:",
            `    realm: ${tokens.realm}`,
            `    service: ${service}`,
            `    issuer: ${issuer}`,
            `    rootcertbundle: ${path.join(dir, "root.pem")}`,
        ].join("\n");
    }
    const config = [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: true",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${storage}`,
        "  delete:",
        "    enabled: true",
        "http:",
        `  addr: ${address}`,
        ...(options.tls ? ["  tls:", `    certificate: ${options.tls.certificate}`, `    key: ${options.tls.key}`] : []),
        authConfig,
        "",
    ].join("\n");
    await writeFile(path.join(dir, "config.yml"), config);

    const server = runner === "binary" ? await serveBinary(dir, address) : await serveContainer(dir, address, storage, options.tls);
    if (server instanceof Error) {
        await tokens?.close();
        await rm(dir, { recursive: true, force: true });
        throw server;
    }

    const base = `${options.tls ? "https" : "http"}://${host}/v2`;
    const authorizations = new Map<string, string>();
    /** Registry API calls the fixture makes, authenticated the way any client would be. */
    const call = async (repository: string, url: string, init: RequestInit): Promise<Response> => {
        const headers = new Headers(init.headers);
        const cached = authorizations.get(repository);
        if (cached) {
            headers.set("Authorization", cached);
        }
        let response = await fetch(url, { ...init, headers });
        if (response.status === 401 && options.tokenAuth && tokens) {
            const scope = `repository:${repository}:pull,push,delete`;
            const basic = `Basic ${Buffer.from(`${options.tokenAuth.username}:${options.tokenAuth.password}`).toString("base64")}`;
            const tokenResponse = await fetch(`${tokens.realm}?service=${service}&scope=${encodeURIComponent(scope)}`, { headers: { Authorization: basic } });
            const { token } = (await tokenResponse.json()) as { token: string };
            authorizations.set(repository, `Bearer ${token}`);
            headers.set("Authorization", `Bearer ${token}`);
            response = await fetch(url, { ...init, headers });
        }
        return response;
    };
    const expectStatus = async (response: Response, status: number, what: string): Promise<Response> => {
        if (response.status !== status) {
            throw new Error(`${what}: expected HTTP ${status}, got ${response.status}: ${await response.text()}`);
        }
        return response;
    };
    const uploadBlob = async (repository: string, blob: Buffer): Promise<string> => {
        const digest = sha256(blob);
        const started = await expectStatus(await call(repository, `${base}/${repository}/blobs/uploads/`, { method: "POST" }), 202, "start blob upload");
        const location = new URL(started.headers.get("location") ?? "", base);
        location.searchParams.set("digest", digest);
        await expectStatus(
            await call(repository, location.toString(), { method: "PUT", body: blob, headers: { "Content-Type": "application/octet-stream" } }),
            201,
            "finish blob upload",
        );
        return digest;
    };

    const sizes = new Map<string, number>();
    const putManifest = async (repository: string, tag: string, mediaType: string, manifest: Buffer): Promise<string> => {
        const response = await expectStatus(
            await call(repository, `${base}/${repository}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { "Content-Type": mediaType } }),
            201,
            "put manifest",
        );
        const digest = sha256(manifest);
        if (response.headers.get("docker-content-digest") !== digest) {
            throw new Error(`registry reported digest ${response.headers.get("docker-content-digest")}, expected ${digest}`);
        }
        sizes.set(digest, manifest.length);
        return digest;
    };

    return {
        host,
        storage,
        tokenRequests: () => tokens?.requests() ?? 0,
        async push(repository, tag) {
            // A unique layer gives every push its own digest, as a real build of new source would.
            const layer = randomBytes(64);
            const imageConfig = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [sha256(layer)] } }));
            const manifest = Buffer.from(
                JSON.stringify({
                    schemaVersion: 2,
                    mediaType: DOCKER_MANIFEST,
                    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: imageConfig.length, digest: await uploadBlob(repository, imageConfig) },
                    layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: await uploadBlob(repository, layer) }],
                }),
            );
            return putManifest(repository, tag, DOCKER_MANIFEST, manifest);
        },
        async pushIndex(repository, tag, manifests) {
            const index = Buffer.from(
                JSON.stringify({
                    schemaVersion: 2,
                    mediaType: OCI_INDEX,
                    manifests: manifests.map((digest) => ({ mediaType: DOCKER_MANIFEST, digest, size: sizes.get(digest), platform: { architecture: "amd64", os: "linux" } })),
                }),
            );
            return putManifest(repository, tag, OCI_INDEX, index);
        },
        async deleteManifest(repository, digest) {
            await expectStatus(await call(repository, `${base}/${repository}/manifests/${digest}`, { method: "DELETE" }), 202, "delete manifest");
        },
        async stop() {
            await server.stop();
            await tokens?.close();
            await rm(dir, { recursive: true, force: true });
        },
    };
}
