// Image labels kept across processes: read from the registry once per machine, kept only when every
// document read was the one its digest names, and never an error when the cache cannot be used.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { defaultLabelsCache, RegistryClient } from "../../components/registry/client";
import { locateRepository } from "../../components/registry/reference";
import { scratchDir } from "../support/scratch";

const sha256 = (bytes: Buffer): string => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const LABELS = { "io.released-service.source.digest": `sha256:${"5".repeat(64)}`, "org.opencontainers.image.version": "v2.0.0" };

/** A registry holding one image under the tag `v2.0.0`, counting the requests it answers. */
async function registry(options: { lyingDigest?: boolean; corruptBlob?: boolean } = {}) {
    const config = Buffer.from(JSON.stringify({ config: { Labels: LABELS } }));
    const manifest = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: { digest: sha256(config), size: config.length }, layers: [] }),
    );
    const digest = options.lyingDigest === true ? `sha256:${"0".repeat(64)}` : sha256(manifest);
    const requests: string[] = [];
    const server = http.createServer((request, response) => {
        requests.push(`${request.method} ${request.url}`);
        if (request.url === "/v2/app/manifests/v2.0.0") {
            response.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": digest }).end(manifest);
        } else if (request.url === `/v2/app/blobs/${sha256(config)}`) {
            response.writeHead(200).end(options.corruptBlob === true ? Buffer.concat([config, Buffer.from(" ")]) : config);
        } else {
            response.writeHead(404).end();
        }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const location = locateRepository(`127.0.0.1:${(server.address() as AddressInfo).port}/app`);
    return { location, digest, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("image labels kept across processes", () => {
    it("are read from the registry once: a later process asks for the tag's manifest alone", async () => {
        const cache = scratchDir("labels-");
        const served = await registry();
        try {
            const first = await new RegistryClient({ labelsCache: cache }).imageAt(served.location, "v2.0.0");
            assert.deepEqual(first, { digest: served.digest, labels: LABELS });
            assert.equal(served.requests.length, 2, "the manifest and its config");
            served.requests.length = 0;
            const again = await new RegistryClient({ labelsCache: cache }).imageAt(served.location, "v2.0.0");
            assert.deepEqual(again, first);
            assert.deepEqual(served.requests, ["GET /v2/app/manifests/v2.0.0"]);
            assert.deepEqual(fs.readdirSync(path.join(cache, "sha256")), [`${served.digest.slice("sha256:".length)}.json`]);
        } finally {
            await served.close();
        }
    });

    for (const [what, options] of [
        ["a manifest its digest does not name", { lyingDigest: true }],
        ["a config its digest does not name", { corruptBlob: true }],
    ] as const) {
        it(`are not kept from ${what}`, async () => {
            const cache = scratchDir("labels-");
            const served = await registry(options);
            try {
                for (let run = 0; run < 2; run++) {
                    assert.deepEqual((await new RegistryClient({ labelsCache: cache }).imageAt(served.location, "v2.0.0"))?.labels, LABELS);
                }
                assert.equal(served.requests.filter((r) => r.includes("/blobs/")).length, 2, "the config read by each process");
                assert.equal(fs.existsSync(path.join(cache, "sha256")), false);
            } finally {
                await served.close();
            }
        });
    }

    it("are read again when an entry is malformed, and a cache that cannot be written is no error", async () => {
        const served = await registry();
        try {
            const cache = scratchDir("labels-");
            fs.mkdirSync(path.join(cache, "sha256"));
            fs.writeFileSync(path.join(cache, "sha256", `${served.digest.slice("sha256:".length)}.json`), '{"labels":{"a":1}}');
            assert.deepEqual((await new RegistryClient({ labelsCache: cache }).imageAt(served.location, "v2.0.0"))?.labels, LABELS);
            const blocked = path.join(scratchDir("labels-"), "a-file");
            fs.writeFileSync(blocked, "");
            assert.deepEqual((await new RegistryClient({ labelsCache: blocked }).imageAt(served.location, "v2.0.0"))?.labels, LABELS);
            assert.deepEqual((await new RegistryClient({ labelsCache: false }).imageAt(served.location, "v2.0.0"))?.labels, LABELS);
            assert.equal(served.requests.filter((r) => r.includes("/blobs/")).length, 3);
        } finally {
            await served.close();
        }
    });

    it("live in the XDG cache directory, else in ~/.cache", () => {
        assert.equal(defaultLabelsCache({ XDG_CACHE_HOME: "/var/cache/me" }), "/var/cache/me/released-service/labels");
        assert.equal(defaultLabelsCache({ XDG_CACHE_HOME: "" }), path.join(os.homedir(), ".cache", "released-service", "labels"));
        assert.equal(defaultLabelsCache({}), path.join(os.homedir(), ".cache", "released-service", "labels"));
    });
});
