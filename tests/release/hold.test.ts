// A hold in the stack config keeps a rollback in place: while it is set, only its digest runs, and
// an update that would run another one, or build a new one, fails in its preview and its update.
import * as assert from "node:assert/strict";

import { sourceFixture } from "../support/fixtures";
import { assertRefused, DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runProgram, running } from "../support/helpers";
import { holdRefusal } from "../../components/release/plan";

const IMAGE = `${REGISTRY_HOST}/payment-api`;
const DEPLOYMENT = `${DEPLOYMENT_TYPE}::app`;
const BY = "Release Engineer <release@example.com>";
const AT = "2026-11-23T10:00:00Z";
const LIFT =
    "The hold keeps a rollback from being undone by another deploy: lift it with `released-service release-hold --stack prod --service app`, " +
    "or remove app from released-service:holds in the stack config, then run the update again. What runs was not changed.";

describe("a hold on the digest a rollback put in place", () => {
    describe("on a stack that runs released images", () => {
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const v2 = cloud.pushElsewhere(`${IMAGE}:v2.0.0`);
        const hold = JSON.stringify({ app: { digest: v1, by: BY, at: AT, reason: `rollback to #3 (v1.0.0, ${v1})` } });
        const deploy = (config: Record<string, string>, preview = false) =>
            runProgram(cloud, { image: IMAGE, build: "false", ...config }, { stack: "prod", preview });
        const rollback = { version: "v1.0.0", digest: v1, holds: hold };
        const refusal = (digest: string, version: string) =>
            `stack prod holds app on ${v1} (rollback to #3 (v1.0.0, ${v1}); set by ${BY} at ${AT}): this update would run ${digest} (version ${version}). ${LIFT}`;

        it("lets the rollback that set it run the held digest", async () => {
            assert.deepEqual((await deploy({ version: "v2.0.0" })).errors, []);
            const update = await deploy(rollback);
            assert.deepEqual(update.errors, []);
            assert.equal(running(update), `${IMAGE}@${v1}`);
            assert.equal(update.operations.get(DEPLOYMENT), "update");
        });

        it("refuses a roll forward by version in the preview, naming the hold and how to lift it", async () => {
            assertRefused(await deploy({ version: "v2.0.0", holds: hold }, true), refusal(v2, "v2.0.0"));
        });

        it("refuses it in the update, and the held release keeps running", async () => {
            assertRefused(await deploy({ version: "v2.0.0", holds: hold }), refusal(v2, "v2.0.0"));
            const after = await deploy(rollback);
            assert.equal(after.operations.get(DEPLOYMENT), "same");
            assert.equal(running(after), `${IMAGE}@${v1}`);
        });

        it("refuses another pinned digest", async () => {
            assertRefused(await deploy({ version: "v2.0.0", digest: v2, holds: hold }), refusal(v2, "v2.0.0"));
        });

        it("refuses a promotion of another digest", async () => {
            cloud.stacks.set("organization/released-service/staging", { imageDigest: v2, version: "v2.0.0" });
            assertRefused(await deploy({ promoteFrom: "organization/released-service/staging", holds: hold }), refusal(v2, "v2.0.0"));
        });

        it("runs the held digest looked up by its version too", async () => {
            const update = await deploy({ version: "v1.0.0", holds: hold });
            assert.deepEqual(update.errors, []);
            assert.equal(update.operations.get(DEPLOYMENT), "same");
        });

        it("rolls forward once the hold is gone from the stack config", async () => {
            const update = await deploy({ version: "v2.0.0" });
            assert.deepEqual(update.errors, []);
            assert.equal(running(update), `${IMAGE}@${v2}`);
        });
    });

    describe("on a stack that builds", () => {
        for (const preview of [true, false]) {
            it(`refuses a new build of the source's version in the ${preview ? "preview" : "update"}: nothing is built or pushed`, async () => {
                const cloud = new MockCloud();
                const held = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
                const source = sourceFixture("v3.0.0");
                const update = await runProgram(
                    cloud,
                    { image: IMAGE, version: "v3.0.0", context: source.context, holds: JSON.stringify({ app: { digest: held } }) },
                    { stack: "prod", preview },
                );
                assertRefused(update, `stack prod holds app on ${held}: this update would build and run a new image of version v3.0.0. ${LIFT}`);
                assert.deepEqual(ofType(update, IMAGE_TYPE), [], "no build declared");
                assert.equal(update.builds, 0);
                assert.equal(update.pushes, 0);
                assert.equal(cloud.registry.has(`${IMAGE}:v3.0.0`), false);
            });
        }

        it("runs the source's own version when its released image is the held one", async () => {
            const cloud = new MockCloud();
            const source = sourceFixture("v1.0.0");
            const config = { image: IMAGE, version: "v1.0.0", context: source.context };
            assert.deepEqual((await runProgram(cloud, config, { stack: "prod" })).errors, []);
            const held = cloud.registry.get(`${IMAGE}:v1.0.0`)!;
            const update = await runProgram(cloud, { ...config, holds: JSON.stringify({ app: { digest: held } }) }, { stack: "prod" });
            assert.deepEqual(update.errors, []);
            assert.equal(update.builds, 0);
            assert.equal(running(update), `${IMAGE}@${held}`);
        });
    });

    describe("its refusal", () => {
        const held = `sha256:${"1".repeat(64)}`;
        const other = `sha256:${"2".repeat(64)}`;
        const cases: [string, { by?: string; at?: string; reason?: string }, string][] = [
            ["records everything", { by: BY, at: AT, reason: "rollback to #3" }, `${held} (rollback to #3; set by ${BY} at ${AT})`],
            ["records no reason", { by: BY, at: AT }, `${held} (set by ${BY} at ${AT})`],
            ["records who alone", { by: BY }, `${held} (set by ${BY})`],
            ["records when alone", { at: AT }, `${held} (at ${AT})`],
            ["records why alone", { reason: "bad release" }, `${held} (bad release)`],
            ["records nothing more", {}, held],
        ];
        for (const [title, details, holds] of cases) {
            it(`reads well when the hold ${title}`, () => {
                assert.equal(
                    holdRefusal("prod", "app", { digest: held, ...details }, { version: "v2.0.0", digest: other }),
                    `stack prod holds app on ${holds}: this update would run ${other} (version v2.0.0). ${LIFT}`,
                );
            });
        }

        it("is none for the held digest", () => {
            assert.equal(holdRefusal("prod", "app", { digest: held, by: BY }, { version: "v1.0.0", digest: held }), undefined);
        });
    });
});
