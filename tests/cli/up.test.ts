// `released-service up`: preview, ask, update; with --atomic, a failed rollout is undone by an
// update pinned to the last successful release.

import * as assert from "node:assert/strict";
import { textOf } from "../../cli/core/config";
import { DIGESTS, FakeStack, type FakeStackOptions, runCli } from "./fakes";

const BROKEN = `sha256:${"de".repeat(32)}`;

/** The dev stack asked to run v1.3.0, whose pods never become ready. */
function brokenRelease(failsAfterDeployment = true, more: FakeStackOptions = {}): FakeStack {
    return new FakeStack({
        config: {
            "released-service:image": "localhost:5000/payment-api",
            "released-service:version": "v1.3.0",
            "released-service:name": "payment-api",
            "released-service:namespace": "payments",
        },
        versions: { "v1.3.0": BROKEN },
        // The release fails wherever it runs: unless a pin runs another one instead.
        upFails: (config) =>
            textOf(config, "version") === "v1.3.0" && config["released-service:pins"] === undefined ? "Deployment payments/payment-api did not become ready within 60s" : undefined,
        failsAfterDeployment,
        ...more,
    });
}

describe("cli up", () => {
    it("previews, updates, and says what runs", async () => {
        const stack = new FakeStack({ config: { "released-service:image": "localhost:5000/payment-api", "released-service:version": "v1.2.1" }, versions: { "v1.2.1": DIGESTS["v1.2.1"] } });
        const outcome = await runCli(["up", "--yes"], { stack });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes, ["preview", "up: released-service up"]);
        assert.ok(outcome.stdout.includes("The update of stack dev changes: 1 to update.\n"), outcome.stdout);
        assert.ok(outcome.stdout.endsWith(`Updated stack dev: it runs payment-api v1.2.1 ${DIGESTS["v1.2.1"]}.\n`), outcome.stdout);
    });

    it("without --atomic, a failed update is reported and left as it is, exit 3", async () => {
        const stack = brokenRelease();
        const outcome = await runCli(["up", "--yes"], { stack });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stderr, "error: pulumi up of stack dev failed: Deployment payments/payment-api did not become ready within 60s\n");
        assert.equal(stack.deployed, BROKEN);
    });

    it("--atomic undoes a failed rollout whose state kept no outputs of the component, reading the workload its last successful update recorded", async () => {
        const stack = brokenRelease(true, { failureLosesOutputs: true });
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.equal(outcome.code, 1, outcome.stderr);
        assert.ok(outcome.stdout.includes(", and every instance runs its digest.\n"), outcome.stdout);
        // Before the update (the cluster answers), and after the undo.
        assert.deepEqual(outcome.calls.filter((call) => call.startsWith("pods")), [
            "pods -n payments -l app.kubernetes.io/name=payment-api",
            "pods -n payments -l app.kubernetes.io/name=payment-api",
        ]);
    });

    it("--atomic undoes a failed rollout: a second update pinned to the last successful release, every pod back on its digest, exit 1", async () => {
        const stack = brokenRelease();
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.equal(outcome.code, 1, outcome.stderr);
        const back = `payment-api #6 (v1.1.0, ${DIGESTS["v1.1.0"]})`;
        assert.deepEqual(stack.changes, [
            "preview",
            "up: released-service up --atomic",
            // What the failed update's args asked (v1.3.0) is the intent the pin keeps.
            `config released-service:pins={"payment-api":{"asked":{"version":"v1.3.0"},"digest":"${DIGESTS["v1.1.0"]}","update":6,"version":"v1.1.0"}}`,
            `up: undo a failed update: back to ${back}`,
        ]);
        assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
        assert.ok(
            outcome.stdout.includes(
                `\nUpdate #7 of stack dev failed after the workload changed to localhost:5000/payment-api@${BROKEN}:\n` +
                    "Deployment payments/payment-api did not become ready within 60s\n" +
                    `--atomic: returning stack dev to the last successful release, ${back}…\n`,
            ),
            outcome.stdout,
        );
        assert.ok(
            outcome.stdout.endsWith(
                `\nUpdate #7 failed; update #8 returned stack dev to ${back}, and every instance runs its digest.\n` +
                    `stacks/Pulumi.dev.yaml now pins payment-api v1.1.0 ${DIGESTS["v1.1.0"]}. ` +
                    "Fix the release, then lift the pin (released-service release-hold --stack dev --service payment-api) and rerun.\n",
            ),
            outcome.stdout,
        );
        // Before the update (the cluster answers), and after the undo.
        assert.deepEqual(outcome.calls.filter((call) => call.startsWith("pods")), [
            "pods -n payments -l app.kubernetes.io/name=payment-api",
            "pods -n payments -l app.kubernetes.io/name=payment-api",
        ]);
    });

    it("--atomic leaves a stack alone when the update failed before the Deployment changed, exit 3", async () => {
        const stack = brokenRelease(false);
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.equal(outcome.code, 3);
        assert.equal(
            outcome.stderr,
            "error: update #7 of stack dev failed before any workload changed (it still runs " +
                `localhost:5000/payment-api@${DIGESTS["v1.1.0"]}), so there is nothing to undo:\n` +
                "Deployment payments/payment-api did not become ready within 60s\n",
        );
        assert.deepEqual(stack.changes, ["preview", "up: released-service up --atomic"]);
    });

    it("--atomic reports an undo that fails too, exit 3", async () => {
        const stack = new FakeStack({
            config: { "released-service:image": "localhost:5000/payment-api", "released-service:version": "v1.3.0" },
            versions: { "v1.3.0": BROKEN },
            upFails: "cluster unreachable",
            failsAfterDeployment: true,
        });
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.equal(outcome.code, 3);
        assert.equal(
            outcome.stderr,
            "error: update #7 of stack dev failed, and so did the update that was to undo it: cluster unreachable\n" +
                `stacks/Pulumi.dev.yaml now pins payment-api v1.1.0 ${DIGESTS["v1.1.0"]}; check the cluster with released-service status --stack dev\n`,
        );
    });

    it("--atomic needs an earlier successful release", async () => {
        const stack = new FakeStack({ entries: [] });
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.deepEqual(
            [outcome.code, outcome.stderr, stack.changes],
            [2, "error: stack dev has no successful update with a known digest to return to: run its first update without --atomic (see released-service up --help)\n", []],
        );
    });

    it("asks on a terminal, and a no changes nothing", async () => {
        const stack = brokenRelease();
        const outcome = await runCli(["up"], { stack, answer: false }, { stdinTTY: true });
        assert.deepEqual([outcome.code, stack.changes], [1, ["preview"]]);
        assert.ok(outcome.stdout.endsWith("Update of stack dev cancelled; nothing was changed.\n"));
        assert.deepEqual(outcome.calls.slice(-1), ["ask: Update stack dev? [y/N] "]);
    });

    it("needs --yes without a terminal", async () => {
        const stack = brokenRelease();
        const outcome = await runCli(["up", "--atomic"], { stack });
        assert.deepEqual([outcome.code, outcome.stderr, stack.changes], [2, "error: up changes the stack: pass --yes to run it without a terminal (see released-service up --help)\n", []]);
    });
});
