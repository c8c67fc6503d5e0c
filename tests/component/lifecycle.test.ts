// Rollback, roll forward, pins and promotion across successive updates of the main program:
// each version runs its own first digest, and only the source's own version is ever built.
import * as assert from "node:assert/strict";

import { sourceFixture } from "../support/fixtures";
import { DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runProgram, runUpdate, running, SERVICE_TYPE, Update } from "../support/helpers";

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
        // The stack's state says its last build is this source, so the build is unchanged: v1's tag alone is asked.
        assert.equal(update.lookups, 1, "registry look-ups: v1's tag alone");
        assert.equal(update.blobReads, 0);
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
        assert.equal(update.lookups, 1, "the digest of the stack's last build, which its state recorded, asked for by digest");
        assert.equal(update.blobReads, 0);
    });

    it("updates again with nothing changed: one look-up, nothing built or changed", async () => {
        const update = await runProgram(cloud, config("v2.0.0"));
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(update.pushes, 0);
        assert.equal(update.lookups, 1, "the digest that runs, asked for by digest");
        assert.equal(update.blobReads, 0);
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
            `service app is held on its pinned release, version v1.0.0 (${firstV1}) from update #1, while its args still ask for version v2.0.0; ` +
                "lift the pin with `released-service release-hold --stack dev --service app` to run what they ask.",
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

describe("the stack's last build, read from its state, else from its own tag", () => {
    const READ_OUTPUTS = "pulumi:pulumi:readStackOutputs";
    const READ_RESOURCES = "pulumi:pulumi:readStackResourceOutputs";
    const v1 = sourceFixture("v1.0.0");
    const v2 = sourceFixture("v2.0.0");
    let component: typeof import("../../components");
    before(async () => {
        component = await import("../../components");
    });

    /** One update of a program with one service, that exports its digest or nothing. */
    const deploy = (cloud: MockCloud, version: string, context: string, exports: boolean, preview = false) =>
        runUpdate(
            cloud,
            () => {
                const service = new component.ReleasedService("app", { image: IMAGE, version, context });
                return exports ? { imageDigest: service.imageDigest } : undefined;
            },
            { preview },
        );

    for (const exports of [true, false]) {
        const what = exports ? "a stack with outputs" : "a stack whose program exports nothing";
        it(`${what}: a rollback runs v1's first digest, asking the registry ${exports ? "once" : "twice"}`, async () => {
            const cloud = new MockCloud();
            const first = await deploy(cloud, "v1.0.0", v1.context, exports, true);
            assert.deepEqual(first.invokes, [READ_OUTPUTS], "a first preview never reads the resources of a stack that has none");
            await deploy(cloud, "v1.0.0", v1.context, exports);
            const firstV1 = cloud.registry.get(`${IMAGE}:v1.0.0`)!;
            await deploy(cloud, "v2.0.0", v2.context, exports);
            const rollback = await deploy(cloud, "v1.0.0", v2.context, exports);
            assert.deepEqual(rollback.errors, []);
            assert.equal(rollback.builds + rollback.pushes, 0);
            assert.equal(running(rollback), `${IMAGE}@${firstV1}`);
            assert.deepEqual(changes(rollback), [`update ${DEPLOYMENT}`]);
            assert.deepEqual(rollback.deleted, []);
            if (exports) {
                assert.deepEqual(rollback.invokes, [READ_OUTPUTS, READ_RESOURCES]);
                assert.equal(rollback.lookups, 1, "v1's tag: the state says the stack's last build is this source");
                assert.equal(rollback.blobReads, 0);
            } else {
                assert.deepEqual(rollback.invokes, [READ_OUTPUTS]);
                assert.equal(rollback.lookups, 2, "the stack's own tag, with its labels, then v1's tag");
                assert.equal(rollback.blobReads, 1);
            }
        });
    }

    it("a last build the state records but the registry lost is refused before the Deployment changes", async () => {
        const cloud = new MockCloud();
        await deploy(cloud, "v2.0.0", v2.context, true);
        const digest = cloud.registry.get(`${IMAGE}:v2.0.0`)!;
        cloud.images.delete(digest);
        const update = await deploy(cloud, "v2.0.0", v2.context, true);
        assert.equal(update.builds, 0);
        assert.equal(update.errors.length, 1);
        assert.ok(update.errors[0].endsWith(`${IMAGE}@${digest} (version v2.0.0) is no longer in its registry: it was deleted, by a retention policy or by hand. ` +
            "Nothing could pull it to run, so what runs was not changed. Push that image again, " +
            "or choose a release that is still there (`released-service verify` lists which are)."), update.errors[0]);
        assert.equal(update.operations.has(DEPLOYMENT), false, "the Deployment was never sent to the engine");
    });
});
