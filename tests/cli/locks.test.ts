// What an update that did not end leaves on a DIY backend, read from a real file backend directory
// written as Pulumi writes it (pkg/backend/diy/lock.go, the checkpoint's pending_operations), and
// what status, rollback and up say of it: the lock, the pending operations, and pulumi cancel.

import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { describeLock, describePending, DiyCheckpoints, lockTaker, pendingOperationsOf, type RecordedStates, type Unfinished } from "../../cli/core/state";
import { FileBucket } from "../../cli/core/states/file";
import { DIGESTS, FakeStack, type FakeStackOptions, fileCheckpoints, PULUMI_HOME, readFixture, runCli, tableRegistry } from "./fakes";
import type { PodList } from "../../components/workloads/kubernetes/live";

const LOCK_ID = "0b4c2a7e-5f3d-4e61-9a8b-7c6d5e4f3a21";
const LOCK_KEY = `.pulumi/locks/organization/released-service/dev/${LOCK_ID}.json`;
/** A lock as pulumi writes it: json.Marshal of lockContent, the time with nanoseconds. */
const LOCK = JSON.stringify({ pid: 4242, username: "ada", hostname: "ci-runner-7", timestamp: "2026-12-06T07:01:02.123456789Z" });
const DEPLOYMENT_URN = "urn:pulumi:dev::released-service::released-service:index:ReleasedService$kubernetes:apps/v1:Deployment::payment-api-deployment";
/** A checkpoint written while the Deployment's update was under way. */
const CHECKPOINT = {
    version: 3,
    checkpoint: {
        stack: "organization/released-service/dev",
        latest: {
            manifest: { time: "2026-12-06T07:01:03Z", magic: "", version: "v3.274.1" },
            resources: [],
            pending_operations: [{ resource: { urn: DEPLOYMENT_URN, type: "kubernetes:apps/v1:Deployment" }, type: "updating" }],
        },
    },
};

/** A file backend root holding `files` (key → text or bytes), removed after the test. */
function backend(files: Record<string, string | Uint8Array>): string {
    const root = mkdtempSync(path.join(os.tmpdir(), "released-service-locks-"));
    for (const [key, content] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
        writeFileSync(path.join(root, key), content);
    }
    roots.push(root);
    return root;
}
const roots: string[] = [];

function unfinishedIn(root: string, project = "released-service", stack = "dev"): Promise<Unfinished> {
    return new DiyCheckpoints(new FileBucket(root), project, stack).unfinished();
}

/** The dev stack's recorded states (the fixtures), with its locks read from `root`. */
function statesWithLocksIn(root: string): RecordedStates {
    const recorded = fileCheckpoints(PULUMI_HOME, "released-service", "dev");
    const locks = new DiyCheckpoints(new FileBucket(root), "released-service", "dev");
    return { statesOf: (entries, updates) => recorded.statesOf(entries, updates), unfinished: () => locks.unfinished() };
}

function lockedLine(root: string): string {
    return (
        `stack dev is locked by 1 lock in ${root}: ${LOCK_KEY}, taken by ada@ci-runner-7 (pid 4242) at 2026-12-06T07:01:02Z ` +
        `and its checkpoint lists 1 pending operation (updating ${DEPLOYMENT_URN}). ` +
        "Another update of it is running, or one was killed and left this behind: once none is running, pulumi cancel --stack dev deletes the lock"
    );
}

