// Several ReleasedServices in one user program: each its own Deployment, stack tag, labels, pin and
// hold, all from the entries keyed by its resource name in the component's own config namespace.
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";

import { sourceFixture } from "../support/fixtures";
import { assertRefused, DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runUpdate, Update } from "../support/helpers";

type Module = typeof import("../../components");
let component: Module;

const IMAGE = `${REGISTRY_HOST}/shop`;

/**
 * A user's program: an API that builds its source and a worker that runs a released image of the
 * same repository, each at the version its own config key says (v2.0.0 and w1 unless told).
 */
function shop(cloud: MockCloud, context: string, config: Record<string, unknown> = {}, preview = false, versions = { api: "v2.0.0", worker: "w1" }): Promise<Update> {
    const namespaced = Object.fromEntries(Object.entries(config).map(([key, value]) => [`released-service:${key}`, JSON.stringify(value)]));
    return runUpdate(
        cloud,
        () => {
            const api = new component.ReleasedService("api", { image: IMAGE, version: versions.api, context });
            const worker = new component.ReleasedService("worker", { image: IMAGE, version: versions.worker, build: false });
            return { apiDigest: api.imageDigest, workerDigest: worker.imageDigest };
        },
        { config: namespaced, preview },
    );
}

/** The image each Deployment runs, by service. */
function images(update: Update): Record<string, string> {
    return Object.fromEntries(ofType(update, DEPLOYMENT_TYPE).map((d) => [d.name, d.inputs.spec.template.spec.containers[0].image]));
}

/** The service each error of an update was raised on: the resource the engine reports it under. */
function raisedOn(update: Update): Promise<(string | undefined)[]> {
    return Promise.all(
        update.raisedOn.map((resource) => resource && new Promise<string>((resolve) => resource.urn.apply((urn) => resolve(urn.slice(urn.lastIndexOf("::") + 2))))),
    );
}

