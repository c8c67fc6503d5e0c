// `released-service rollback` against a recorded stack history: target choice, the registry check
// that comes before any change, the config it pins, the message `pulumi up` records.

import * as assert from "node:assert/strict";
import type { UpdateRow } from "../../cli/core/history";
import { RegistryError } from "../../components/registry/client";
import { chooseRollbackTarget } from "../../cli/core/release";
import type { RecordedStates } from "../../cli/core/state";
import { devHistory, DIGESTS, FakeStack, IMAGE, runCli, tableRegistry } from "./fakes";

const row = (update: number, version: string | null, digest: string | null, kind = "update", result = "succeeded"): UpdateRow => ({
    update,
    service: "app",
    time: "2025-03-01T00:00:00Z",
    kind,
    result,
    version,
    digest,
    digestSource: digest ? "state" : null,
    image: IMAGE,
    commit: null,
    dirty: false,
    author: null,
    message: "",
});

// Newest first, like history: #5 refresh, #4 v2 failed, #3 v1 again, #2 v2 with no readable digest, #1 v1.
const ROWS = [
    row(5, "v1", DIGESTS["v1.0.0"], "refresh"),
    row(4, "v2", null, "update", "failed"),
    row(3, "v1", DIGESTS["v1.0.0"]),
    row(2, "v2", null),
    row(1, "v1", DIGESTS["v1.0.0"]),
    row(6, "1234567", DIGESTS["v1.2.1"]),
];

describe("cli rollback target", () => {
    it("takes an update number with or without #, or the newest successful update of a version", () => {
        assert.equal(chooseRollbackTarget("dev", ROWS, "1").update, 1);
        assert.equal(chooseRollbackTarget("dev", ROWS, "#3").update, 3);
        assert.equal(chooseRollbackTarget("dev", ROWS, "v1").update, 3);
        assert.equal(chooseRollbackTarget("dev", ROWS, "version=1234567").update, 6);
    });

    it("refuses targets it cannot return to, saying why", () => {
        const table: [string, string][] = [
            ["9", "no update #9 in this stack's history (it has 6 updates)"],
            ["v3", "no update in this stack's history ran version v3"],
            ["#5", "update #5 was a refresh, not an update; choose an update that deployed a version"],
            ["4", "update #4 failed: roll back to an update that succeeded; `released-service history --stack dev` lists them"],
            ["v2", "version v2 never ran successfully with a known digest (updates #4, #2)"],
            ["2", "update #2 has no recorded digest (not pinned in config, and its state could not be read); nothing was changed"],
        ];
        for (const [to, message] of table) {
            assert.throws(() => chooseRollbackTarget("dev", ROWS, to), { message }, to);
        }
    });
});

