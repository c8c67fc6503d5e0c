// app/'s base image for scenarios that build it: BuildKit's mirror for Docker Hub (which cannot be
// reached here) is the quickstart's registry, localhost:5000, and this pushes the image there.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";

import { QUICKSTART_REGISTRY } from "./environment";

const sha256 = (data: Buffer): string => `sha256:${createHash("sha256").update(data).digest("hex")}`;

/**
 * app/'s base image, node:20-alpine, as the registry mirror BuildKit uses for Docker Hub serves it:
 * one real layer (an /etc/passwd naming the `node` user), so BuildKit unpacks it and builds on it.
 * No container runs here (kwok reports pods running), so the layer needs no Node.js.
 */
export async function pushBaseImage(scratch: string): Promise<void> {
    const root = path.join(scratch, "base-image");
    fs.mkdirSync(path.join(root, "etc"), { recursive: true });
    fs.writeFileSync(path.join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n");
    const tar = execFileSync("tar", ["-C", root, "--owner=0", "--group=0", "--mtime=@0", "-cf", "-", "etc"]);
    const layer = gzipSync(tar);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Env: ["PATH=/usr/local/bin:/usr/bin:/bin"] }, rootfs: { type: "layers", diff_ids: [sha256(tar)] } }));
    const base = `http://${QUICKSTART_REGISTRY}/v2/library/node`;
    for (const blob of [layer, config]) {
        const started = await fetch(`${base}/blobs/uploads/`, { method: "POST" });
        assert.equal(started.status, 202, "blob upload started");
        const location = new URL(started.headers.get("location") ?? "", base);
        location.searchParams.set("digest", sha256(blob));
        const finished = await fetch(location, { method: "PUT", body: blob, headers: { "Content-Type": "application/octet-stream" } });
        assert.equal(finished.status, 201, "blob uploaded");
    }
    const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        config: { mediaType: "application/vnd.docker.container.image.v1+json", size: config.length, digest: sha256(config) },
        layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: sha256(layer) }],
    });
    const put = await fetch(`${base}/manifests/20-alpine`, { method: "PUT", body: manifest, headers: { "Content-Type": "application/vnd.docker.distribution.manifest.v2+json" } });
    assert.equal(put.status, 201, "base image manifest pushed");
}
