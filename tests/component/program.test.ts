// The project's main program under mocks, driven by stack config as `pulumi up` runs it.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { containsInPlainText, DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runProgram, SAMPLE_VERSION } from "../support/helpers";

/** The dev stack's config, as stacks/Pulumi.dev.yaml ships it. */
const DEV_STACK = { image: "localhost:5000/payment-api", version: SAMPLE_VERSION, revisionHistoryLimit: "10" };
/** The same, with the image in the registry the mocks serve. */
const IMAGE = `${REGISTRY_HOST}/payment-api`;
const DEV = { ...DEV_STACK, image: IMAGE };

describe("main program", () => {
    it("reads the dev stack's config keys, which match this test's", () => {
        const file = fs.readFileSync(path.join(__dirname, "..", "..", "stacks", "Pulumi.dev.yaml"), "utf8");
        // The version is the user's to change (the quickstart does); the keys and the rest are as shipped.
        for (const [key, value] of Object.entries({ ...DEV_STACK, version: "v[0-9.]+" })) {
            // pulumi writes numbers as quoted strings; both read as the same config text.
            assert.match(file, new RegExp(`^  released-service:${key}: "?${value}"?$`, "m"));
        }
    });

    it("builds the dev stack's source once and pins exactly one Deployment to the pushed digest", async () => {
        const cloud = new MockCloud();
        const update = await runProgram(cloud, DEV);
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 1);
        assert.equal(ofType(update, IMAGE_TYPE).length, 1);
        const deployments = ofType(update, DEPLOYMENT_TYPE);
        assert.equal(deployments.length, 1);
        const digest = cloud.registry.get(`${IMAGE}:v0.1.0`);
        assert.match(String(digest), /^sha256:[0-9a-f]{64}$/);
        assert.equal(deployments[0].inputs.spec.template.spec.containers[0].image, `${IMAGE}@${digest}`);
        assert.equal(deployments[0].inputs.spec.revisionHistoryLimit, 10);
        assert.deepEqual(update.outputs, {
            imageDigest: digest,
            imageRef: `${IMAGE}@${digest}`,
            version: "v0.1.0",
            built: true,
        });

        const again = await runProgram(cloud, DEV);
        assert.deepEqual(again.errors, []);
        assert.equal(again.builds, 0);
        assert.deepEqual([...again.operations.values()].filter((op) => op !== "same"), []);
        assert.deepEqual(again.deleted, []);
        assert.deepEqual(again.outputs, { ...update.outputs, built: false });
    });

    it("runs a version that is not the source's from the registry, building nothing", async () => {
        const cloud = new MockCloud();
        const digest = cloud.pushElsewhere(`${IMAGE}:v0.0.9`);
        const update = await runProgram(cloud, { ...DEV, version: "v0.0.9", build: "false" });
        assert.deepEqual(update.errors, []);
        assert.equal(update.builds, 0);
        assert.equal(ofType(update, IMAGE_TYPE).length, 0);
        assert.equal(update.outputs.imageRef, `${IMAGE}@${digest}`);
    });

    it("reads progressDeadlineSeconds as a number: the rollout's deadline and the provider's wait", async () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:v0.0.9`);
        const update = await runProgram(cloud, { ...DEV, version: "v0.0.9", build: "false", progressDeadlineSeconds: "120" });
        assert.deepEqual(update.errors, []);
        const deployment = ofType(update, DEPLOYMENT_TYPE)[0].inputs;
        assert.equal(deployment.spec.progressDeadlineSeconds, 120);
        assert.equal(deployment.metadata.annotations["pulumi.com/timeoutSeconds"], "120");
    });

    it("keeps the registry password secret: never in plain text in inputs or outputs", async () => {
        const password = "pa55-from-config";
        const update = await runProgram(
            new MockCloud(),
            { ...DEV, registryUsername: "ci", registryPassword: password },
            { secretKeys: ["registryPassword"] },
        );
        assert.deepEqual(update.errors, []);
        assert.equal(ofType(update, IMAGE_TYPE).length, 1);
        for (const resource of update.resources) {
            assert.equal(containsInPlainText(resource.inputs, password), false, `${resource.type} ${resource.name}`);
        }
        assert.equal(containsInPlainText(update.outputs, password), false);
    });

    it("refuses bad config before registering anything, all keys at once", async () => {
        const update = await runProgram(new MockCloud(), { ...DEV, version: "latest", replicas: "three", port: "70000", progressDeadlineSeconds: "0" });
        assert.deepEqual(update.resources, []);
        assert.deepEqual(update.errors, [
            "4 invalid inputs:\n" +
                "  - `version` must name a release, not `latest` (a tag that moves with every push)\n" +
                "  - `progressDeadlineSeconds` must be a whole number from 1 to 2147483647 (got 0)\n" +
                '  - `replicas` must be a whole number from 0 to 2147483647 (got "three")\n' +
                "  - `port` must be a whole number from 1 to 65535 (got 70000)",
        ]);
    });

    it("requires an image", async () => {
        const update = await runProgram(new MockCloud(), { version: "v0.1.0" });
        assert.deepEqual(update.resources, []);
        assert.deepEqual(update.errors, ["`image` is required: the repository to push to and run from, e.g. localhost:5000/payment-api"]);
    });
});
