// The library API (`released-service/api`): each verb as a function resolving to what the
// command's --json prints, on the same code; a ReleasedServiceError with the command's exit code
// and message when it cannot; an AbortSignal stopping a call as Ctrl-C stops the command.

import * as assert from "node:assert/strict";
import { createApi, ReleasedServiceError } from "../../cli/api";
import type { PodList } from "../../components/workloads/kubernetes/live";
import { DIGESTS, FakeStack, type FakeDeps, IMAGE, fakeDeps, readFixture, runCli, tableRegistry } from "./fakes";

const V1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
const REGISTRY = { registryClient: async () => tableRegistry([V1]) };
const PENDING_PIN_V1 = `config released-service:pins={"payment-api":{"digest":"${DIGESTS["v1.0.0"]}","update":1,"version":"v1.0.0"}}`;
const HOLD_V1 =
    `config released-service:holds={"payment-api":{"at":"2025-03-22T10:00:00Z","by":"Grace Hopper <grace@example.com>","digest":"${DIGESTS["v1.0.0"]}",` +
    `"reason":"rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})"}}`;

function apiOn(fakes: FakeDeps) {
    return createApi(() => fakeDeps(fakes, []));
}

/** The error a call rejected with. */
async function rejection(call: Promise<unknown>): Promise<ReleasedServiceError> {
    try {
        await call;
    } catch (error) {
        assert.ok(error instanceof ReleasedServiceError, String(error));
        return error;
    }
    assert.fail("the call resolved");
}

describe("library api", () => {
    it("history resolves to the rows history --json prints", async () => {
        const command = await runCli(["history", "--json"], { stack: new FakeStack() });
        assert.deepEqual(await apiOn({ stack: new FakeStack() }).history({ stack: "dev" }), JSON.parse(command.stdout));
    });

    it("rollback resolves to what rollback --json prints, and gives what the command prints for people to onOutput", async () => {
        const command = await runCli(["rollback", "--to", "1", "--yes", "--json"], { stack: new FakeStack(), ...REGISTRY });
        const stack = new FakeStack();
        let output = "";
        const result = await apiOn({ stack, ...REGISTRY }).rollback({ stack: "dev", to: 1, onOutput: (text) => (output += text) });
        assert.deepEqual(result, JSON.parse(command.stdout));
        assert.equal(output, command.stderr);
        assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
    });

    it("an AbortSignal during the rollback's preview puts the config back and rejects with exit code 130", async () => {
        const controller = new AbortController();
        const stack = new FakeStack({
            at: (moment) => {
                if (moment === "preview") {
                    controller.abort();
                }
            },
        });
        const before = stack.configNow;
        const error = await rejection(apiOn({ stack, ...REGISTRY }).rollback({ to: 1, signal: controller.signal }));
        assert.deepEqual(
            [error.exitCode, error.message, error.meaning],
            [130, "the rollback of stack dev stopped before pulumi up; stacks/Pulumi.dev.yaml is as it was, and nothing was changed", "interrupted by SIGINT (Ctrl-C); its last line says what it left"],
        );
        assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", "config restored"]);
        assert.deepEqual(stack.configNow, before);
    });

    it("a signal aborted before the call starts nothing", async () => {
        const stack = new FakeStack();
        const error = await rejection(apiOn({ stack, ...REGISTRY }).rollback({ to: 1, signal: AbortSignal.abort() }));
        assert.deepEqual([error.exitCode, error.message], [130, "released-service rollback was aborted before it started; nothing was changed"]);
        assert.deepEqual(stack.changes, []);
    });

    it("a rollback the command refuses rejects with its message and exit code", async () => {
        const error = await rejection(apiOn({ stack: new FakeStack(), registryClient: async () => tableRegistry([]) }).rollback({ to: 1 }));
        assert.deepEqual(
            [error.exitCode, error.message],
            [1, `refusing to roll back stack dev to #1: ${V1} is no longer in the registry (manifest ${DIGESTS["v1.0.0"]} not found); nothing was changed`],
        );
    });

    it("refuses bad arguments by field before doing anything, exit code 2", async () => {
        const stack = new FakeStack();
        const api = apiOn({ stack, ...REGISTRY });
        const limit = await rejection(api.history({ limit: 0 }));
        assert.deepEqual([limit.exitCode, limit.message], [2, "limit must be a whole number of at least 1 (got 0); nothing was done"]);
        const reason = await rejection(api.rollback({ to: 1, hold: false, reason: "INC-1" }));
        assert.deepEqual([reason.exitCode, reason.message], [2, "reason is recorded in the hold, and hold: false sets none: pass one or the other; nothing was done"]);
        const timeout = await rejection(api.drill({ timeoutSeconds: 1.5 }));
        assert.deepEqual([timeout.exitCode, timeout.message], [2, "timeoutSeconds must be a whole number of at least 1 (got 1.5); nothing was done"]);
        assert.deepEqual(stack.changes, []);
    });

    it("a status whose answer is no (drift) still resolves, to what status --json prints, which says so", async () => {
        const pods = readFixture<PodList>("pods-payments-drift.json");
        const command = await runCli(["status", "--json"], { pods });
        assert.equal(command.code, 1);
        const report = await apiOn({ pods }).status();
        assert.deepEqual(report, JSON.parse(command.stdout));
        assert.equal(report.drift, true);
    });

    it("release-hold and up resolve to what their --json prints", async () => {
        const held = {
            "released-service:image": IMAGE,
            "released-service:holds": { "payment-api": { digest: DIGESTS["v1.0.0"], by: "Ada", at: "2025-03-21T16:45:10Z", reason: "INC-230" } },
        };
        const lifted = await runCli(["release-hold", "--json"], { stack: new FakeStack({ config: held }) });
        assert.deepEqual(await apiOn({ stack: new FakeStack({ config: held }) }).releaseHold(), JSON.parse(lifted.stdout));
        const release = { config: { "released-service:image": "localhost:5000/payment-api", "released-service:version": "v1.2.1" }, versions: { "v1.2.1": DIGESTS["v1.2.1"] } };
        const updated = await runCli(["up", "--yes", "--json"], { stack: new FakeStack(release) });
        assert.deepEqual(await apiOn({ stack: new FakeStack(release) }).up(), JSON.parse(updated.stdout));
    });
});
