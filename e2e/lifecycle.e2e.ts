// The life of a released service under the real engine: build once, run by digest, roll back and
// forward without building, refuse what cannot be resolved, promote, and keep every release.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { BUILDER, PRIVATE_PASSWORD, PRIVATE_REGISTRY_NAME, PRIVATE_USER, REPO_ROOT, type Environment } from "./support/environment";
import { buildContext, RegistryView, Stack, succeeded, workload } from "./support/project";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

describe("a released service under the real engine", function () {
    let env: Environment;
    let dev: Stack;
    let registry: RegistryView;
    let image: string;
    let v1Context: string;
    let v2Context: string;
    const digests: Record<string, string> = {};

    /** Every pod of the Deployment runs exactly `digest`, and the Deployment names it. */
    async function assertRunning(digest: string): Promise<void> {
        const live = await workload(env);
        assert.equal(live.image, `${image}@${digest}`);
        assert.ok(live.pods.length > 0, "pods are running");
        assert.deepEqual(live.pods, live.pods.map(() => digest), `every pod runs ${digest}`);
    }

    /** The registry requests about the service's repository since the `from`th. */
    const imageRequests = (from: number): string[] => env.registryRequests().slice(from).filter((line) => line.includes("/payment-api/"));

    before(async () => {
        env = environment();
        image = `${env.registry.host}/payment-api`;
        registry = new RegistryView(image);
        v1Context = buildContext(env, "v1", "v1.0.0", "payment-api 1.0.0");
        v2Context = buildContext(env, "v2", "v2.0.0", "payment-api 2.0.0");
        dev = new Stack(env, "dev");
        await dev.init({ image, version: "v1.0.0", context: v1Context, builder: BUILDER });
    });

    it("1. deploys the dev stack: one build and push, the Deployment and its pods on the pushed digest, OCI labels in the image", async () => {
        const writes = env.manifestWrites().length;
        succeeded(await dev.up(), "pulumi up");
        assert.ok(env.manifestWrites().length > writes, "the build pushed");
        digests.v1 = (await registry.digestOf("v1.0.0"))!;
        assert.match(digests.v1, DIGEST);
        const outputs = await dev.outputs();
        assert.deepEqual(outputs, { imageDigest: digests.v1, imageRef: `${image}@${digests.v1}`, version: "v1.0.0", built: true });
        await assertRunning(digests.v1);
        const labels = await registry.labelsOf("v1.0.0");
        assert.equal(labels["org.opencontainers.image.version"], "v1.0.0");
        assert.match(labels["org.opencontainers.image.revision"], /^[0-9a-f]{40}$/);
        assert.equal(labels["org.opencontainers.image.created"], "2026-11-01T10:00:00+00:00");
        assert.equal(labels["org.opencontainers.image.source"], "https://git.example.com/payments/payment-api.git");
        assert.equal(labels["io.released-service.stack"], "organization/released-service/dev");
    });

    it("2. changes nothing on an identical second update", async () => {
        succeeded(await dev.preview("--expect-no-changes"), "pulumi preview --expect-no-changes");
        const writes = env.manifestWrites().length;
        succeeded(await dev.up(), "pulumi up");
        assert.equal(env.manifestWrites().length, writes, "nothing pushed");
        assert.equal((await dev.outputs()).built, false);
    });

    it("3. builds a new source version once; the earlier version's tag keeps its digest", async () => {
        await dev.set({ version: "v2.0.0", context: v2Context });
        const writes = env.manifestWrites().length;
        succeeded(await dev.up(), "pulumi up");
        assert.ok(env.manifestWrites().length > writes, "the build pushed");
        digests.v2 = (await registry.digestOf("v2.0.0"))!;
        assert.match(digests.v2, DIGEST);
        assert.notEqual(digests.v2, digests.v1);
        assert.equal(await registry.digestOf("v1.0.0"), digests.v1);
        await assertRunning(digests.v2);
    });

    it("refuses a changed source under the released v2.0.0 in the preview, and pushes nothing", async () => {
        const file = path.join(v2Context, "hello.txt");
        const original = fs.readFileSync(file, "utf8");
        fs.writeFileSync(file, "payment-api 2.0.0, edited without a new VERSION\n");
        try {
            const writes = env.manifestWrites().length;
            for (const result of [await dev.preview(), await dev.up()]) {
                assert.notEqual(result.code, 0);
                assert.match(
                    result.stdout + result.stderr,
                    new RegExp(`version v2\\.0\\.0 is already released as ${image.replace(/\./g, "\\.")}:v2\\.0\\.0 = ${digests.v2}, built from other source`),
                );
                assert.match(result.stdout + result.stderr, /A released version never moves: bump the version/);
            }
            assert.deepEqual(env.manifestWrites().slice(writes), [], "nothing pushed");
            assert.equal(await registry.digestOf("v2.0.0"), digests.v2);
            await assertRunning(digests.v2);
        } finally {
            fs.writeFileSync(file, original);
        }
        succeeded(await dev.preview("--expect-no-changes"), "the released source again: no changes");
    });

    it("10. previews a source change with the digest computed, never empty, and the policy pack passes it", async () => {
        const v3Context = buildContext(env, "v3", "v3.0.0", "payment-api 3.0.0");
        await dev.set({ version: "v3.0.0", context: v3Context });
        const preview = succeeded(await dev.preview("--diff", "--policy-pack", path.join(REPO_ROOT, "policy")), "pulumi preview --policy-pack");
        assert.doesNotMatch(preview.stdout, /@sha256:"|@sha256:\s*$|imageDigest\s*:\s*"sha256:"/m, preview.stdout);
        assert.doesNotMatch(preview.stdout, /digest-pinned-image|mandatory policy violation/i, preview.stdout);
        await dev.set({ version: "v2.0.0", context: v2Context });
        succeeded(await dev.preview("--expect-no-changes"), "back to v2: no changes");
    });

    it("4. rolls back by version: only the Deployment and the release the component records its args asked for change, nothing is pushed, the pods run v1's digest", async () => {
        await dev.set({ version: "v1.0.0" });
        // The component's one input is what its args ask (a pin set later is checked against it).
        assert.deepEqual((await dev.plannedChanges()).sort(), ["update kubernetes:apps/v1:Deployment", "update released-service:index:ReleasedService"]);
        const writes = env.manifestWrites().length;
        const requests = env.registryRequests().length;
        succeeded(await dev.up(), "pulumi up");
        assert.deepEqual(env.manifestWrites().slice(writes), [], "no manifest written");
        // The stack's state says its last build is this very source: the preview and the update each
        // ask the registry one question, v1's tag.
        assert.deepEqual(imageRequests(requests), ["HEAD /v2/payment-api/manifests/v1.0.0", "HEAD /v2/payment-api/manifests/v1.0.0"]);
        await assertRunning(digests.v1);
        assert.deepEqual(await dev.outputs(), { imageDigest: digests.v1, imageRef: `${image}@${digests.v1}`, version: "v1.0.0", built: false });
    });

    it("5. rolls forward without a rebuild: v2's original digest again", async () => {
        await dev.set({ version: "v2.0.0" });
        const writes = env.manifestWrites().length;
        const requests = env.registryRequests().length;
        succeeded(await dev.up(), "pulumi up");
        assert.deepEqual(env.manifestWrites().slice(writes), []);
        // The stack's last build, from its state, runs: each evaluation asks the registry once. The
        // preview reads the build from the state and asks for its digest. The update may too, or,
        // when the engine answers its state read from the checkpoint it is rewriting (the stack's
        // outputs not registered yet), ask the stack's own tag, as a state it cannot read does.
        const v2 = `HEAD /v2/payment-api/manifests/${digests.v2}`;
        const [preview, update, ...more] = imageRequests(requests);
        assert.deepEqual([preview, more], [v2, []]);
        assert.ok([v2, "GET /v2/payment-api/manifests/stack.dev.app"].includes(update), update);
        await assertRunning(digests.v2);
    });

    it("6. fails the preview of an unknown version, naming it and the repository; the live Deployment is unchanged", async () => {
        await dev.set({ version: "v9.9.9" });
        for (const result of [await dev.preview(), await dev.up()]) {
            assert.notEqual(result.code, 0);
            assert.match(
                result.stdout + result.stderr,
                new RegExp(`version v9\\.9\\.9 cannot be resolved: tag v9\\.9\\.9 was not found in ${image.replace(/\./g, "\\.")}\\. Check the tag, push it, or pin its \`digest\`; what runs was not changed\\.`),
            );
        }
        await assertRunning(digests.v2);
        await dev.set({ version: "v2.0.0" });
    });

    it("7. refuses a pin whose tag moved, and runs a correct pin after its tag is deleted", async () => {
        await dev.set({ version: "v1.0.0", digest: digests.v2 });
        const moved = await dev.preview();
        assert.notEqual(moved.code, 0);
        assert.ok(
            (moved.stdout + moved.stderr).includes(
                `\`digest\` ${digests.v2} is pinned for version v1.0.0, but ${image}:v1.0.0 now points to ${digests.v1}: the tag moved.`,
            ),
            moved.stdout + moved.stderr,
        );
        // A registry UI or retention rule removes the tag; the manifest stays.
        fs.rmSync(path.join(env.registry.storage, "docker", "registry", "v2", "repositories", "payment-api", "_manifests", "tags", "v1.0.0"), { recursive: true });
        assert.equal(await registry.digestOf("v1.0.0"), undefined);
        await dev.set({ digest: digests.v1 });
        succeeded(await dev.up(), "pulumi up of the pin");
        await assertRunning(digests.v1);
        await dev.remove("digest");
        await dev.set({ version: "v2.0.0" });
        succeeded(await dev.up(), "pulumi up back to v2");
        await assertRunning(digests.v2);
    });

    it("8. promotes from the dev stack on the file backend", async () => {
        const prod = new Stack(env, "prod");
        // stacks/Pulumi.prod.yaml names a version and a namespace of its own; promotion takes dev's.
        await prod.init({ image, name: "payment-prod", build: "false", promoteFrom: "organization/released-service/dev", namespace: "default", replicas: "1" });
        await prod.remove("version");
        const result = await prod.up();
        succeeded(result, "pulumi up of prod");
        assert.deepEqual(await prod.outputs(), { imageDigest: digests.v2, imageRef: `${image}@${digests.v2}`, version: "v2.0.0", built: false });
        succeeded(await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "prod"]), "destroy prod");
    });

    it("9. rolls a build: false stack back by version on the plain-HTTP registry, and on a TLS registry with credentials from config", async () => {
        const staging = new Stack(env, "staging");
        await staging.init({ image, name: "payment-staging", version: "v2.0.0", build: "false" });
        succeeded(await staging.up(), "staging at v2");
        assert.equal((await staging.outputs()).imageDigest, digests.v2);

        // The same storage behind HTTPS and a token service, as a private registry would be.
        const privateImage = `${env.privateRegistry.host}/payment-api`;
        assert.ok(privateImage.startsWith(PRIVATE_REGISTRY_NAME));
        await staging.set({ image: privateImage, registryUsername: PRIVATE_USER, version: "v2.0.0" });
        await staging.set({ registryPassword: PRIVATE_PASSWORD }, { secret: true });
        const before = env.privateRegistry.tokenRequests();
        succeeded(await staging.up(), "staging on the private registry");
        assert.ok(env.privateRegistry.tokenRequests() > before, "the look-up took a token with the configured credentials");
        await staging.set({ version: "v1.0.0" });
        // v1's tag was removed in scenario 7; push it back as a release pipeline would.
        fs.mkdirSync(path.join(env.registry.storage, "docker", "registry", "v2", "repositories", "payment-api", "_manifests", "tags", "v1.0.0", "current"), { recursive: true });
        fs.writeFileSync(
            path.join(env.registry.storage, "docker", "registry", "v2", "repositories", "payment-api", "_manifests", "tags", "v1.0.0", "current", "link"),
            digests.v1,
        );
        succeeded(await staging.up(), "staging rolled back to v1 on the private registry");
        assert.deepEqual(await staging.outputs(), {
            imageDigest: digests.v1,
            imageRef: `${privateImage}@${digests.v1}`,
            version: "v1.0.0",
            built: false,
        });
        // 13. Nowhere in plain text: state files and checkpoints, history, outputs.
        const state = fs.readdirSync(env.stateDir, { recursive: true }).map(String);
        const files = state.filter((name) => /\.json$/.test(name));
        assert.ok(files.some((name) => name.includes("staging")), "the staging stack's state was written");
        for (const file of files) {
            const text = fs.readFileSync(path.join(env.stateDir, file), "utf8");
            assert.equal(text.includes(PRIVATE_PASSWORD), false, `the registry password is not in plain text in ${file}`);
        }
        const history = succeeded(await env.pulumi(["stack", "history", "--json", "--stack", "staging"]), "pulumi stack history");
        assert.equal(history.stdout.includes(PRIVATE_PASSWORD), false, "history");
        const outputs = succeeded(await env.pulumi(["stack", "output", "--json", "--show-secrets", "--stack", "staging"]), "pulumi stack output");
        assert.equal(outputs.stdout.includes(PRIVATE_PASSWORD), false, "outputs");
        succeeded(await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "staging"]), "destroy staging");
    });

    it("14. leaves every pushed tag in the registry when the stack is destroyed", async () => {
        const tags = await registry.tags();
        assert.ok(tags.includes("v1.0.0") && tags.includes("v2.0.0"), tags.join(", "));
        const before = await Promise.all(tags.map((tag) => registry.digestOf(tag)));
        const destroyStack = new Stack(env, "destroyed");
        const context = buildContext(env, "v4", "v4.0.0", "payment-api 4.0.0");
        await destroyStack.init({ image, name: "payment-destroyed", version: "v4.0.0", context, builder: BUILDER });
        succeeded(await destroyStack.up(), "pulumi up");
        const v4 = await registry.digestOf("v4.0.0");
        assert.match(String(v4), DIGEST);
        succeeded(await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "destroyed"]), "pulumi destroy");
        assert.equal(await registry.digestOf("v4.0.0"), v4, "the destroyed stack's release is still there");
        assert.deepEqual(await Promise.all(tags.map((tag) => registry.digestOf(tag))), before);
    });
});
