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
/** The pin as the rollback writes it before its preview, which reads what the args ask. */
const PENDING_PIN_V1 = `config released-service:pins={"payment-api":{"digest":"${DIGESTS["v1.0.0"]}","update":1,"version":"v1.0.0"}}`;
const HOLD_V1 =
    `config released-service:holds={"payment-api":{"at":"2025-03-22T10:00:00Z","by":"Grace Hopper <grace@example.com>","digest":"${DIGESTS["v1.0.0"]}",` +
    `"reason":"rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})"}}`;
const SHORT_V1 = DIGESTS["v1.0.0"].slice(0, 19);
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
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
        });

        it("during its preview: aborts it, puts the config back and exits 143 on SIGTERM", async () => {
            const { stack, interrupts } = interruptedStack("preview", ["SIGTERM"]);
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 143);
            assert.equal(outcome.stderr, STOPPED.replace("SIGINT", "SIGTERM"));
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", "config restored"]);
            assert.deepEqual(stack.configNow, before);
        });

        it("during its preview, when pulumi dies of the terminal's Ctrl-C before this process sees it: waits for it, puts the config back and exits 130", async () => {
            const interrupts = new Interrupts();
            const stack = new FakeStack({
                previewFails: "pulumi preview of stack dev failed: Command was killed with SIGINT (User interruption with CTRL-C): pulumi preview --diff --stack dev",
                at: (moment) => {
                    if (moment === "preview") {
                        setTimeout(() => interrupts.receive("SIGINT"), 20);
                    }
                },
            });
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.equal(outcome.stderr, STOPPED);
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", "config restored"]);
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
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, "config restored"]);
            assert.deepEqual(stack.configNow, before);
        });

        it("during pulumi up, cancelled before the workload changed: passes the signal on once, waits, and puts the config back", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], { cancels: "before the workload" });
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, `up: ${ROLLBACK_MESSAGE}`, "pulumi got SIGINT", "config restored"]);
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
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, `up: ${ROLLBACK_MESSAGE}`, "pulumi got SIGINT"]);
            assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    `interrupted (SIGINT): pulumi up of stack dev was cancelled after every workload moved to payment-api v1.0.0 (${SHORT_V1}); ` +
                    `stacks/Pulumi.dev.yaml pins payment-api v1.0.0 (${SHORT_V1}): finish the rollback of stack dev with ` +
                    "released-service rollback --to 1 --stack dev --service payment-api --yes\n",
            );
        });

        it("during pulumi up that completes before the cancel takes hold: keeps the rollback and says to commit it", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"]);
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, `up: ${ROLLBACK_MESSAGE}`, "pulumi got SIGINT"]);
            assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    `interrupted (SIGINT): the rollback of stack dev completed before pulumi could cancel it: stack dev runs payment-api v1.0.0 (${SHORT_V1}), ` +
                    `and stacks/Pulumi.dev.yaml pins it; commit it: git add stacks/Pulumi.dev.yaml && git commit -m "${ROLLBACK_MESSAGE}"\n`,
            );
            assert.ok(!outcome.stdout.includes("Rolled back"), outcome.stdout);
        });

        it("passes a SIGTERM sent to the command alone (a CI job cancelled) on to pulumi once, and exits 143", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGTERM"], { cancels: "before the workload" });
            const before = stack.configNow;
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 143);
            assert.equal(stack.changes.filter((change) => change.startsWith("pulumi got")).join(), "pulumi got SIGTERM");
            assert.deepEqual(stack.configNow, before);
            assert.ok(outcome.stderr.startsWith(CANCELLING("SIGTERM") + "interrupted (SIGTERM): pulumi up of stack dev was cancelled before any workload changed"), outcome.stderr);
        });

        it("a second interrupt during pulumi up stops at once, passing it on too, and says what status shows and how to recover", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT", "SIGINT"], { cancels: "before the workload" });
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, `up: ${ROLLBACK_MESSAGE}`, "pulumi got SIGINT", "pulumi got SIGINT"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    "interrupted (SIGINT): stopped at once during pulumi up of stack dev, and pulumi with it: the stack's lock may be left, and each workload may run its old release " +
                    `or payment-api v1.0.0 (${SHORT_V1}), which stacks/Pulumi.dev.yaml pins. released-service status --stack dev shows what every instance runs and names any lock left; ` +
                    "once no update runs: pulumi cancel --stack dev --yes, then released-service rollback --to 1 --stack dev --yes\n",
            );
        });

        it("after pulumi up: stops at once, saying the rollback completed", async () => {
            // The first read is the command's look at the stack; the second comes after the update.
            const { stack, interrupts } = interruptedStack("read", ["SIGINT"], { nth: 2 });
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, interrupts, ...REGISTRY });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, `up: ${ROLLBACK_MESSAGE}`]);
            assert.equal(
                outcome.stderr,
                `interrupted (SIGINT): the rollback of stack dev had completed: it runs #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]}), and stacks/Pulumi.dev.yaml pins it; ` +
                    `commit it: git add stacks/Pulumi.dev.yaml && git commit -m "${ROLLBACK_MESSAGE}"\n`,
            );
        });
    });

    describe("drill", () => {
        const PRESENT = { registryClient: async () => tableRegistry([`${IMAGE}@${DIGESTS["v1.2.1"]}`, V1]) };
        const PIN = `config released-service:pins={"payment-api":{"asked":{"digest":"${DIGESTS["v1.1.0"]}","version":"v1.1.0"},"digest":"${DIGESTS["v1.2.1"]}","update":4,"version":"v1.2.1"}}`;
        const PENDING = `config released-service:pins={"payment-api":{"digest":"${DIGESTS["v1.2.1"]}","update":4,"version":"v1.2.1"}}`;
        const BACK = `up: drill: rollback to payment-api #4 (v1.2.1, ${DIGESTS["v1.2.1"]})`;
        const FORWARD = `up: drill: roll forward to payment-api v1.1.0 (${DIGESTS["v1.1.0"]})`;
        const SHORT_V121 = DIGESTS["v1.2.1"].slice(0, 19);
        const SHORT_V110 = DIGESTS["v1.1.0"].slice(0, 19);
        const drill = (stack: FakeStack, interrupts: Interrupts, more = {}) => runCli(["drill", "--yes"], { stack, interrupts, ...PRESENT, ...more });

        it("during its rollback's config edit: puts the config back and changes nothing", async () => {
            const { stack, interrupts } = interruptedStack("edit", ["SIGINT"]);
            const before = stack.configNow;
            const outcome = await drill(stack, interrupts);
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING, "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(outcome.stderr, "interrupted (SIGINT): the drill of stack dev stopped before its rollback's pulumi up; stacks/Pulumi.dev.yaml is as it began, and nothing was changed\n");
        });

        it("during its rollback's pulumi up, cancelled after the workload moved: runs no roll forward, puts the config back and names the update that rolls forward", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], { cancels: "after the workload" });
            const before = stack.configNow;
            const outcome = await drill(stack, interrupts);
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING, "preview", PIN, BACK, "pulumi got SIGINT", "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, DIGESTS["v1.2.1"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    `interrupted (SIGINT): the drill of stack dev stopped after pulumi up of its rollback was cancelled: payment-api v1.2.1 (${SHORT_V121}) still runs the drill's rollback; ` +
                    "stacks/Pulumi.dev.yaml is as it began, so the next update rolls forward: released-service up --stack dev --yes\n",
            );
        });

        it("during its rollback's pulumi up, cancelled before the workload moved: nothing was changed", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGTERM"], { cancels: "before the workload" });
            const before = stack.configNow;
            const outcome = await drill(stack, interrupts);
            assert.equal(outcome.code, 143);
            assert.deepEqual(stack.changes, [PENDING, "preview", PIN, BACK, "pulumi got SIGTERM", "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGTERM") +
                    "interrupted (SIGTERM): the drill of stack dev stopped: pulumi up of its rollback was cancelled before any workload changed; stacks/Pulumi.dev.yaml is as it began, and nothing was changed\n",
            );
        });

        it("while its rollback lands: stops at once, the config put back", async () => {
            const interrupts = new Interrupts();
            const stack = new FakeStack();
            const before = stack.configNow;
            let listings = 0;
            const outcome = await drill(stack, interrupts, {
                // The first listing checks the cluster answers; the second waits for the rollback.
                listPods: async (namespace: string | undefined, selector: string | undefined) => {
                    if (++listings === 2) {
                        interrupts.receive("SIGINT");
                    }
                    return stack.pods(namespace, selector);
                },
            });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING, "preview", PIN, BACK, "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(
                outcome.stderr,
                `interrupted (SIGINT): the drill of stack dev stopped while its rollback landed: pulumi up had moved payment-api v1.2.1 (${SHORT_V121}); ` +
                    "stacks/Pulumi.dev.yaml is as it began, so the next update rolls forward: released-service up --stack dev --yes\n",
            );
        });

        it("during its roll forward's pulumi up, completed anyway: every service is back and the config as it began", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], { nth: 2 });
            const before = stack.configNow;
            const outcome = await drill(stack, interrupts);
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING, "preview", PIN, BACK, "config rm released-service:pins", FORWARD, "pulumi got SIGINT", "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    `interrupted (SIGINT): the drill of stack dev stopped after pulumi up of its roll forward completed: every service runs the release it began on (payment-api v1.1.0 (${SHORT_V110})), ` +
                    "and stacks/Pulumi.dev.yaml is as it began\n",
            );
        });

        it("a second interrupt during its pulumi up stops at once with the config as it began, naming pulumi cancel and the roll forward", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT", "SIGINT"]);
            const before = stack.configNow;
            const outcome = await drill(stack, interrupts);
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, [PENDING, "preview", PIN, BACK, "pulumi got SIGINT", "pulumi got SIGINT", "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    "interrupted (SIGINT): stopped at once during pulumi up of the rollback of the drill of stack dev, and pulumi with it: the stack's lock may be left, " +
                    `and each workload may run payment-api v1.1.0 (${SHORT_V110}) or payment-api v1.2.1 (${SHORT_V121}); stacks/Pulumi.dev.yaml is as it began. ` +
                    "released-service status --stack dev shows what every instance runs and names any lock left; once no update runs: pulumi cancel --stack dev --yes, " +
                    "then released-service up --stack dev --yes rolls forward\n",
            );
        });
    });

    describe("up --atomic", () => {
        it("during its preview: nothing was changed", async () => {
            const { stack, interrupts } = interruptedStack("preview", ["SIGINT"]);
            const outcome = await runCli(["up", "--atomic", "--yes"], { stack, interrupts });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, ["preview"]);
            assert.equal(outcome.stderr, "interrupted (SIGINT): the update of stack dev stopped before pulumi up; nothing was changed\n");
        });

        it("during pulumi up, cancelled after the workload changed: starts no undo, and names the rollback to the last successful release", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], {
                cancels: "after the workload",
                config: { ...new FakeStack().configNow, "released-service:version": "v1.2.0", "released-service:digest": DIGESTS["v1.2.0"] },
            });
            const before = stack.configNow;
            const outcome = await runCli(["up", "--atomic", "--yes"], { stack, interrupts });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, ["preview", "up: released-service up --atomic", "pulumi got SIGINT"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, DIGESTS["v1.2.0"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    "interrupted (SIGINT): pulumi up of stack dev was cancelled after the workload of payment-api changed; --atomic starts no undo after an interrupt; " +
                    "to return to the last successful release: released-service rollback --to 6 --stack dev --yes\n",
            );
        });

        it("during pulumi up, cancelled before the workload changed: nothing was changed", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGTERM"], { cancels: "before the workload" });
            const outcome = await runCli(["up", "--atomic", "--yes"], { stack, interrupts });
            assert.equal(outcome.code, 143);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGTERM") +
                    "interrupted (SIGTERM): pulumi up of stack dev was cancelled before any workload changed: it runs what it ran before, and nothing was changed; " +
                    "to update after all: released-service up --atomic --stack dev\n",
            );
        });

        it("a second interrupt during pulumi up stops at once, naming pulumi cancel and the rollback", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT", "SIGTERM"], { cancels: "before the workload" });
            const outcome = await runCli(["up", "--atomic", "--yes"], { stack, interrupts });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, ["preview", "up: released-service up --atomic", "pulumi got SIGINT", "pulumi got SIGTERM"]);
            assert.equal(
                outcome.stderr,
                CANCELLING("SIGINT") +
                    "interrupted (SIGINT): stopped at once during pulumi up of stack dev, and pulumi with it: the stack's lock may be left, and a workload may be half changed. " +
                    "released-service status --stack dev shows what every instance runs and names any lock left; once no update runs: pulumi cancel --stack dev --yes, " +
                    "then released-service rollback --to 6 --stack dev --yes\n",
            );
        });
    });

    describe("up --atomic's undo", () => {
        const BROKEN = `sha256:${"de".repeat(32)}`;
        const broken = (options: FakeStackOptions & { nth?: number }): FakeStackOptions & { nth?: number } => ({
            config: {
                "released-service:image": IMAGE,
                "released-service:version": "v1.3.0",
                "released-service:name": "payment-api",
                "released-service:namespace": "payments",
            },
            versions: { "v1.3.0": BROKEN },
            upFails: (config) => (config["released-service:pins"] === undefined ? "Deployment payments/payment-api did not become ready within 60s" : undefined),
            failsAfterDeployment: true,
            ...options,
        });
        const PIN_V110 = `config released-service:pins={"payment-api":{"asked":{"version":"v1.3.0"},"digest":"${DIGESTS["v1.1.0"]}","update":6,"version":"v1.1.0"}}`;
        const UNDO = `up: undo a failed update: back to payment-api #6 (v1.1.0, ${DIGESTS["v1.1.0"]})`;

        it("after the failed update, before the undo starts: stops at once, naming the rollback", async () => {
            // The first read is the command's look at the stack; the second, the undo's.
            const { stack, interrupts } = interruptedStack("read", ["SIGINT"], broken({ nth: 2 }));
            const outcome = await runCli(["up", "--atomic", "--yes"], { stack, interrupts });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, ["preview", "up: released-service up --atomic"]);
            assert.equal(
                outcome.stderr,
                "interrupted (SIGINT): pulumi up of stack dev failed, and the command stopped before --atomic's undo: released-service status --stack dev shows what runs; " +
                    "released-service rollback --to 6 --stack dev --yes returns to the last successful release\n",
            );
        });

        it("during the undo's pulumi up, cancelled before the workload moved: the pin goes back out, and the rollback to run is named", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], broken({ cancels: "before the workload", nth: 2 }));
            const before = stack.configNow;
            const outcome = await runCli(["up", "--atomic", "--yes"], { stack, interrupts });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, ["preview", "up: released-service up --atomic", PIN_V110, UNDO, "pulumi got SIGINT", "config restored"]);
            assert.deepEqual(stack.configNow, before);
            assert.equal(stack.deployed, BROKEN);
            assert.ok(
                outcome.stderr.endsWith(
                    CANCELLING("SIGINT") +
                        "interrupted (SIGINT): pulumi up of --atomic's undo of stack dev was cancelled before any workload changed; stacks/Pulumi.dev.yaml is as it was, " +
                        "and payment-api still runs the failed update's release: to return to the last successful release, run released-service rollback --to 6 --stack dev --service payment-api --yes\n",
                ),
                outcome.stderr,
            );
        });

        it("during the undo's pulumi up, cancelled after the workload moved: the pin stays, as the undo writes it", async () => {
            const { stack, interrupts } = interruptedStack("up", ["SIGINT"], broken({ cancels: "after the workload", nth: 2 }));
            const outcome = await runCli(["up", "--atomic", "--yes"], { stack, interrupts });
            assert.equal(outcome.code, 130);
            assert.deepEqual(stack.changes, ["preview", "up: released-service up --atomic", PIN_V110, UNDO, "pulumi got SIGINT"]);
            assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
            assert.ok(
                outcome.stderr.endsWith(
                    `interrupted (SIGINT): pulumi up of stack dev was cancelled after every workload moved to payment-api v1.1.0 (${DIGESTS["v1.1.0"].slice(0, 19)}); ` +
                        `stacks/Pulumi.dev.yaml pins payment-api v1.1.0 (${DIGESTS["v1.1.0"].slice(0, 19)}): finish --atomic's undo of stack dev with ` +
                        "released-service rollback --to 6 --stack dev --service payment-api --yes\n",
                ),
                outcome.stderr,
            );
        });
    });

    describe("release-hold", () => {
        it("during its config edit: puts the config back; after it: says what was lifted", async () => {
            const pinned = () => ({
                ...new FakeStack().configNow,
                "released-service:pins": { "payment-api": { version: "v1.0.0", digest: DIGESTS["v1.0.0"], update: 1, asked: { version: "v1.1.0", digest: DIGESTS["v1.1.0"] } } },
            });
            const during = interruptedStack("edit", ["SIGINT"], { config: pinned() });
            const before = during.stack.configNow;
            const stopped = await runCli(["release-hold"], { stack: during.stack, interrupts: during.interrupts });
            assert.equal(stopped.code, 130);
            assert.deepEqual(during.stack.changes, ["config rm released-service:pins", "config restored"]);
            assert.deepEqual(during.stack.configNow, before);
            assert.equal(stopped.stderr, "interrupted (SIGINT): release-hold of stack dev stopped; stacks/Pulumi.dev.yaml is as it was, and nothing was changed\n");

            const interrupts = new Interrupts();
            const stack = new FakeStack({ config: pinned() });
            stack.history = async () => {
                interrupts.receive("SIGINT");
                return [];
            };
            const after = await runCli(["release-hold"], { stack, interrupts });
            assert.equal(after.code, 130);
            assert.deepEqual(stack.changes, ["config rm released-service:pins"]);
            assert.equal(after.stderr, "interrupted (SIGINT): release-hold of stack dev had lifted the pin of v1.0.0 (" + DIGESTS["v1.0.0"] + ") from update #1 of service payment-api; commit stacks/Pulumi.dev.yaml\n");
        });
    });
});
