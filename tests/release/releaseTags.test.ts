// What the registry holds decides the build: a released version tag never moves, an unchanged or
// earlier source is never rebuilt, and a registry that cannot answer is an error, not "no tag".
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import { RegistrySession, shareSession } from "../../components/registry/client";
import { TestClock } from "../support/faultyRegistry";
import { sourceFixture } from "../support/fixtures";
import { DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runProgram, Update } from "../support/helpers";
import { freePort } from "../support/registryServer";
import { sourceDigest } from "../../components/release/sourceDigest";

const IMAGE = `${REGISTRY_HOST}/payment-api`;
const DEPLOYMENT = `${DEPLOYMENT_TYPE}::app`;
const IMAGE_KEY = `${IMAGE_TYPE}::app-image`;

function running(update: Update): string {
    const deployments = ofType(update, DEPLOYMENT_TYPE);
    assert.equal(deployments.length, 1, "exactly one Deployment");
    return deployments[0].inputs.spec.template.spec.containers[0].image;
}

describe("release tags", () => {
    describe("a changed source under a released version", () => {
        // A checkout without git history: the VERSION file is all that names the source.
        const source = sourceFixture("v1.0.0");
        fs.rmSync(path.join(source.context, "..", ".git"), { recursive: true, force: true });
        const cloud = new MockCloud();
        const config = { image: IMAGE, version: "v1.0.0", context: source.context };
        let released: string;
        let changedDigest: string;

        before(async () => {
            const first = await runProgram(cloud, config);
            assert.deepEqual(first.errors, []);
            released = cloud.registry.get(`${IMAGE}:v1.0.0`)!;
            // An edit of the service without a new VERSION, not yet committed.
            fs.appendFileSync(path.join(source.context, "Dockerfile"), "LABEL edited=true\n");
            changedDigest = sourceDigest(source.context);
        });

        const refusal = (): string =>
            `version v1.0.0 is already released as ${IMAGE}:v1.0.0 = ${released}, built from other source ` +
            `(${sourceDigestBefore()}; this source is ${changedDigest}). ` +
            "A released version never moves: bump the version (VERSION in the build context), or delete VERSION to let the " +
            "commit SHA be the version. Nothing was built or pushed.";
        const sourceDigestBefore = (): string => JSON.parse(cloud.images.get(released)!.config.toString()).config.Labels["io.released-service.source.digest"];

        it("is refused in the preview, naming the version, its digest and what to do", async () => {
            const update = await runProgram(cloud, config, { preview: true });
            assert.equal(update.errors.length, 1);
            assert.ok(update.errors[0].endsWith(refusal()), update.errors[0]);
            assert.equal(update.operations.has(IMAGE_KEY), false, "no build registered");
            assert.equal(update.operations.has(DEPLOYMENT), false, "the Deployment was never sent to the engine");
        });

        it("is refused in the update, before anything is pushed: the tag keeps its digest", async () => {
            const update = await runProgram(cloud, config);
            assert.equal(update.errors.length, 1);
            assert.ok(update.errors[0].endsWith(refusal()), update.errors[0]);
            assert.equal(update.builds, 0);
            assert.equal(update.pushes, 0);
            assert.equal(cloud.registry.get(`${IMAGE}:v1.0.0`), released);
        });

        it("builds once the version is bumped, and v1.0.0 still holds its first digest", async () => {
            const update = await runProgram(cloud, { ...config, version: "v1.0.1", sourceVersion: "v1.0.1" });
            assert.deepEqual(update.errors, []);
            assert.equal(update.builds, 1);
            assert.equal(cloud.registry.get(`${IMAGE}:v1.0.0`), released);
            assert.equal(running(update), `${IMAGE}@${cloud.registry.get(`${IMAGE}:v1.0.1`)}`);
        });
    });

    describe("an earlier source checked out again", () => {
        const cloud = new MockCloud();

        it("runs its first digest and builds nothing", async () => {
            const v1 = sourceFixture("v1.0.0");
            const v2 = sourceFixture("v2.0.0");
            assert.deepEqual((await runProgram(cloud, { image: IMAGE, version: "v1.0.0", context: v1.context })).errors, []);
            const first = cloud.registry.get(`${IMAGE}:v1.0.0`)!;
            assert.deepEqual((await runProgram(cloud, { image: IMAGE, version: "v2.0.0", context: v2.context })).errors, []);

            const back = await runProgram(cloud, { image: IMAGE, version: "v1.0.0", context: v1.context });
            assert.deepEqual(back.errors, []);
            assert.equal(back.builds, 0);
            assert.equal(back.pushes, 0);
            assert.equal(running(back), `${IMAGE}@${first}`);
            assert.equal(back.outputs.built, false);
            assert.equal(cloud.registry.get(`${IMAGE}:v1.0.0`), first);
        });
    });

    describe("a rollback while the source moved on to a version not yet released", () => {
        it("pushes the new source's version, runs the earlier digest and says built: false", async () => {
            const v1 = sourceFixture("v1.0.0");
            const cloud = new MockCloud();
            assert.deepEqual((await runProgram(cloud, { image: IMAGE, version: "v1.0.0", context: v1.context })).errors, []);
            const first = cloud.registry.get(`${IMAGE}:v1.0.0`)!;
            const v2 = sourceFixture("v2.0.0");
            const update = await runProgram(cloud, { image: IMAGE, version: "v1.0.0", context: v2.context });
            assert.deepEqual(update.errors, []);
            assert.equal(update.builds, 1, "the build of the current source is declared, so it runs");
            assert.match(String(cloud.registry.get(`${IMAGE}:v2.0.0`)), /^sha256:/);
            assert.equal(running(update), `${IMAGE}@${first}`);
            assert.equal(update.outputs.built, false, "the image that runs was not built by this update");
        });
    });

    describe("a second stack building a version another stack released", () => {
        it("runs the released digest and declares no build of its own", async () => {
            const source = sourceFixture("v3.0.0");
            const cloud = new MockCloud();
            const config = { image: IMAGE, version: "v3.0.0", context: source.context };
            assert.deepEqual((await runProgram(cloud, config, { stack: "dev" })).errors, []);
            const released = cloud.registry.get(`${IMAGE}:v3.0.0`)!;

            const staging = await runProgram(cloud, config, { stack: "staging" });
            assert.deepEqual(staging.errors, []);
            assert.equal(ofType(staging, IMAGE_TYPE).length, 0, "a rebuild would push a new digest under v3.0.0");
            assert.equal(staging.builds, 0);
            assert.equal(running(staging), `${IMAGE}@${released}`);
            assert.equal(cloud.registry.get(`${IMAGE}:v3.0.0`), released);
        });
    });

    describe("a preview of a new source version", () => {
        it("shows the digest as computed, never an empty one", async () => {
            const v1 = sourceFixture("v1.0.0");
            const cloud = new MockCloud();
            assert.deepEqual((await runProgram(cloud, { image: IMAGE, version: "v1.0.0", context: v1.context })).errors, []);
            const v2 = sourceFixture("v2.0.0");
            const preview = await runProgram(cloud, { image: IMAGE, version: "v2.0.0", context: v2.context }, { preview: true });
            assert.deepEqual(preview.errors, []);
            // docker-build answered this preview update with digest "": it must read as unknown.
            assert.equal(preview.operations.get(IMAGE_KEY), "update");
            assert.ok(pulumi.isUnknown(running(preview)), `the Deployment's image is computed, not ${running(preview)}`);
            assert.equal("imageDigest" in preview.outputs, false, "imageDigest is computed, not sha256: with nothing after it");
            assert.equal("imageRef" in preview.outputs, false);
            assert.equal(preview.outputs.built, true);
        });
    });

    describe("a registry that cannot answer", () => {
        // Its faults are asked again after waits that take no time here: a session of its own, on a test clock.
        let before: RegistrySession;
        beforeEach(() => {
            before = shareSession(new RegistrySession(new TestClock()));
        });
        afterEach(() => {
            shareSession(before);
        });

        it("fails a look-up by version with what happened, not 'not found'", async () => {
            const cloud = new MockCloud();
            cloud.failWith = 500;
            const update = await runProgram(cloud, { image: IMAGE, version: "v1.0.0", build: "false" }, { preview: true });
            assert.equal(update.errors.length, 1);
            assert.ok(
                update.errors[0].endsWith(`cannot look up ${IMAGE}:v1.0.0: registry ${REGISTRY_HOST} answered HTTP 500 for payment-api:v1.0.0 (5 tries over 15.0 s). Nothing was changed.`),
                update.errors[0],
            );
            assert.equal(update.operations.has(DEPLOYMENT), false);
        });

        it("fails a pin's tag check rather than skipping it", async () => {
            const cloud = new MockCloud();
            cloud.failWith = 503;
            const digest = `sha256:${"a".repeat(64)}`;
            const update = await runProgram(cloud, { image: IMAGE, version: "v1.0.0", digest, build: "false" });
            assert.equal(update.errors.length, 1);
            assert.match(update.errors[0], /cannot look up .*:v1\.0\.0: registry .* answered HTTP 503/);
        });

        it("fails a build's tag check before anything is built", async () => {
            const source = sourceFixture("v1.0.0");
            const cloud = new MockCloud();
            cloud.failWith = 500;
            const update = await runProgram(cloud, { image: IMAGE, version: "v1.0.0", context: source.context });
            assert.equal(update.builds, 0);
            // The stack's own tag is asked first; the release tags only when it is not this source. The
            // first refusal fails the release, once.
            assert.equal(update.errors.length, 1, update.errors.join("\n"));
            assert.match(update.errors[0], /cannot look up 127\.0\.0\.1:\d+\/payment-api:(stack\.dev\.app|v1\.0\.0|[0-9a-f]{7}): registry 127\.0\.0\.1:\d+ answered HTTP 500 for payment-api:\1 \(5 tries over 15\.0 s\)\. Nothing was built or pushed\.$/);
        });

        it("names a registry that does not answer once, with how to start it, however many tags were to be looked up", async () => {
            const source = sourceFixture("v1.0.0");
            const port = await freePort();
            const image = `127.0.0.1:${port}/payment-api`;
            for (const preview of [true, false]) {
                const update = await runProgram(new MockCloud(), { image, version: "v1.0.0", context: source.context }, { preview });
                assert.deepEqual(update.errors, [
                    `cannot reach registry 127.0.0.1:${port}: connection refused (is it running? npm run up starts one, or: ` +
                        `docker run -d -p ${port}:5000 --restart=always --name released-service-registry registry:2). Nothing was built, pushed or changed.`,
                ]);
                assert.equal(update.builds, 0);
            }
        });

        it("refuses a registry that wants credentials none were given for", async () => {
            const cloud = new MockCloud();
            cloud.credentials = { username: "ci", password: "secret" };
            const update = await runProgram(cloud, { image: IMAGE, version: "v1.0.0", build: "false" }, { preview: true });
            assert.equal(update.errors.length, 1);
            assert.match(update.errors[0], new RegExp(`registry ${REGISTRY_HOST.replace(/\./g, "\\.")} needs credentials and none are configured for it`));
        });
    });

    describe("a build context that does not exist", () => {
        it("is named as such, not as an unknown sourceVersion", async () => {
            const update = await runProgram(new MockCloud(), { image: IMAGE, version: "v1.0.0", context: "app2" });
            assert.deepEqual(update.resources.filter((r) => r.custom), []);
            assert.deepEqual(update.errors, [
                "`context` app2 does not exist or is not a directory: it must hold the Dockerfile to build, " +
                    "or set `build` to false to run only images already pushed",
            ]);
        });
    });
});
