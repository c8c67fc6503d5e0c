// SIGINT and SIGTERM at each phase of the commands that change a stack (contract rule 17): the
// config as it was or as the command writes it, the signal passed to pulumi once during its update,
// the exact last line and exit code, and a second interrupt's.

import * as assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { Interrupts, type InterruptSignal, listenForSignals } from "../../cli/core/interrupt";
import { DIGESTS, FakeStack, type FakeStackOptions, IMAGE, runCli, tableRegistry } from "./fakes";

const V1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
const REGISTRY = { registryClient: async () => tableRegistry([V1, `${IMAGE}@${DIGESTS["v1.2.1"]}`]) };
const PIN_V1 =
    `config released-service:pins={"payment-api":{"asked":{"digest":"${DIGESTS["v1.1.0"]}","version":"v1.1.0"},` +
    `"digest":"${DIGESTS["v1.0.0"]}","update":1,"version":"v1.0.0"}}`;
const HOLD_V1 =
    `config released-service:holds={"payment-api":{"at":"2025-03-22T10:00:00Z","by":"Grace Hopper <grace@example.com>","digest":"${DIGESTS["v1.0.0"]}",` +
    `"reason":"rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})"}}`;
const ROLLBACK_MESSAGE = `rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})`;
const CANCELLING = (signal: InterruptSignal): string =>
    `${signal} received: pulumi is cancelling the update of stack dev: operations in flight finish, its checkpoint is written and its lock released. ` +
    "Interrupt again to stop at once, which may leave the lock.\n";

/** A stack whose `moment` sends `signals` (the first time it comes, or the `nth`). */
function interruptedStack(moment: NonNullable<FakeStackOptions["at"]> extends (m: infer M) => unknown ? M : never, signals: InterruptSignal[], options: FakeStackOptions & { nth?: number } = {}) {
    const interrupts = new Interrupts();
    let seen = 0;
    const stack = new FakeStack({
        ...options,
        at: (at) => {
            if (at === moment && ++seen === (options.nth ?? 1)) {
                for (const signal of signals) {
                    interrupts.receive(signal);
                }
            }
        },
    });
    return { stack, interrupts };
}

describe("cli interrupts", () => {
    describe("the signal state", () => {
        it("turns the process's SIGINT and SIGTERM into interrupts while it listens, and no longer after", () => {
            const process = new EventEmitter();
            const interrupts = new Interrupts();
            const stop = listenForSignals(interrupts, process as unknown as NodeJS.Process);
            assert.equal(process.listenerCount("SIGINT"), 1);
            interrupts.enter({ waits: true, stop: () => "stopped" });
            process.emit("SIGTERM");
            assert.equal(interrupts.received, "SIGTERM");
            assert.equal(interrupts.signal.aborted, true);
            stop();
            assert.equal(process.listenerCount("SIGINT") + process.listenerCount("SIGTERM"), 0);
        });

        it("stops at once outside any phase, saying nothing was changed", async () => {
            const { stack, interrupts } = interruptedStack("read", ["SIGINT"]);
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.equal(outcome.stderr, "interrupted (SIGINT): released-service rollback stopped; nothing was changed\n");
            // The abandoned command refuses to start its config edit.
            await new Promise((resolve) => setImmediate(resolve));
            assert.deepEqual(stack.changes, []);
            assert.deepEqual(stack.configNow, before);
        });
    });

    describe("rollback", () => {
        const STOPPED = "interrupted (SIGINT): the rollback of stack dev stopped before pulumi up; stacks/Pulumi.dev.yaml is as it was, and nothing was changed\n";

        it("during its config edit: lets the edit end, puts the config back byte for byte and exits 130", async () => {
            const { stack, interrupts } = interruptedStack("edit", ["SIGINT"]);
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.equal(outcome.stderr, STOPPED);
            assert.deepEqual(stack.changes, [PIN_V1, HOLD_V1, "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
        });

        it("during its preview: aborts it, puts the config back and exits 143 on SIGTERM", async () => {
            const { stack, interrupts } = interruptedStack("preview", ["SIGTERM"]);
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 143);
            assert.equal(outcome.stderr, STOPPED.replace("SIGINT", "SIGTERM"));
            assert.deepEqual(stack.changes, [PIN_V1, HOLD_V1, "preview", "config restored"]);
            assert.deepEqual(stack.configNow, before);
        });

        it("at its question: puts the config back", async () => {
            const stack = new FakeStack();
            const interrupts = new Interrupts();
            const before = stack.configNow;
            const outcome = await runCli(
                ["rollback", "--to", "1"],
                {
                    stack,
                    interrupts,
                    ...REGISTRY,
                    confirm: async (_question, signal) => {
                        interrupts.receive("SIGINT");
                        throw signal?.reason;
                    },
                },
                { stdinTTY: true },
            );
            assert.equal(outcome.code, 130);
            assert.equal(outcome.stderr, STOPPED);
            assert.deepEqual(stack.changes, [PIN_V1, HOLD_V1, "preview", "config restored"]);
            assert.deepEqual(stack.configNow, before);
        });

        it("during pulumi up, cancelled before the workload changed: passes the signal on once, waits, and puts the config back", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], { cancels: "before the workload" });
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PIN_V1, HOLD_V1, "preview", `up: ${ROLLBACK_MESSAGE}`, "pulumi got SIGINT", "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    "interrupted (SIGINT): pulumi up of stack dev was cancelled before any workload changed: it runs what it ran before, stacks/Pulumi.dev.yaml is as it was, " +
                    "and nothing was changed; to do it after all: released-service rollback --to 1 --stack dev\n",
            );
        });

        it("during pulumi up, cancelled after the workload changed: keeps the config as the rollback writes it and names the command that finishes it", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], { cancels: "after the workload" });
            const outcome = await runCli(["rollback", "--to", "1", "--yes", "--service", "payment-api"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PIN_V1, HOLD_V1, "preview", `up: ${ROLLBACK_MESSAGE}`, "pulumi got SIGINT"]);
            assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    `interrupted (SIGINT): pulumi up of stack dev was cancelled after every workload moved to payment-api v1.0.0 (${DIGESTS["v1.0.0"].slice(0, 19)}); ` +
                    `stacks/Pulumi.dev.yaml pins payment-api v1.0.0 (${DIGESTS["v1.0.0"].slice(0, 19)}): finish the rollback of stack dev with ` +
                    "released-service rollback --to 1 --stack dev --service payment-api --yes\n",
            );
        });
    });
});
