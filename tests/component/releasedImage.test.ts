// ReleasedImage under mocks that answer like the providers: a release and nothing else, its imageRef
// run by the user's own resources, with the pins, holds and refusals of a ReleasedService.
import * as assert from "node:assert/strict";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { sourceFixture, type SourceFixture } from "../support/fixtures";
import { DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runUpdate, type Update } from "../support/helpers";
import type { ReleaseArgs } from "../../components/release/resolve";

type Module = typeof import("../../components");
let component: Module;
let source: SourceFixture;

const IMAGE = `${REGISTRY_HOST}/shop`;
const CRON_JOB_TYPE = "kubernetes:batch/v1:CronJob";

/**
 * A user's program: a ReleasedImage named "api" at `version`, run by a Deployment and a nightly
 * CronJob of the user's own, both declared with the provider's own resources.
 */
function shop(cloud: MockCloud, version: string, options: { config?: Record<string, unknown>; preview?: boolean; args?: Partial<ReleaseArgs> } = {}): Promise<Update> {
    const config = Object.fromEntries(Object.entries(options.config ?? {}).map(([key, value]) => [`released-service:${key}`, JSON.stringify(value)]));
    return runUpdate(
        cloud,
        () => {
            const api = new component.ReleasedImage("api", { image: IMAGE, version, context: source.context, ...options.args });
            const labels = { app: "api" };
            new k8s.apps.v1.Deployment("api", {
                spec: {
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels },
                        spec: {
                            initContainers: [{ name: "migrate", image: api.imageRef, args: ["migrate"] }],
                            containers: [{ name: "api", image: api.imageRef, env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "db", key: "url" } } }] }],
                        },
                    },
                },
            });
            new k8s.batch.v1.CronJob("report", {
                spec: {
                    schedule: "0 3 * * *",
                    jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "report", image: api.imageRef, args: ["report"] }] } } } },
                },
            });
            return { imageRef: api.imageRef, imageDigest: api.imageDigest, version: api.version, built: api.built };
        },
        { config, preview: options.preview },
    );
}

/** Every image the user's Deployment and CronJob run, containers and init containers. */
function imagesRun(update: Update): string[] {
    const [deployment] = ofType(update, DEPLOYMENT_TYPE);
    const [cronJob] = ofType(update, CRON_JOB_TYPE);
    const pod = deployment.inputs.spec.template.spec;
    return [pod.initContainers[0].image, pod.containers[0].image, cronJob.inputs.spec.jobTemplate.spec.template.spec.containers[0].image];
}

describe("ReleasedImage", () => {
    before(async () => {
        await pulumi.runtime.setMocks(new MockCloud(), "released-service", "dev", false);
        component = await import("../../components");
        source = sourceFixture("v2.0.0");
    });

    it("builds the source's version once and outputs its digest, which every container of the user's own resources runs", async () => {
        const cloud = new MockCloud();
        const update = await shop(cloud, "v2.0.0");
        assert.deepEqual(update.errors, []);
        const built = cloud.registry.get(`${IMAGE}:v2.0.0`)!;
        assert.deepEqual(update.outputs, { imageRef: `${IMAGE}@${built}`, imageDigest: built, version: "v2.0.0", built: true });
        assert.deepEqual(imagesRun(update), Array(3).fill(`${IMAGE}@${built}`));
        const [image] = ofType(update, IMAGE_TYPE);
        assert.equal(image.name, "api-image");
        assert.deepEqual(image.inputs.tags, [`${IMAGE}:v2.0.0`, `${IMAGE}:${source.revision.slice(0, 7)}`, `${IMAGE}:stack.dev.api`]);
        assert.equal(image.inputs.labels["io.released-service.service"], "api");
        assert.deepEqual(
            ofType(update, "released-service:index:ReleasedImage").map((r) => [r.name, r.inputs]),
            [["api", { asked: { version: "v2.0.0" } }]],
        );
        assert.deepEqual(
            update.resources.map((r) => r.type).sort(),
            [IMAGE_TYPE, DEPLOYMENT_TYPE, CRON_JOB_TYPE, "released-service:index:ReleasedImage"],
            "no workload of its own",
        );
    });

    it("builds nothing the second time, and runs an earlier version's digest again with nothing built or pushed", async () => {
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        await shop(cloud, "v2.0.0");
        const again = await shop(cloud, "v2.0.0");
        assert.deepEqual([again.errors, again.builds, again.pushes, again.outputs.built], [[], 0, 0, false]);
        const back = await shop(cloud, "v1.0.0");
        assert.deepEqual(back.errors, []);
        assert.deepEqual([back.builds, back.pushes], [0, 0]);
        assert.deepEqual(back.outputs, { imageRef: `${IMAGE}@${v1}`, imageDigest: v1, version: "v1.0.0", built: false });
        assert.deepEqual(imagesRun(back), Array(3).fill(`${IMAGE}@${v1}`));
    });

    it("runs its pin from the stack config, held against unchanged args with a warning, and refuses args that changed since (rule 12)", async () => {
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        const pin = { version: "v1.0.0", digest: v1, update: 3, asked: { version: "v2.0.0" } };
        const held = await shop(cloud, "v2.0.0", { config: { pins: { api: pin } } });
        assert.deepEqual(held.errors, []);
        assert.deepEqual(imagesRun(held), Array(3).fill(`${IMAGE}@${v1}`));
        assert.deepEqual(held.warnings, [
            `service api is held on its pinned release, version v1.0.0 (${v1}) from update #3, while its args still ask for version v2.0.0; ` +
                "lift the pin with `released-service release-hold --stack dev --service api` to run what they ask.",
        ]);
        const changed = await shop(cloud, "v2.1.0", { config: { pins: { api: pin } }, preview: true });
        assert.deepEqual(changed.errors, [
            `service api is pinned to version v1.0.0 (${v1}) from update #3, set when its args asked for version v2.0.0; they now ask for version v2.1.0. ` +
                "The pin would hide that change, so nothing was changed: lift the pin with `released-service release-hold --stack dev --service api` " +
                "to run what the args ask, or set them back to version v2.0.0 to keep it.",
        ]);
        assert.deepEqual(ofType(changed, "released-service:index:ReleasedImage"), [], "nothing of the release was registered");
    });

    it("keeps its hold: an update to another digest fails in preview before any image changes", async () => {
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1.0.0`);
        cloud.pushElsewhere(`${IMAGE}:v1.1.0`);
        const update = await shop(cloud, "v1.1.0", { config: { holds: { api: { digest: v1 } } }, preview: true, args: { build: false } });
        assert.equal(update.errors.length, 1, update.errors.join("\n"));
        assert.match(update.errors[0], new RegExp(`^stack dev holds api on ${v1}: this update would run sha256:[0-9a-f]{64} \\(version v1\\.1\\.0\\)`));
        assert.deepEqual(ofType(update, DEPLOYMENT_TYPE), [], "the user's Deployment never received another image");
    });

    it("refuses bad input before registering anything, naming every field", async () => {
        const update = await shop(new MockCloud(), "latest", { args: { image: "Shop" } });
        assert.deepEqual(update.resources.filter((r) => r.type.startsWith("released-service") || r.type === IMAGE_TYPE), []);
        assert.deepEqual(update.errors, [
            "2 invalid inputs:\n" +
                '  - `image` must be a lower-case image repository such as localhost:5000/payment-api (got "Shop")\n' +
                "  - `version` must name a release, not `latest` (a tag that moves with every push)",
        ]);
    });
});