describe("cli: what an update that did not end leaves behind", () => {
    after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

    it("reads the lock and who took it, as Pulumi's locked-stack error names them, and the checkpoint's pending operations", async () => {
        // The file backend writes a `.attrs` of metadata beside every object: it is no lock of its own.
        const attrs = JSON.stringify({ "user.cache_control": "", "user.content_type": "application/octet-stream" });
        const root = backend({ [LOCK_KEY]: LOCK, [`${LOCK_KEY}.attrs`]: attrs, ".pulumi/stacks/released-service/dev.json": JSON.stringify(CHECKPOINT) });
        assert.deepEqual(await unfinishedIn(root), {
            where: root,
            locks: [{ key: LOCK_KEY, takenBy: "ada@ci-runner-7 (pid 4242) at 2026-12-06T07:01:02Z" }],
            pending: [{ type: "updating", urn: DEPLOYMENT_URN }],
        });
    });

    it("reads a gzipped checkpoint, the pre-project layout, and finds nothing on a stack no update holds", async () => {
        const gzipped = backend({ [LOCK_KEY]: LOCK, ".pulumi/stacks/released-service/dev.json.gz": gzipSync(JSON.stringify(CHECKPOINT)) });
        assert.deepEqual((await unfinishedIn(gzipped)).pending, [{ type: "updating", urn: DEPLOYMENT_URN }]);
        const legacy = backend({ ".pulumi/locks/dev/1.json": LOCK, ".pulumi/stacks/dev.json": JSON.stringify(CHECKPOINT) });
        assert.deepEqual(await unfinishedIn(legacy), {
            where: legacy,
            locks: [{ key: ".pulumi/locks/dev/1.json", takenBy: "ada@ci-runner-7 (pid 4242) at 2026-12-06T07:01:02Z" }],
            pending: [{ type: "updating", urn: DEPLOYMENT_URN }],
        });
        const done = { ...CHECKPOINT, checkpoint: { ...CHECKPOINT.checkpoint, latest: { ...CHECKPOINT.checkpoint.latest, pending_operations: undefined } } };
        const idle = backend({ ".pulumi/stacks/released-service/dev.json": JSON.stringify(done), ".pulumi/locks/organization/released-service/other/1.json": LOCK });
        assert.deepEqual(await unfinishedIn(idle), { where: idle, locks: [], pending: [] });
    });

    it("names a lock it cannot parse by its key alone", () => {
        assert.equal(lockTaker("{not json"), undefined);
        assert.equal(lockTaker(JSON.stringify({ pid: "1" })), undefined);
        assert.equal(lockTaker(JSON.stringify({ pid: 7, username: "bo", hostname: "h", timestamp: "2026-01-02T03:04:05.5+01:00" })), "bo@h (pid 7) at 2026-01-02T03:04:05+01:00");
        assert.deepEqual(pendingOperationsOf({ version: 3, checkpoint: { latest: {} } }), []);
        assert.equal(
            describeLock("prod", { where: "s3://team-state/", locks: [{ key: "a.json" }, { key: "b.json", takenBy: "bo@h (pid 7) at T" }], pending: [] }),
            "stack prod is locked by 2 locks in s3://team-state/: a.json; b.json, taken by bo@h (pid 7) at T. " +
                "Another update of it is running, or one was killed and left this behind: once none is running, pulumi cancel --stack prod deletes the lock",
        );
    });

    it("says pending operations left without a lock (after pulumi cancel) in one line, and nothing when there are none", () => {
        const pending = [{ type: "updating", urn: DEPLOYMENT_URN }];
        assert.equal(
            describePending("dev", { where: "w", locks: [], pending }),
            `The checkpoint of stack dev lists 1 pending operation (updating ${DEPLOYMENT_URN}) from an update that did not end: the next pulumi up warns of it, and pulumi refresh clears it.`,
        );
        assert.equal(describePending("dev", { where: "w", locks: [{ key: "k" }], pending }), undefined);
        assert.equal(describePending("dev", { where: "w", locks: [], pending: [] }), undefined);
        assert.equal(describeLock("dev", { where: "w", locks: [], pending }), undefined);
    });
});

describe("cli commands on a locked stack", () => {
    after(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));
    const lockedStack = (more: FakeStackOptions = {}): { stack: FakeStack; root: string } => {
        const root = backend({ [LOCK_KEY]: LOCK, ".pulumi/stacks/released-service/dev.json": JSON.stringify(CHECKPOINT) });
        return { stack: new FakeStack({ states: statesWithLocksIn(root), ...more }), root };
    };

    it("rollback refuses before changing anything, naming the lock, the pending operation and pulumi cancel, exit 3", async () => {
        const { stack, root } = lockedStack();
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([`localhost:5000/payment-api@${DIGESTS["v1.0.0"]}`]) });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stderr, `error: ${lockedLine(root)}\nnothing was changed\n`);
        assert.deepEqual(stack.changes, []);
    });

    it("rollback goes on once pulumi cancel deleted the lock, saying what the checkpoint still lists", async () => {
        const root = backend({ ".pulumi/stacks/released-service/dev.json": JSON.stringify(CHECKPOINT) });
        const stack = new FakeStack({ states: statesWithLocksIn(root) });
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([`localhost:5000/payment-api@${DIGESTS["v1.0.0"]}`]) });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.ok(outcome.stdout.startsWith(`The checkpoint of stack dev lists 1 pending operation (updating ${DEPLOYMENT_URN}) from an update that did not end:`), outcome.stdout);
        assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
    });

    it("status reports the lock as a finding in one line after what runs, and exits 1; --json lists it", async () => {
        const { stack, root } = lockedStack();
        const pods = readFixture<PodList>("pods-payments-ok.json");
        const outcome = await runCli(["status"], { stack, pods });
        assert.equal(outcome.code, 1);
        assert.ok(outcome.stdout.endsWith(`  ok\n\nLOCKED: ${lockedLine(root)}.\n`), outcome.stdout);
        const json = await runCli(["status", "--json"], { stack, pods });
        assert.equal(json.code, 1);
        assert.deepEqual((JSON.parse(json.stdout) as { unfinished: unknown }).unfinished, {
            locks: [{ key: LOCK_KEY, takenBy: "ada@ci-runner-7 (pid 4242) at 2026-12-06T07:01:02Z" }],
            pendingOperations: [{ type: "updating", urn: DEPLOYMENT_URN }],
        });
    });

    it("up refuses before its preview, naming the lock and pulumi cancel, exit 3", async () => {
        const { stack, root } = lockedStack();
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stderr, `error: ${lockedLine(root)}\nnothing was changed\n`);
        assert.deepEqual(stack.changes, []);
    });

    it("up --atomic whose pulumi up meets another update's lock undoes nothing and says the stack is held, exit 3", async () => {
        const lock =
            "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
            `  file:///state/${LOCK_KEY}: created by ada@ci-runner-7 (pid 4242) at 2026-12-06T07:01:02Z`;
        const stack = new FakeStack({ upFails: lock, failsAfterDeployment: false });
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stderr, `error: another update holds stack dev: ${lock}\nnothing was changed\n`);
        assert.deepEqual(stack.changes, ["preview", "up: released-service up --atomic"]);
    });
});
