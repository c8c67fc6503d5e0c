// Rollback, roll forward, pins and promotion across successive updates of the main program:
// each version runs its own first digest, and only the source's own version is ever built.
import * as assert from "node:assert/strict";

import { sourceFixture } from "../support/fixtures";
import { DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runProgram, running, SERVICE_TYPE, Update } from "../support/helpers";

const IMAGE = `${REGISTRY_HOST}/payment-api`;
const DEPLOYMENT = `${DEPLOYMENT_TYPE}::app`;

/** What changed in an update besides resources left alone. */
function changes(update: Update): string[] {
    return [...update.operations].filter(([, op]) => op !== "same").map(([key, op]) => `${op} ${key}`);
}

describe("selecting the running version by stack config", () => {
    const v1 = sourceFixture("v1.0.0");
    const v2 = sourceFixture("v2.0.0");
    const cloud = new MockCloud();
    const config = (version: string, source = v2, more: Record<string, string> = {}) => ({
        image: IMAGE,
        version,
        context: source.context,
        ...more,
    });
    let firstV1: string;
    let firstV2: string;

    it("deploys v1: builds the v1 source once and runs its digest", async () => {
        const update = await runProgram(cloud, config("v1.0.0", v1));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 1);
        firstV1 = cloud.registry.get(`${IMAGE}:v1.0.0`)!;
        assert.equal(running(update), `${IMAGE}@${firstV1}`);
        assert.deepEqual(update.outputs, { imageDigest: firstV1, imageRef: `${IMAGE}@${firstV1}`, version: "v1.0.0", built: true });
    });

    it("deploys v2 from the new source: one build, and v1 stays in the registry", async () => {
        const update = await runProgram(cloud, config("v2.0.0"));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 1);
        firstV2 = cloud.registry.get(`${IMAGE}:v2.0.0`)!;
        assert.notEqual(firstV2, firstV1);
        assert.equal(cloud.registry.get(`${IMAGE}:v1.0.0`), firstV1);
        assert.equal(running(update), `${IMAGE}@${firstV2}`);
        assert.equal(update.outputs.built, true);
    });

    it("previews a rollback to v1: builds nothing, shows v1's digest, changes nothing", async () => {
        const update = await runProgram(cloud, config("v1.0.0"), { preview: true });
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(update.pushes, 0);
        assert.equal(update.outputs.imageDigest, firstV1);
        assert.deepEqual(changes(update), [`update ${DEPLOYMENT}`]);
    });

    it("rolls back to v1: no build, no push, v1's first digest, only the Deployment changes", async () => {
        const update = await runProgram(cloud, config("v1.0.0"));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(update.pushes, 0);
        // The stack's tag (is its last build this source? then the build is unchanged) and the version that runs.
        assert.equal(update.lookups, 2, "registry look-ups: the stack's tag and v1's tag");
        assert.equal(running(update), `${IMAGE}@${firstV1}`);
        assert.deepEqual(changes(update), [`update ${DEPLOYMENT}`]);
        assert.deepEqual(update.deleted, []);
        assert.deepEqual(update.outputs, { imageDigest: firstV1, imageRef: `${IMAGE}@${firstV1}`, version: "v1.0.0", built: false });
        const metadata = ofType(update, DEPLOYMENT_TYPE)[0].inputs.metadata;
        assert.equal(metadata.labels["app.kubernetes.io/version"], "v1.0.0");
        assert.equal(metadata.annotations["kubernetes.io/change-cause"], `released-service: v1.0.0 ${IMAGE}@${firstV1}`);
    });

    it("rolls forward to v2: no rebuild, v2's first digest", async () => {
        const update = await runProgram(cloud, config("v2.0.0"));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(update.pushes, 0);
        assert.equal(running(update), `${IMAGE}@${firstV2}`);
        assert.deepEqual(changes(update), [`update ${DEPLOYMENT}`]);
        assert.equal(update.outputs.built, false);
        assert.equal(update.lookups, 1, "the stack's tag alone: its last build is this source");
    });

    it("updates again with nothing changed: one look-up, nothing built or changed", async () => {
        const update = await runProgram(cloud, config("v2.0.0"));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(update.pushes, 0);
        assert.equal(update.lookups, 1, "the stack's tag alone");
        assert.equal(running(update), `${IMAGE}@${firstV2}`);
        assert.deepEqual(changes(update), []);
        assert.deepEqual(update.deleted, []);
    });

    it("fails on a version the registry does not have, and leaves the Deployment alone", async () => {
        const update = await runProgram(cloud, config("v9.9.9"));
        assert.equal(update.builds, 0);
        assert.equal(update.errors.length, 1);
        assert.ok(
            update.errors[0].endsWith(
                `version v9.9.9 cannot be resolved: tag v9.9.9 was not found in ${IMAGE}. ` +
                    "Check the tag, push it, or pin its `digest`; what runs was not changed.",
            ),
            update.errors[0],
        );
        assert.equal(update.operations.has(DEPLOYMENT), false, "the Deployment was never sent to the engine");
        // The next update finds the Deployment exactly as v2 left it.
        const after = await runProgram(cloud, config("v2.0.0"));
        assert.equal(after.operations.get(DEPLOYMENT), "same");
        assert.equal(running(after), `${IMAGE}@${firstV2}`);
    });

    it("fails the same way in a preview", async () => {
        const update = await runProgram(cloud, config("v9.9.9"), { preview: true });
        assert.equal(update.errors.length, 1);
        assert.match(update.errors[0], /version v9\.9\.9 cannot be resolved/);
    });

    it("refuses a pinned digest that the version's tag no longer points to", async () => {
        const other = `sha256:${"e".repeat(64)}`;
        const update = await runProgram(cloud, config("v1.0.0", v2, { digest: other }));
        assert.equal(update.builds, 0);
        assert.equal(update.errors.length, 1);
        assert.ok(
            update.errors[0].endsWith(
                `\`digest\` ${other} is pinned for version v1.0.0, but ${IMAGE}:v1.0.0 now points to ${firstV1}: ` +
                    "the tag moved. Check which image you mean to run and pin that digest.",
            ),
            update.errors[0],
        );
        assert.equal(update.operations.has(DEPLOYMENT), false);
    });

    it("runs a correct pin without building", async () => {
        const update = await runProgram(cloud, config("v1.0.0", v2, { digest: firstV1 }));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(running(update), `${IMAGE}@${firstV1}`);
    });

    it("runs a pin whose tag is gone from the registry: the digest is the identity", async () => {
        cloud.registry.delete(`${IMAGE}:v1.0.0`);
        const update = await runProgram(cloud, config("v1.0.0", v2, { digest: firstV1 }));
        cloud.registry.set(`${IMAGE}:v1.0.0`, firstV1);
        assert.deepEqual(update.errors, []);
        assert.equal(running(update), `${IMAGE}@${firstV1}`);
    });

    it("returns from the pin to v2 without rebuilding it", async () => {
        const update = await runProgram(cloud, config("v2.0.0"));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(running(update), `${IMAGE}@${firstV2}`);
        assert.equal(update.operations.get(`${IMAGE_TYPE}::app-image`), "same");
    });

    it("promotes from another stack: runs its digest and version, builds nothing", async () => {
        const prod = new MockCloud();
        prod.shareRegistry(cloud);
        prod.stacks.set("organization/released-service/staging", { imageDigest: firstV2, imageRef: `${IMAGE}@${firstV2}`, version: "v2.0.0" });
        const update = await runProgram(prod, { image: IMAGE, promoteFrom: "organization/released-service/staging" }, { stack: "prod" });
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(ofType(update, IMAGE_TYPE).length, 0);
        assert.equal(running(update), `${IMAGE}@${firstV2}`);
        assert.deepEqual(update.outputs, { imageDigest: firstV2, imageRef: `${IMAGE}@${firstV2}`, version: "v2.0.0", built: false });
        assert.equal(ofType(update, DEPLOYMENT_TYPE)[0].inputs.metadata.labels["app.kubernetes.io/version"], "v2.0.0");
    });

    it("with build: false, runs what the registry has and declares no build", async () => {
        const prod = new MockCloud();
        prod.shareRegistry(cloud);
        for (const [version, digest] of [["v2.0.0", firstV2], ["v1.0.0", firstV1]]) {
            const update = await runProgram(prod, config(version, v2, { build: "false" }), { stack: "prod" });
            assert.deepEqual(update.errors, []);
            assert.equal(update.builds, 0);
            assert.equal(ofType(update, IMAGE_TYPE).length, 0);
            assert.equal(running(update), `${IMAGE}@${digest}`);
            assert.equal(ofType(update, SERVICE_TYPE).length, 1);
        }
    });

    it("never builds an old version from new source", async () => {
        // v2's source asked to run v1, with the v1 tag gone: a build of v2's source would not be v1.
        const fresh = new MockCloud();
        const update = await runProgram(fresh, config("v1.0.0"));
        assert.equal(update.errors.length, 1);
        assert.match(update.errors[0], /version v1\.0\.0 cannot be resolved/);
        assert.equal(fresh.registry.has(`${IMAGE}:v1.0.0`), false);
    });

    it("the bundled program's version key is what its pin records: unchanged it warns, moved it is refused in preview", async () => {
        const pins = JSON.stringify({ app: { version: "v1.0.0", digest: firstV1, update: 1, asked: { version: "v2.0.0" } } });
        const kept = await runProgram(cloud, config("v2.0.0", v2, { pins }));
        assert.deepEqual(kept.errors, []);
        assert.equal(running(kept), `${IMAGE}@${firstV1}`);
        assert.deepEqual(kept.warnings, [
            `service app runs its pin, version v1.0.0 (${firstV1}) from update #1, not what its args ask (version v2.0.0, as when the pin was set); ` +
                "lift it with `released-service release-hold --stack dev --service app`.",
        ]);
        const moved = await runProgram(cloud, config("v2.0.1", v2, { pins }), { preview: true });
        assert.deepEqual(moved.errors, [
            `service app is pinned to version v1.0.0 (${firstV1}) from update #1, set when its args asked for version v2.0.0; they now ask for ` +
                "version v2.0.1. The pin would hide that change, so nothing was changed: lift the pin with " +
                "`released-service release-hold --stack dev --service app` to run what the args ask, or set them back to version v2.0.0 to keep it.",
        ]);
        assert.deepEqual([moved.resources.length, moved.builds, moved.pushes], [0, 0, 0]);
    });
});
