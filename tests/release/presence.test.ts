// The image about to run must still be in its registry: a pinned or promoted digest that nothing has
// shown present is asked about once, by digest, and a deleted one stops the update before the Deployment.
import * as assert from "node:assert/strict";

import { RegistrySession, shareSession } from "../../components/registry/client";
import { TestClock } from "../support/faultyRegistry";
import { assertRefused, DEPLOYMENT_TYPE, MockCloud, REGISTRY_HOST, runProgram, running } from "../support/helpers";

const IMAGE = `${REGISTRY_HOST}/payment-api`;
const DEPLOYMENT = `${DEPLOYMENT_TYPE}::app`;
const STAGING = "organization/released-service/staging";

function gone(digest: string, version: string): string {
    return (
        `${IMAGE}@${digest} (version ${version}) is no longer in its registry: it was deleted, by a retention policy or by hand. ` +
        "Nothing could pull it to run, so what runs was not changed. Push that image again, " +
        "or choose a release that is still there (`released-service verify` lists which are)."
    );
}

describe("the image about to run is still in its registry", () => {
    const pin = (version: string, digest: string) => ({ image: IMAGE, version, digest, build: "false" });

    describe("a pinned digest", () => {
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const v2 = cloud.pushElsewhere(`${IMAGE}:v2.0.0`);

        it("is proven by its version's tag answering that digest: no request beyond the tag's", async () => {
            const update = await runProgram(cloud, pin("v1.0.0", v1));
            assert.deepEqual(update.errors, []);
            assert.equal(update.lookups, 1, "the tag look-up alone");
            assert.equal(running(update), `${IMAGE}@${v1}`);
        });

        it("whose tag is gone is asked for by digest, once, and runs when it is there", async () => {
            cloud.registry.delete(`${IMAGE}:v2.0.0`);
            const update = await runProgram(cloud, pin("v2.0.0", v2));
            assert.deepEqual(update.errors, []);
            assert.equal(update.lookups, 2, "the tag, then the digest");
            assert.equal(running(update), `${IMAGE}@${v2}`);
        });

        it("that was deleted is refused in the preview, naming it and what to do", async () => {
            cloud.images.delete(v1);
            const update = await runProgram(cloud, pin("v1.0.0", v1), { preview: true });
            assertRefused(update, gone(v1, "v1.0.0"));
            assert.equal(update.lookups, 2);
        });

        it("that was deleted is refused in the update, and the running Deployment stays as it was", async () => {
            assertRefused(await runProgram(cloud, pin("v1.0.0", v1)), gone(v1, "v1.0.0"));
            const after = await runProgram(cloud, pin("v2.0.0", v2));
            assert.equal(after.operations.get(DEPLOYMENT), "same");
            assert.equal(running(after), `${IMAGE}@${v2}`);
        });
    });

    describe("a promoted digest", () => {
        const promote = { image: IMAGE, promoteFrom: STAGING };
        // A failing registry is asked again after waits that take no time here: a session of its own, on a test clock.
        let before: RegistrySession;
        beforeEach(() => {
            before = shareSession(new RegistrySession(new TestClock()));
        });
        afterEach(() => {
            shareSession(before);
        });

        it("is asked for by digest, once, and runs when it is there", async () => {
            const prod = new MockCloud();
            const digest = prod.pushElsewhere(`${IMAGE}:v2.0.0`);
            prod.stacks.set(STAGING, { imageDigest: digest, version: "v2.0.0" });
            const update = await runProgram(prod, promote, { stack: "prod" });
            assert.deepEqual(update.errors, []);
            assert.equal(update.lookups, 1, "the digest, nothing else");
            assert.equal(running(update), `${IMAGE}@${digest}`);
        });

        for (const preview of [true, false]) {
            it(`that was deleted is refused in the ${preview ? "preview" : "update"}, with the promoted version`, async () => {
                const prod = new MockCloud();
                const digest = prod.pushElsewhere(`${IMAGE}:v2.0.0`);
                prod.images.delete(digest);
                prod.stacks.set(STAGING, { imageDigest: digest, version: "v2.0.0" });
                assertRefused(await runProgram(prod, promote, { stack: "prod", preview }), gone(digest, "v2.0.0"));
            });
        }

        it("says the check could not be made when the registry fails, and changes nothing", async () => {
            const prod = new MockCloud();
            const digest = prod.pushElsewhere(`${IMAGE}:v2.0.0`);
            prod.stacks.set(STAGING, { imageDigest: digest, version: "v2.0.0" });
            prod.failWith = 503;
            assertRefused(
                await runProgram(prod, promote, { stack: "prod" }),
                `cannot check that ${IMAGE}@${digest} is still in its registry: ` +
                    `registry ${REGISTRY_HOST} answered HTTP 503 for payment-api@${digest} (5 tries over 15.0 s). Nothing was changed.`,
            );
        });
    });

    it("asks nothing more for a looked-up version: its tag look-up found it", async () => {
        const cloud = new MockCloud();
        const digest = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const update = await runProgram(cloud, { image: IMAGE, version: "v1.0.0", build: "false" });
        assert.deepEqual(update.errors, []);
        assert.equal(update.lookups, 1);
        assert.equal(running(update), `${IMAGE}@${digest}`);
    });
});
