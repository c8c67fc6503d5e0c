// `--json` of the commands that change a stack (rollback, up, release-hold): stdout carries one
// JSON object, the result, and what the command prints for people goes to stderr, whole; and
// `--version`.

import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { textOf } from "../../cli/core/config";
import { DIGESTS, FakeStack, type FakeStackOptions, IMAGE, runCli, tableRegistry } from "./fakes";

const V1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
const BROKEN = `sha256:${"de".repeat(32)}`;
const PAYMENT_API = "localhost:5000/payment-api";

/** The same command line with and without --json, each on a stack of its own made alike. */
async function both(args: string[], stack: () => FakeStack, options: { registryClient?: () => Promise<ReturnType<typeof tableRegistry>> } = {}) {
    const plain = await runCli(args, { stack: stack(), ...options });
    const json = await runCli([...args, "--json"], { stack: stack(), ...options });
    // What people read is the same, on stderr; stdout is the JSON object alone.
    assert.equal(json.stderr, plain.stdout + plain.stderr, json.stderr);
    assert.equal(json.code, plain.code);
    return { code: json.code, result: JSON.parse(json.stdout) as unknown, stdout: json.stdout };
}

function broken(more: FakeStackOptions = {}): FakeStack {
    return new FakeStack({
        config: { "released-service:image": PAYMENT_API, "released-service:version": "v1.3.0", "released-service:name": "payment-api", "released-service:namespace": "payments" },
        versions: { "v1.3.0": BROKEN },
        upFails: (config) =>
            textOf(config, "version") === "v1.3.0" && config["released-service:pins"] === undefined ? "Deployment payments/payment-api did not become ready within 60s" : undefined,
        failsAfterDeployment: true,
        ...more,
    });
}

describe("cli --json of the commands that change a stack", () => {
    it("rollback --json: what it returned to, what the preview found, the hold and the update's message", async () => {
        const { code, result, stdout } = await both(["rollback", "--to", "1", "--yes"], () => new FakeStack(), { registryClient: async () => tableRegistry([V1]) });
        assert.equal(code, 0);
        assert.ok(stdout.endsWith("}\n"), stdout);
        assert.deepEqual(result, {
            stack: "dev",
            result: "rolled back",
            update: 1,
            services: [{ service: "payment-api", version: "v1.0.0", digest: DIGESTS["v1.0.0"] }],
            left: [],
            held: true,
            configFile: "stacks/Pulumi.dev.yaml",
            message: `rollback to #1 (payment-api v1.0.0 ${DIGESTS["v1.0.0"]})`,
            changes: { same: 3, update: 1 },
        });
    });

    it("rollback --json to what already runs: nothing previewed, nothing held", async () => {
        const { code, result } = await both(["rollback", "--to", "6", "--yes"], () => new FakeStack(), { registryClient: async () => tableRegistry([`${IMAGE}@${DIGESTS["v1.1.0"]}`]) });
        assert.equal(code, 0);
        assert.deepEqual(result, {
            stack: "dev",
            result: "already running",
            update: 6,
            services: [{ service: "payment-api", version: "v1.1.0", digest: DIGESTS["v1.1.0"] }],
            left: [],
            held: false,
            configFile: "stacks/Pulumi.dev.yaml",
            message: `rollback to #6 (payment-api v1.1.0 ${DIGESTS["v1.1.0"]})`,
            changes: null,
        });
    });

    it("up --json: what the preview found and what each service runs after the update", async () => {
        const stack = (): FakeStack => new FakeStack({ config: { "released-service:image": PAYMENT_API, "released-service:version": "v1.2.1" }, versions: { "v1.2.1": DIGESTS["v1.2.1"] } });
        const { code, result } = await both(["up", "--yes"], stack);
        assert.equal(code, 0);
        assert.deepEqual(result, {
            stack: "dev",
            result: "updated",
            changes: { same: 3, update: 1 },
            services: [{ service: "payment-api", version: "v1.2.1", digest: DIGESTS["v1.2.1"] }],
            undo: null,
        });
    });

    it("up --atomic --json of a failed rollout: undone, both updates named, exit 1", async () => {
        const { code, result } = await both(["up", "--atomic", "--yes"], () => broken());
        assert.equal(code, 1);
        assert.deepEqual(result, {
            stack: "dev",
            result: "undone",
            changes: { same: 3, update: 1 },
            services: [{ service: "payment-api", version: "v1.1.0", digest: DIGESTS["v1.1.0"] }],
            undo: { failedUpdate: 7, undoUpdate: 8, landed: true, unread: [] },
        });
    });

    it("up --json of a failed update prints no result: stdout is empty, stderr says why, exit 3", async () => {
        const outcome = await runCli(["up", "--yes", "--json"], { stack: broken() });
        assert.equal(outcome.code, 3);
        assert.equal(outcome.stdout, "");
        assert.match(outcome.stderr, /\nerror: pulumi up of stack dev failed: Deployment payments\/payment-api did not become ready within 60s\n$/);
    });

    it("release-hold --json: each hold and pin lifted with what the args ran last, and an empty list when there was none", async () => {
        const held = {
            "released-service:image": IMAGE,
            "released-service:holds": { "payment-api": { digest: DIGESTS["v1.0.0"], by: "Ada", at: "2025-03-21T16:45:10Z", reason: "INC-230" } },
            "released-service:pins": { "payment-api": { version: "v1.0.0", digest: DIGESTS["v1.0.0"], update: 1, asked: { version: "v1.1.0" } } },
        };
        const { code, result } = await both(["release-hold"], () => new FakeStack({ config: held }));
        assert.equal(code, 0);
        assert.deepEqual(result, {
            stack: "dev",
            configFile: "stacks/Pulumi.dev.yaml",
            lifted: [
                {
                    service: "payment-api",
                    hold: { digest: DIGESTS["v1.0.0"], by: "Ada", at: "2025-03-21T16:45:10Z", reason: "INC-230" },
                    pin: { version: "v1.0.0", digest: DIGESTS["v1.0.0"], update: 1, asked: { version: "v1.1.0" } },
                    lastFromArgs: { update: 6, version: "v1.1.0", digest: DIGESTS["v1.1.0"] },
                },
            ],
        });
        const none = await both(["release-hold"], () => new FakeStack({ config: { "released-service:image": IMAGE } }));
        assert.deepEqual([none.code, none.result], [0, { stack: "dev", configFile: "stacks/Pulumi.dev.yaml", lifted: [] }]);
    });
});

describe("cli --version", () => {
    it("prints the package's version from its package.json and exits 0", async () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version: string };
        for (const flag of ["--version", "-V"]) {
            const outcome = await runCli([flag]);
            assert.deepEqual([outcome.code, outcome.stdout, outcome.stderr], [0, `released-service ${manifest.version}\n`, ""]);
        }
    });
});
