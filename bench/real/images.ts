// The releases the real-engine benchmark runs: for every repository a v1 and a v2 image, each
// `FROM scratch` with Debian's static busybox serving one page, pushed once through the registry's
// HTTP API (no build: the benchmark measures updates that pin, not builds).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";

import { BUSYBOX, HTTP_PORT } from "../../e2e/support/docker";

const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
/** Pushes in flight at once: enough to hide the proxy's added latency, few enough for two cores. */
const CONCURRENCY = 8;

const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

interface Layer {
    readonly blob: Buffer;
    readonly diffId: string;
}

/** A gzipped tar of `files` (path inside the image -> content and mode), reproducible byte for byte. */
function layer(scratch: string, files: Record<string, { content: Buffer; mode: number }>): Layer {
    const root = fs.mkdtempSync(path.join(scratch, "layer-"));
    for (const [file, { content, mode }] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        fs.writeFileSync(path.join(root, file), content, { mode });
    }
    const tar = execFileSync("tar", ["-C", root, "--owner=0", "--group=0", "--mtime=@0", "--sort=name", "-cf", "-", ...Object.keys(files)], { maxBuffer: 64 << 20 });
    fs.rmSync(root, { recursive: true, force: true });
    return { blob: gzipSync(tar), diffId: sha256(tar) };
}

async function expect(response: Response, status: number, what: string): Promise<Response> {
    if (response.status !== status) {
        throw new Error(`${what}: HTTP ${response.status} (expected ${status}): ${await response.text()}`);
    }
    return response;
}

async function uploadBlob(base: string, repository: string, blob: Buffer): Promise<string> {
    const digest = sha256(blob);
    const started = await expect(await fetch(`${base}/${repository}/blobs/uploads/`, { method: "POST" }), 202, `start a blob upload to ${repository}`);
    const location = new URL(started.headers.get("location") ?? "", base);
    location.searchParams.set("digest", digest);
    await expect(await fetch(location, { method: "PUT", body: blob, headers: { "Content-Type": "application/octet-stream" } }), 201, `upload a blob to ${repository}`);
    return digest;
}

/** The digests of every repository's releases, `{ [repository]: { [tag]: digest } }`. */
export type Releases = Record<string, Record<string, string>>;

/**
 * Pushes `<registry>/<repository>:<tag>` for every repository and tag: a busybox layer shared by a
 * repository's tags, and a page naming the repository and tag, so every image has a digest of its own.
 */
export async function pushReleases(registry: string, scratch: string, repositories: readonly string[], tags: readonly string[]): Promise<Releases> {
    const base = `http://${registry}/v2`;
    const busybox = layer(scratch, { "bin/busybox": { content: fs.readFileSync(BUSYBOX), mode: 0o755 } });
    const releases: Releases = {};
    const pushRepository = async (repository: string): Promise<void> => {
        releases[repository] = {};
        const busyboxDigest = await uploadBlob(base, repository, busybox.blob);
        for (const tag of tags) {
            const page = layer(scratch, { "www/index.html": { content: Buffer.from(`${repository} ${tag}\n`), mode: 0o644 } });
            const config = Buffer.from(
                JSON.stringify({
                    architecture: "amd64",
                    os: "linux",
                    config: { Entrypoint: ["/bin/busybox", "httpd", "-f", "-p", String(HTTP_PORT), "-h", "/www"], ExposedPorts: { [`${HTTP_PORT}/tcp`]: {} } },
                    rootfs: { type: "layers", diff_ids: [busybox.diffId, page.diffId] },
                }),
            );
            const manifest = Buffer.from(
                JSON.stringify({
                    schemaVersion: 2,
                    mediaType: DOCKER_MANIFEST,
                    config: { mediaType: "application/vnd.docker.container.image.v1+json", size: config.length, digest: await uploadBlob(base, repository, config) },
                    layers: [
                        { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: busybox.blob.length, digest: busyboxDigest },
                        { mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: page.blob.length, digest: await uploadBlob(base, repository, page.blob) },
                    ],
                }),
            );
            const put = await expect(
                await fetch(`${base}/${repository}/manifests/${tag}`, { method: "PUT", body: manifest, headers: { "Content-Type": DOCKER_MANIFEST } }),
                201,
                `push ${repository}:${tag}`,
            );
            const digest = sha256(manifest);
            if (put.headers.get("docker-content-digest") !== digest) {
                throw new Error(`${repository}:${tag}: the registry reported digest ${put.headers.get("docker-content-digest")}, expected ${digest}`);
            }
            releases[repository][tag] = digest;
        }
    };
    const queue = [...repositories];
    const worker = async (): Promise<void> => {
        for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
            await pushRepository(next);
        }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return releases;
}