describe("cli rollback", () => {
    const V1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
    // The pin records the update it came from and what the args asked (the bundled program's version and digest keys).
    const PIN_V1 =
        `config released-service:pins={"payment-api":{"asked":{"digest":"${DIGESTS["v1.1.0"]}","version":"v1.1.0"},` +
        `"digest":"${DIGESTS["v1.0.0"]}","update":1,"version":"v1.0.0"}}`;
    // Written first without `asked`: the preview run with it reads what the args ask now.
    const PENDING_PIN_V1 = `config released-service:pins={"payment-api":{"digest":"${DIGESTS["v1.0.0"]}","update":1,"version":"v1.0.0"}}`;
    const HOLD_V1 =
        `config released-service:holds={"payment-api":{"at":"2025-03-22T10:00:00Z","by":"Grace Hopper <grace@example.com>","digest":"${DIGESTS["v1.0.0"]}",` +
        `"reason":"rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})"}}`;

    it("checks the digest, pins version and digest of the service, holds it, runs pulumi up with a rollback message, and asks for a commit", async () => {
        const stack = new FakeStack();
        const asked: string[] = [];
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1], asked) });
        assert.equal(outcome.code, 0);
        assert.deepEqual(asked, [V1]);
        const message = `rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})`;
        assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, `up: ${message}`]);
        assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
        assert.equal(
            outcome.stdout,
            [
                `Previewing the rollback of stack dev to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})…`,
                "Previewing update (dev):",
                "    ~ kubernetes:apps/v1:Deployment app update [diff: ~spec]",
                "",
                "The rollback of stack dev changes: 1 to update.",
                `Pinned payment-api version v1.0.0 and digest ${DIGESTS["v1.0.0"]} in stacks/Pulumi.dev.yaml; running pulumi up on stack dev…`,
                "Updating (dev):",
                "Resources:",
                "    ~ 1 updated",
                "",
                `Rolled back stack dev to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]}).`,
                `Stack dev holds payment-api on ${DIGESTS["v1.0.0"]}: an update that would run another digest fails until released-service release-hold --stack dev.`,
                `While service payment-api's args ask for version v1.1.0 and digest ${DIGESTS["v1.1.0"]}, as now, an update of stack dev keeps its pin and warns; ` +
                    "once they ask for another release, it fails until released-service release-hold --stack dev --service payment-api.",
                "Commit stacks/Pulumi.dev.yaml so the pin is in git, or the next pulumi up of stack dev from a clean checkout undoes this rollback:",
                `  git add stacks/Pulumi.dev.yaml && git commit -m "${message}"`,
                "",
            ].join("\n"),
        );
        assert.equal(outcome.stderr, "");
    });

    it("refuses, changing nothing, when the digest is gone from the registry", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["rollback", "--to", "v1.2.1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 1);
        assert.deepEqual(stack.changes, []);
        assert.equal(
            outcome.stderr,
            `error: refusing to roll back stack dev to #4: ${IMAGE}@${DIGESTS["v1.2.1"]} is no longer in the registry (manifest ${DIGESTS["v1.2.1"]} not found); nothing was changed\n`,
        );
    });

    it("changes nothing when the registry cannot be asked, and exits 3", async () => {
        const stack = new FakeStack();
        const down = {
            async manifestState(): Promise<"present"> {
                throw new RegistryError("cannot reach registry localhost:5000: connection refused");
            },
        };
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => down });
        assert.equal(outcome.code, 3);
        assert.deepEqual(stack.changes, []);
        assert.equal(outcome.stderr, `error: cannot check that ${V1} is still pullable: cannot reach registry localhost:5000: connection refused; nothing was changed\n`);
    });

    it("checks the digest in the image repository the service's state records now, which is what will run", async () => {
        const asked: string[] = [];
        const moved = "registry.example.com/payments/api";
        const stack = new FakeStack({
            services: [{ name: "payment-api", imageDigest: DIGESTS["v1.1.0"], imageRef: `${moved}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0" }],
        });
        await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([], asked) });
        assert.deepEqual(asked, [`registry.example.com/payments/api@${DIGESTS["v1.0.0"]}`]);
        assert.deepEqual(stack.changes, []);
    });

    it("asks on a terminal after showing the preview, and a no leaves the config as it was", async () => {
        const config = { "released-service:image": IMAGE, "released-service:version": "v1.1.0" };
        const stack = new FakeStack({ config });
        const outcome = await runCli(["rollback", "--to", "1"], { stack, registryClient: async () => tableRegistry([V1]), answer: false }, { stdinTTY: true });
        assert.deepEqual(outcome.calls, [
            "open (selected)",
            // The cluster answers: asked before anything changes.
            "pods -n payments -l app.kubernetes.io/name=payment-api",
            `ask: Roll back stack dev to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})? This pins them in stacks/Pulumi.dev.yaml and runs pulumi up. [y/N] `,
        ]);
        assert.equal(outcome.code, 1);
        assert.ok(outcome.stdout.includes("The rollback of stack dev changes: 1 to update.\n"), outcome.stdout);
        assert.ok(outcome.stdout.endsWith("Rollback of stack dev cancelled; nothing was changed.\n"), outcome.stdout);
        assert.ok(outcome.stdout.indexOf("Previewing update (dev)") < outcome.stdout.indexOf("cancelled"));
        assert.deepEqual(stack.configNow, config);
        assert.equal(stack.changes.filter((change) => change.startsWith("up")).length, 0);
    });

    it("leaves the config as it was when the preview fails, and exits 3", async () => {
        const stack = new FakeStack({ previewFails: "error: version v1.0.0 cannot be resolved" });
        const before = stack.configNow;
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stderr, "error: the preview of the rollback of stack dev failed: error: version v1.0.0 cannot be resolved\nnothing was changed\n");
        assert.deepEqual(stack.configNow, before);
        // The file as it was saved before the edit, byte for byte (pulumi's own rewrite would not be).
        assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", "config restored"]);
    });

    it("goes ahead when the answer is yes", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["rollback", "--to", "1"], { stack, registryClient: async () => tableRegistry([V1]), answer: true }, { stdinTTY: true });
        assert.equal(outcome.code, 0);
        assert.deepEqual(stack.changes, [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1, `up: rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})`]);
    });

    it("needs --yes without a terminal, and changes nothing without it", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["rollback", "--to", "1"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.deepEqual([outcome.code, outcome.stderr, stack.changes], [2, "error: rollback changes the stack: pass --yes to run it without a terminal (see released-service rollback --help)\n", []]);
    });

    it("does nothing when the stack already runs the target", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["rollback", "--to", "2", "--yes"], { stack, registryClient: async () => tableRegistry([`${IMAGE}@${DIGESTS["v1.1.0"]}`]) });
        assert.deepEqual([outcome.code, outcome.stdout, stack.changes], [0, `Stack dev already runs payment-api v1.1.0 (${DIGESTS["v1.1.0"]}); nothing to do.\n`, []]);
    });

    it("pins the release it runs when the newest update failed: the config asks for another one", async () => {
        // Swarm rolled the failed update back by itself: v1.1.0 runs and is recorded, the config asks for v9.9.9.
        const entries = devHistory();
        const failed = { ...entries[0], result: "failed", message: "v9.9.9", startTime: "2025-03-22T10:00:00Z", endTime: "2025-03-22T10:05:00Z" };
        const stack = new FakeStack({ entries: [failed, ...entries] });
        const outcome = await runCli(["rollback", "--to", "2", "--yes"], { stack, registryClient: async () => tableRegistry([`${IMAGE}@${DIGESTS["v1.1.0"]}`]) });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.ok(stack.changes.some((change) => change.startsWith("config released-service:pins=")), stack.changes.join("\n"));
        assert.ok(stack.changes.includes("preview") && stack.changes.some((change) => change.startsWith("up: rollback to #2")), stack.changes.join("\n"));
    });

    it("reports a failed pulumi up with what the config now pins, and exits 3", async () => {
        const stack = new FakeStack({ upFails: "update failed: Deployment payment-api-deployment did not become available" });
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 3);
        assert.equal(
            outcome.stderr,
            "error: pulumi up of stack dev failed: update failed: Deployment payment-api-deployment did not become available\n" +
                `stacks/Pulumi.dev.yaml now pins #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]}): fix the cause and run pulumi up, or restore the file with git\n`,
        );
    });

    it("puts the config back when another update holds the stack, and says so", async () => {
        const lock = "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.";
        const stack = new FakeStack({ upFails: lock });
        const before = await stack.config();
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stderr, `error: another update holds stack dev: ${lock}\nnothing was changed\n`);
        assert.deepEqual(await stack.config(), before);
    });

    it("refuses an update that failed, pointing at the history to pick one that succeeded, before touching the registry", async () => {
        const stack = new FakeStack();
        const asked: string[] = [];
        const outcome = await runCli(["rollback", "--to", "3", "--yes"], { stack, registryClient: async () => tableRegistry([], asked) });
        assert.deepEqual(
            [outcome.code, outcome.stderr, asked, stack.changes],
            [2, "error: update #3 failed: roll back to an update that succeeded; `released-service history --stack dev` lists them\n", [], []],
        );
    });

    it("pins what the args ask now, as its preview reads them, after a failed update was undone and the config edited since", async () => {
        // up --atomic of v1.3.0 fails and is undone (its pin records v1.3.0); the operator sets the version to v1.2.1.
        const broken = `sha256:${"de".repeat(32)}`;
        const stack = new FakeStack({
            config: {
                "released-service:image": IMAGE,
                "released-service:version": "v1.3.0",
                "released-service:name": "payment-api",
                "released-service:namespace": "payments",
            },
            versions: { "v1.3.0": broken, "v1.2.1": DIGESTS["v1.2.1"] },
            upFails: (config) => (config["released-service:version"] === "v1.3.0" && config["released-service:pins"] === undefined ? "Deployment payments/payment-api did not become ready within 60s" : undefined),
            failsAfterDeployment: true,
        });
        assert.equal((await runCli(["up", "--atomic", "--yes"], { stack })).code, 1);
        assert.deepEqual((await stack.services())[0].asked, { version: "v1.3.0" });
        await stack.editConfig({ set: { "released-service:version": "v1.2.1" }, remove: [] });
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.configNow["released-service:pins"], { "payment-api": { version: "v1.0.0", digest: DIGESTS["v1.0.0"], update: 1, asked: { version: "v1.2.1" } } });
        assert.equal(stack.deployed, DIGESTS["v1.0.0"]);
        assert.ok(
            outcome.stdout.includes(
                "While service payment-api's args ask for version v1.2.1, as now, an update of stack dev keeps its pin and warns; " +
                    "once they ask for another release, it fails until released-service release-hold --stack dev --service payment-api.\n",
            ),
            outcome.stdout,
        );
    });

    it("falls back to what the args asked in the last update, and says so, when its preview does not say what they ask", async () => {
        const stack = new FakeStack({ previewAnnouncesServices: false });
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient: async () => tableRegistry([V1]) });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes.slice(0, 4), [PENDING_PIN_V1, HOLD_V1, "preview", PIN_V1]);
        assert.ok(
            outcome.stdout.includes(
                "The preview of stack dev did not say what service payment-api's args ask, so its pin records what they asked in the last update: " +
                    `version v1.1.0 and digest ${DIGESTS["v1.1.0"]}.\n`,
            ),
            outcome.stdout,
        );
    });

    it("refuses an unknown update before touching the registry", async () => {
        const asked: string[] = [];
        const outcome = await runCli(["rollback", "--to", "#12", "--yes"], { registryClient: async () => tableRegistry([], asked) });
        assert.deepEqual([outcome.code, outcome.stderr, asked], [2, "error: no update #12 in this stack's history (it has 6 updates) (see released-service rollback --help)\n", []]);
    });
});