describe("several ReleasedServices in one program", () => {
    let source: { context: string };
    before(async () => {
        await pulumi.runtime.setMocks(new MockCloud(), "released-service", "dev", false);
        component = await import("../../components");
        source = sourceFixture("v2.0.0");
    });

    it("gives each service its own Deployment, pod selector, stack tag and provenance label", async () => {
        const cloud = new MockCloud();
        const w1 = cloud.pushElsewhere(`${IMAGE}:w1`);
        const update = await shop(cloud, source.context);
        assert.deepEqual(update.errors, []);
        const built = cloud.registry.get(`${IMAGE}:v2.0.0`)!;
        assert.deepEqual(images(update), { api: `${IMAGE}@${built}`, worker: `${IMAGE}@${w1}` });
        assert.deepEqual(Object.fromEntries(ofType(update, DEPLOYMENT_TYPE).map((d) => [d.name, d.inputs.spec.selector.matchLabels])), {
            api: { "app.kubernetes.io/name": "api" },
            worker: { "app.kubernetes.io/name": "worker" },
        });
        const [image] = ofType(update, IMAGE_TYPE);
        assert.equal(image.name, "api-image");
        assert.ok(image.inputs.tags.includes(`${IMAGE}:stack.dev.api`), image.inputs.tags.join(" "));
        assert.equal(image.inputs.labels["io.released-service.service"], "api");
        assert.equal(cloud.registry.get(`${IMAGE}:stack.dev.worker`), undefined, "the worker built nothing, so moved no tag");
    });

    it("runs one service's pin and leaves the other on its args; the pin, held against unchanged args, says so in a warning", async () => {
        const cloud = new MockCloud();
        const w1 = cloud.pushElsewhere(`${IMAGE}:w1`);
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const update = await shop(cloud, source.context, { pins: { api: { version: "v1.0.0", digest: v1, update: 3, asked: { version: "v2.0.0" } } } });
        assert.deepEqual(update.errors, []);
        assert.deepEqual(images(update), { api: `${IMAGE}@${v1}`, worker: `${IMAGE}@${w1}` });
        assert.deepEqual(update.outputs, { apiDigest: v1, workerDigest: w1 });
        assert.deepEqual(update.warnings, [
            `service api is held on its pinned release, version v1.0.0 (${v1}) from update #3, while its args still ask for version v2.0.0; ` +
                "lift the pin with `released-service release-hold --stack dev --service api` to run what they ask.",
        ]);
    });

    it("records what each service's args ask as its component's input, pin or not", async () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:w1`);
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const update = await shop(cloud, source.context, { pins: { api: { version: "v1.0.0", digest: v1, update: 3, asked: { version: "v2.0.0" } } } });
        assert.deepEqual(
            ofType(update, "released-service:index:ReleasedService").map((r) => [r.name, r.inputs]),
            [
                ["api", { asked: { version: "v2.0.0" } }],
                ["worker", { asked: { version: "w1" } }],
            ],
        );
    });

    it("refuses in preview an update whose args ask for another release than when the pin was set, naming the pin and how to lift it; nothing is registered", async () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:w1`);
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const pins = { api: { version: "v1.0.0", digest: v1, update: 3, asked: { version: "v1.9.0" } } };
        const update = await shop(cloud, source.context, { pins }, true);
        assertRefused(
            update,
            `service api is pinned to version v1.0.0 (${v1}) from update #3, set when its args asked for version v1.9.0; they now ask for version v2.0.0. ` +
                "The pin would hide that change, so nothing was changed: lift the pin with `released-service release-hold --stack dev --service api` " +
                "to run what the args ask, or set them back to version v1.9.0 to keep it.",
            "api",
        );
        assert.deepEqual([update.resources.length, update.builds, update.pushes], [0, 0, 0]);
    });

    it("holds a pin being set (no `asked` yet) in a preview, whatever the args ask, with a warning, and records what they ask for its command", async () => {
        const cloud = new MockCloud();
        const w1 = cloud.pushElsewhere(`${IMAGE}:w1`);
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const update = await shop(cloud, source.context, { pins: { api: { version: "v1.0.0", digest: v1, update: 3 } } }, true);
        assert.deepEqual(update.errors, []);
        assert.deepEqual(images(update), { api: `${IMAGE}@${v1}`, worker: `${IMAGE}@${w1}` });
        assert.deepEqual(update.warnings, [
            `service api is held on its pinned release, version v1.0.0 (${v1}) from update #3, which is being set: its args ask for version v2.0.0, ` +
                "which the command setting the pin records in it before its update runs.",
        ]);
        assert.deepEqual(
            ofType(update, "released-service:index:ReleasedService").map((r) => [r.name, r.inputs]),
            [
                ["api", { asked: { version: "v2.0.0" } }],
                ["worker", { asked: { version: "w1" } }],
            ],
        );
    });

    it("refuses an update with a pin that never recorded what the args asked (its command stopped before), naming it and how to keep or lift it", async () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:w1`);
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const update = await shop(cloud, source.context, { pins: { api: { version: "v1.0.0", digest: v1, update: 3 } } });
        assertRefused(
            update,
            `service api is pinned to version v1.0.0 (${v1}) from update #3, but the pin does not record what its args asked when it was set (\`asked\`: ` +
                "the command setting it stopped before recording it), so a change of them cannot be told; nothing was changed: set the pin's `asked` to " +
                "what the args ask now (version v2.0.0) to keep it, or lift it with `released-service release-hold --stack dev --service api`.",
            "api",
        );
        assert.deepEqual([update.resources.length, update.builds, update.pushes], [0, 0, 0]);
    });

    it("lets another service deploy while a pin holds against unchanged args", async () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:w1`);
        const w2 = cloud.pushElsewhere(`${IMAGE}:w2`);
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const pins = { api: { version: "v1.0.0", digest: v1, update: 3, asked: { version: "v2.0.0" } } };
        const update = await shop(cloud, source.context, { pins }, false, { api: "v2.0.0", worker: "w2" });
        assert.deepEqual(update.errors, []);
        assert.deepEqual(images(update), { api: `${IMAGE}@${v1}`, worker: `${IMAGE}@${w2}` });
        assert.equal(update.warnings.length, 1, update.warnings.join("\n"));
    });

    it("holds one service: its roll forward fails in preview, the other service is free", async () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:w1`);
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const update = await shop(cloud, source.context, { holds: { worker: { digest: v1 } } }, true);
        assertRefused(
            update,
            `stack dev holds worker on ${v1}: this update would run ${cloud.registry.get(`${IMAGE}:w1`)} (version w1). The hold keeps a rollback ` +
                "from being undone by another deploy: lift it with `released-service release-hold --stack dev --service worker`, or remove " +
                "worker from released-service:holds in the stack config, then run the update again. What runs was not changed.",
            "worker",
        );
        assert.ok(update.operations.has(`${DEPLOYMENT_TYPE}::api`), "the API is not held");
    });

    it("fails a preview once, under its own service, when one service's version is unknown; the other service is free", async () => {
        const cloud = new MockCloud();
        const w1 = cloud.pushElsewhere(`${IMAGE}:w1`);
        const update = await shop(cloud, source.context, {}, true, { api: "v9.9.9", worker: "w1" });
        assert.deepEqual(update.errors, [
            `version v9.9.9 cannot be resolved: tag v9.9.9 was not found in ${IMAGE}. Check the tag, push it, or pin its \`digest\`; what runs was not changed.`,
        ]);
        assert.deepEqual(await raisedOn(update), ["api"]);
        assert.deepEqual(images(update), { worker: `${IMAGE}@${w1}` });
    });

    it("fails once, under its own service, when the registry refuses every look-up a building service asks", async () => {
        const cloud = new MockCloud();
        const w1 = cloud.pushElsewhere(`${IMAGE}:w1`);
        cloud.credentials = { username: "ci", password: "secret" };
        const update = await runUpdate(
            cloud,
            () => {
                // The API asks the version's tag and its stack's own tag, without credentials; the worker has them.
                new component.ReleasedService("api", { image: IMAGE, version: "v9.9.9", context: source.context });
                new component.ReleasedService("worker", { image: IMAGE, version: "w1", build: false, registryUsername: "ci", registryPassword: "secret" });
            },
            { preview: true },
        );
        assert.equal(update.errors.length, 1, update.errors.join("\n"));
        assert.match(update.errors[0], new RegExp(`^cannot look up ${IMAGE.replace(/\./g, "\\.")}:(v9\\.9\\.9|stack\\.dev\\.api): registry .* needs credentials and none are configured for it`));
        assert.deepEqual(await raisedOn(update), ["api"]);
        assert.deepEqual(images(update), { worker: `${IMAGE}@${w1}` });
    });

    it("refuses a malformed pin before registering the service, naming the entry's field", async () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:w1`);
        const update = await shop(cloud, source.context, { pins: { worker: { version: "w0", digest: "sha256:0123", update: 1, asked: { version: "w1" } } } });
        assert.equal(update.errors.length, 1, update.errors.join("\n"));
        assert.match(update.errors[0], /`released-service:pins\.worker\.digest` must be sha256: followed by 64 lower-case hex digits \(got "sha256:0123"\)$/);
        assert.equal(
            update.resources.some((r) => r.name === "worker"),
            false,
            "nothing of the worker was registered",
        );
    });
});
