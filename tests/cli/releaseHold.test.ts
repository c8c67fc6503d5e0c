// The hold a rollback leaves in the stack config (released-service:holds, keyed by service), and
// `released-service release-hold` lifting it with the pin that went with it.

import * as assert from "node:assert/strict";
import { DIGESTS, FakeStack, IMAGE, runCli, tableRegistry } from "./fakes";

const V1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
const HOLDS = "released-service:holds";
const PINS = "released-service:pins";
const ADA = { digest: DIGESTS["v1.1.0"], by: "Ada", at: "2025-03-21T16:45:10Z", reason: "INC-230" };

describe("cli hold", () => {
    it("rollback records the held digest, who, when and why, under the service's name", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["rollback", "--to", "1", "--yes", "--reason", "INC-231: v1.1.0 drops payments"], {
            stack,
            registryClient: async () => tableRegistry([V1]),
        });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.configNow[HOLDS], {
            "payment-api": { digest: DIGESTS["v1.0.0"], by: "Grace Hopper <grace@example.com>", at: "2025-03-22T10:00:00Z", reason: "INC-231: v1.1.0 drops payments" },
        });
        // The hold goes in with the pin, before the preview, so the preview already runs under it.
        assert.deepEqual(stack.changes.indexOf("preview"), 2);
        // The command never writes the bundled program's own keys.
        assert.deepEqual(
            stack.changes.filter((change) => /released-service:(version|digest|hold)[=\s]/.test(change)),
            [],
        );
    });

    it("rollback --no-hold sets none, and lifts a hold on another digest, saying so", async () => {
        const stack = new FakeStack({ config: { "released-service:image": IMAGE, "released-service:version": "v1.1.0", [HOLDS]: { "payment-api": ADA } } });
        const outcome = await runCli(["rollback", "--to", "1", "--yes", "--no-hold"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.equal(stack.configNow[HOLDS], undefined);
        const lifting = `--no-hold: lifting the hold of stack dev on service payment-api on ${DIGESTS["v1.1.0"]} (INC-230; set by Ada at 2025-03-21T16:45:10Z).\n`;
        assert.ok(outcome.stdout.startsWith(lifting), outcome.stdout);
        assert.ok(!outcome.stdout.includes("holds"), outcome.stdout);
        assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
    });

    it("a failed preview puts a replaced hold back as it was", async () => {
        const config = { "released-service:image": IMAGE, "released-service:version": "v1.1.0", [HOLDS]: { "payment-api": ADA } };
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

    it("release-hold removes the hold and the pin its rollback left, says whose it was and what the args ran last", async () => {
        const held = { ...ADA, digest: DIGESTS["v1.0.0"] };
        const stack = new FakeStack({
            config: {
                "released-service:image": IMAGE,
                [HOLDS]: { "payment-api": held },
                [PINS]: { "payment-api": { version: "v1.0.0", digest: DIGESTS["v1.0.0"], update: 1, asked: { version: "v1.1.0" } } },
            },
        });
        const outcome = await runCli(["release-hold", "--stack", "dev"], { stack });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes, [`config rm ${HOLDS}`, `config rm ${PINS}`]);
        assert.equal(
            outcome.stdout,
            `Lifted the hold on ${DIGESTS["v1.0.0"]} (INC-230; set by Ada at 2025-03-21T16:45:10Z) and its pin of v1.0.0 from update #1 of service payment-api in stack dev.\n` +
                `The program's own args last ran service payment-api at v1.1.0 (sha256:a1a1a1a1a1a1) in update #6, the newest without a pin for it: ` +
                "the next update of stack dev runs that unless the args changed since (pulumi preview --stack dev shows it).\n" +
                "Updates of stack dev run what the args ask again. Commit stacks/Pulumi.dev.yaml so the hold and the pin are gone from git too.\n",
        );
    });

    it("rollback --no-hold leaves a pin alone, which release-hold lifts", async () => {
        const stack = new FakeStack();
        const rollback = await runCli(["rollback", "--to", "1", "--yes", "--no-hold"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(rollback.code, 0, rollback.stderr);
        assert.equal(stack.configNow[HOLDS], undefined);
        const outcome = await runCli(["release-hold", "--service", "payment-api"], { stack });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes.slice(-1), [`config rm ${PINS}`]);
        assert.ok(outcome.stdout.startsWith(`Lifted the pin of v1.0.0 (${DIGESTS["v1.0.0"]}) from update #1 of service payment-api in stack dev.\n`), outcome.stdout);
    });

    it("a pin holds against unchanged args, and refuses an update whose args ask for another release until release-hold lifts it", async () => {
        const stack = new FakeStack({ versions: { "v1.2.1": DIGESTS["v1.2.1"] } });
        const rollback = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(rollback.code, 0, rollback.stderr);
        const again = await runCli(["up", "--yes"], { stack });
        assert.equal(again.code, 0, again.stderr);
        assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
        await stack.editConfig({ set: { "released-service:version": "v1.2.1" }, remove: ["released-service:digest"] });
        const fix = await runCli(["up", "--yes"], { stack });
        assert.equal(
            fix.stderr,
            "error: pulumi up of stack dev failed: service payment-api is pinned to version v1.0.0 " +
                `(${DIGESTS["v1.0.0"]}) from update #1, set when its args asked for version v1.1.0 and digest ${DIGESTS["v1.1.0"]}; ` +
                "they now ask for version v1.2.1. The pin would hide that change, so nothing was changed: lift the pin with " +
                "`released-service release-hold --stack dev --service payment-api` to run what the args ask, or set them back to " +
                `version v1.1.0 and digest ${DIGESTS["v1.1.0"]} to keep it.\n`,
        );
        assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
        assert.equal((await runCli(["release-hold", "--service", "payment-api"], { stack })).code, 0);
        const shipped = await runCli(["up", "--yes"], { stack });
        assert.equal(shipped.code, 0, shipped.stderr);
        assert.equal(stack.deployed, DIGESTS["v1.2.1"]);
    });

    it("release-hold without a hold changes nothing and exits 0", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["release-hold"], { stack });
        assert.deepEqual([outcome.code, outcome.stdout, stack.changes], [0, "Stack dev has no hold or pin; nothing to do.\n", []]);
    });
});