describe("cli rollback --with-config", () => {
    const D1 = DIGESTS["v1.0.0"];
    const D2 = DIGESTS["v1.2.0"];
    const plain = (value: string) => ({ value, secret: false });
    const entry = (message: string, config: Record<string, { value?: string; secret: boolean }>) => ({
        version: 0,
        kind: "update",
        startTime: "2025-03-01T00:00:00.000Z",
        endTime: "2025-03-01T00:01:00.000Z",
        message,
        result: "succeeded",
        config,
    });
    // #1 ran v1.0.0 on 3 replicas with a revision limit; #2 moved to v1.2.0 on 5 replicas and a flag of another namespace.
    const ENTRIES = [
        entry("v1.2.0", {
            "released-service:image": plain(IMAGE),
            "released-service:version": plain("v1.2.0"),
            "released-service:digest": plain(D2),
            "released-service:replicas": plain("5"),
            "released-service:registryPassword": { secret: true },
            "payments:featureFlag": plain("on"),
        }),
        entry("v1.0.0", {
            "released-service:image": plain(IMAGE),
            "released-service:version": plain("v1.0.0"),
            "released-service:digest": plain(D1),
            "released-service:replicas": plain("3"),
            "released-service:revisionHistoryLimit": plain("10"),
            "released-service:registryPassword": { secret: true },
        }),
    ];
    const NOW = {
        "released-service:image": IMAGE,
        "released-service:version": "v1.2.0",
        "released-service:digest": D2,
        "released-service:replicas": "5",
        "payments:featureFlag": "on",
    };
    const present = async () => tableRegistry([`${IMAGE}@${D1}`]);
    // What each update's state recorded: the service, and what its args (the config's version and digest) asked.
    const states: RecordedStates = {
        statesOf: async (_entries, updates) =>
            new Map(
                updates.map((update) => {
                    const [version, digest] = update === 1 ? ["v1.0.0", D1] : ["v1.2.0", D2];
                    return [update, [{ name: "payment-api", imageDigest: digest, imageRef: `${IMAGE}@${digest}`, version, asked: { version, digest } }]];
                }),
            ),
    };

    it("shows the difference, names the secrets it cannot restore, and restores every plain value of the update", async () => {
        const stack = new FakeStack({ entries: ENTRIES, states, config: NOW });
        const outcome = await runCli(["rollback", "--to", "1", "--with-config", "--yes", "--no-hold"], { stack, registryClient: present });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.ok(
            outcome.stdout.startsWith(
                [
                    "Restoring the config of update #1 in stack dev:",
                    `  ~ released-service:version: v1.2.0 → v1.0.0`,
                    `  ~ released-service:digest: ${D2} → ${D1}`,
                    "  ~ released-service:replicas: 5 → 3",
                    "  + released-service:revisionHistoryLimit: 10",
                    "  - payments:featureFlag: on",
                    "Not restored in stack dev, because history keeps secrets encrypted: released-service:registryPassword. " +
                        "They keep their current values; set them by hand if they changed since.",
                    "Previewing the rollback of stack dev to #1",
                ].join("\n"),
            ),
            outcome.stdout,
        );
        assert.deepEqual(stack.configNow, {
            "released-service:image": IMAGE,
            "released-service:version": "v1.0.0",
            "released-service:digest": D1,
            "released-service:replicas": "3",
            "released-service:revisionHistoryLimit": "10",
            // The restored config asks for what update #1's args asked, as its state recorded: the pin records that.
            "released-service:pins": { "payment-api": { version: "v1.0.0", digest: D1, update: 1, asked: { version: "v1.0.0", digest: D1 } } },
        });
    });

    it("puts every key back as it was when the answer is no", async () => {
        const stack = new FakeStack({ entries: ENTRIES, states, config: NOW });
        const outcome = await runCli(["rollback", "--to", "1", "--with-config"], { stack, registryClient: present, answer: false }, { stdinTTY: true });
        assert.equal(outcome.code, 1);
        assert.deepEqual(stack.configNow, NOW);
    });

    it("shows only version and digest when nothing else differs", async () => {
        const config = {
            "released-service:image": IMAGE,
            "released-service:version": "v1.2.0",
            "released-service:digest": D2,
            "released-service:replicas": "3",
            "released-service:revisionHistoryLimit": "10",
        };
        const stack = new FakeStack({ entries: ENTRIES, states, config });
        const outcome = await runCli(["rollback", "--to", "1", "--with-config", "--yes"], { stack, registryClient: present });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.ok(outcome.stdout.startsWith(`Restoring the config of update #1 in stack dev:\n  ~ released-service:version: v1.2.0 → v1.0.0\n  ~ released-service:digest: ${D2} → ${D1}\nNot restored`), outcome.stdout);
    });
});
