// The hold a rollback leaves in the stack config, and `released-service release-hold` lifting it.

import * as assert from "node:assert/strict";
import { DIGESTS, FakeStack, IMAGE, runCli, tableRegistry } from "./fakes";

const V1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
const HOLD = "released-service:hold";

describe("cli hold", () => {
    it("rollback records the held digest, who, when and why", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["rollback", "--to", "1", "--yes", "--reason", "INC-231: v1.1.0 drops payments"], {
            stack,
            registryClient: async () => tableRegistry([V1]),
        });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.configNow[HOLD], {
            digest: DIGESTS["v1.0.0"],
            by: "Grace Hopper <grace@example.com>",
            at: "2025-03-22T10:00:00Z",
            reason: "INC-231: v1.1.0 drops payments",
        });
        // The hold goes in with the pin, before the preview, so the preview already runs under it.
        assert.deepEqual(stack.changes.indexOf("preview"), 3);
    });

    it("rollback --no-hold sets none, and lifts a hold on another digest, saying so", async () => {
        const held = { digest: DIGESTS["v1.1.0"], by: "Ada", at: "2025-03-21T16:45:10Z", reason: "INC-230" };
        const stack = new FakeStack({ config: { "released-service:image": IMAGE, "released-service:version": "v1.1.0", [HOLD]: held } });
        const outcome = await runCli(["rollback", "--to", "1", "--yes", "--no-hold"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.equal(stack.configNow[HOLD], undefined);
        assert.ok(outcome.stdout.startsWith(`--no-hold: lifting the hold on ${DIGESTS["v1.1.0"]} (INC-230; set by Ada at 2025-03-21T16:45:10Z).\n`), outcome.stdout);
        assert.ok(!outcome.stdout.includes("The stack holds"), outcome.stdout);
    });

    it("a failed preview puts a replaced hold back as it was", async () => {
        const held = { digest: DIGESTS["v1.1.0"], by: "Ada", at: "2025-03-21T16:45:10Z", reason: "INC-230" };
        const config = { "released-service:image": IMAGE, "released-service:version": "v1.1.0", [HOLD]: held };
        const stack = new FakeStack({ config, previewFails: "error: boom" });
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 3);
        assert.deepEqual(stack.configNow, config);
    });

    it("refuses --reason together with --no-hold", async () => {
        const outcome = await runCli(["rollback", "--to", "1", "--yes", "--no-hold", "--reason", "x"]);
        assert.deepEqual(
            [outcome.code, outcome.stderr],
            [2, "error: --reason is recorded in the hold, and --no-hold sets none: pass one or the other (see released-service rollback --help)\n"],
        );
    });

    it("release-hold removes the hold and says whose it was", async () => {
        const held = { digest: DIGESTS["v1.0.0"], by: "Ada", at: "2025-03-21T16:45:10Z", reason: "INC-230" };
        const stack = new FakeStack({ config: { "released-service:image": IMAGE, [HOLD]: held } });
        const outcome = await runCli(["release-hold", "--stack", "dev"], { stack });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes, [`config rm ${HOLD}`]);
        assert.equal(
            outcome.stdout,
            `Lifted the hold of stack dev on ${DIGESTS["v1.0.0"]} (INC-230; set by Ada at 2025-03-21T16:45:10Z).\n` +
                "Updates may run another digest again. Commit stacks/Pulumi.dev.yaml so the hold is gone from git too.\n",
        );
    });

    it("release-hold without a hold changes nothing and exits 0", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["release-hold"], { stack });
        assert.deepEqual([outcome.code, outcome.stdout, stack.changes], [0, "Stack dev has no hold; nothing to do.\n", []]);
    });
});
