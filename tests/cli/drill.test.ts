// `released-service drill`: a rehearsed rollback and roll forward, each waiting for every pod to
// run its exact digest, timed, with the stack config left as it was found.

import * as assert from "node:assert/strict";
import type { DrillReport } from "../../cli/commands/drill";
import { DIGESTS, FakeStack, IMAGE, runCli, tableRegistry } from "./fakes";

const PRESENT = tableRegistry([`${IMAGE}@${DIGESTS["v1.2.1"]}`, `${IMAGE}@${DIGESTS["v1.0.0"]}`]);
const BACK = `drill: rollback to payment-api #4 (v1.2.1, ${DIGESTS["v1.2.1"]})`;
const FORWARD = `drill: roll forward to payment-api v1.1.0 (${DIGESTS["v1.1.0"]})`;

/** A phase of the drill that passed, on the fake clock's even tenths of a second. */
function phase(name: string, version: "v1.0.0" | "v1.1.0") {
    const digest = DIGESTS[version];
    return {
        phase: name,
        version,
        digest,
        services: [{ service: "payment-api", version, digest }],
        result: "passed",
        seconds: 0.4,
        configSeconds: 0.1,
        updateSeconds: 0.1,
        landedSeconds: 0.2,
        error: null,
    };
}

describe("cli drill", () => {
    it("rolls back to the previous release, forward again, waits for the pods each time, and reports", async () => {
        const stack = new FakeStack();
        const before = stack.configNow;
        const outcome = await runCli(["drill", "--yes"], { stack, registryClient: async () => PRESENT });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes, [
            `config released-service:pins={"payment-api":{"digest":"${DIGESTS["v1.2.1"]}","update":4,"version":"v1.2.1"}}`,
            "preview",
            `config released-service:pins={"payment-api":{"asked":{"digest":"${DIGESTS["v1.1.0"]}","version":"v1.1.0"},"digest":"${DIGESTS["v1.2.1"]}","update":4,"version":"v1.2.1"}}`,
            `up: ${BACK}`,
            "config rm released-service:pins",
            `up: ${FORWARD}`,
        ]);
        assert.deepEqual(stack.configNow, before);
        assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
        // Once before anything changes (the cluster answers), then once per phase.
        assert.deepEqual(outcome.calls.filter((call) => call.startsWith("pods")), [
            "pods -n payments -l app.kubernetes.io/name=payment-api",
            "pods -n payments -l app.kubernetes.io/name=payment-api",
            "pods -n payments -l app.kubernetes.io/name=payment-api",
        ]);
        assert.ok(
            outcome.stdout.startsWith(
                `Drill on stack dev: roll back payment-api from v1.1.0 (${DIGESTS["v1.1.0"]}) to #4 v1.2.1 (${DIGESTS["v1.2.1"]}), ` +
                    "wait until every instance runs it, roll forward to payment-api v1.1.0, and wait again. The stack config is left as it is now.\n",
            ),
            outcome.stdout,
        );
        assert.ok(
            outcome.stdout.endsWith(
                [
                    "Drill of stack dev (image localhost:5000/payment-api):",
                    "PHASE         VERSION  DIGEST               TIME   CONFIG  PULUMI UP  LANDED  RESULT",
                    "rollback      v1.2.1   sha256:c3c3c3c3c3c3  0.4 s  0.1 s   0.1 s      0.2 s   passed",
                    "roll forward  v1.1.0   sha256:a1a1a1a1a1a1  0.4 s  0.1 s   0.1 s      0.2 s   passed",
                    "Drill of stack dev passed: the rollback to v1.2.1 took 0.4 s, and both directions landed on their exact digests.",
                    "",
                ].join("\n"),
            ),
            outcome.stdout,
        );
    });

    it("pins what the args ask as its preview reads them now, when the config was edited since the last update", async () => {
        const [service] = await new FakeStack().services();
        // The last update ran with the version key at v1.0.9; the config says v1.1.0 now.
        const stack = new FakeStack({ services: [{ ...service, asked: { version: "v1.0.9" } }] });
        const outcome = await runCli(["drill", "--yes"], { stack, registryClient: async () => PRESENT });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.equal(
            stack.changes[2],
            `config released-service:pins={"payment-api":{"asked":{"digest":"${DIGESTS["v1.1.0"]}","version":"v1.1.0"},"digest":"${DIGESTS["v1.2.1"]}","update":4,"version":"v1.2.1"}}`,
        );
    });

    it("reruns docker compose after each update of a Compose service, as its containers were started, and waits for them", async () => {
        const workload = { kind: "compose" as const, file: "compose.released.yaml", service: "web" };
        const stack = new FakeStack({ services: [{ name: "payment-api", imageDigest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0", workload }] });
        let running: string = DIGESTS["v1.1.0"];
        const labels = {
            "com.docker.compose.project": "shop",
            "com.docker.compose.project.working_dir": "/work/shop",
            "com.docker.compose.project.config_files": "/work/shop/compose.yaml,/work/shop/compose.released.yaml",
        };
        const outcome = await runCli(["drill", "--yes"], {
            stack,
            registryClient: async () => PRESENT,
            containers: () => [{ Name: "/shop-web-1", Config: { Image: `${IMAGE}@${running}`, Labels: labels }, State: { Status: "running", Running: true } }],
            docker: () => {
                running = stack.deployed!;
            },
        });
        assert.equal(outcome.code, 0, outcome.stdout + outcome.stderr);
        const rerun = "docker compose --project-name shop --project-directory /work/shop -f /work/shop/compose.yaml -f /work/shop/compose.released.yaml up --detach --no-deps web";
        assert.deepEqual(outcome.calls.filter((call) => call.startsWith("docker")), [rerun, rerun]);
        assert.ok(outcome.stdout.includes(`${rerun}\n`), outcome.stdout);
        assert.deepEqual(stack.changes.filter((change) => change.startsWith("up")), [`up: ${BACK}`, `up: ${FORWARD}`]);
        assert.equal(running, DIGESTS["v1.1.0"]);
    });

    it("refuses a Compose service it cannot rerun before changing anything, exit 1", async () => {
        const workload = { kind: "compose" as const, file: "compose.released.yaml", service: "web" };
        const stack = new FakeStack({ services: [{ name: "payment-api", imageDigest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0", workload }] });
        const outcome = await runCli(["drill", "--yes"], { stack, registryClient: async () => PRESENT, containers: () => [] });
        assert.equal(outcome.code, 1);
        assert.equal(
            outcome.stderr,
            "error: drill of stack dev failed before changing anything: service payment-api cannot be made to run a release: no container of Compose service web runs, " +
                "so there is no docker compose project to rerun: start it once with docker compose -f compose.yaml -f /work/shop/compose.released.yaml up -d\n",
        );
        assert.deepEqual(stack.changes, []);
    });

    it("--json prints the report alone on stdout", async () => {
        const outcome = await runCli(["drill", "--yes", "--json", "--to", "v1.0.0"], { stack: new FakeStack(), registryClient: async () => PRESENT });
        assert.equal(outcome.code, 0, outcome.stderr);
        const report = JSON.parse(outcome.stdout) as DrillReport;
        assert.deepEqual(report, {
            stack: "dev",
            from: { version: "v1.1.0", digest: DIGESTS["v1.1.0"] },
            to: { update: 1, version: "v1.0.0", digest: DIGESTS["v1.0.0"] },
            services: [{ service: "payment-api", from: { version: "v1.1.0", digest: DIGESTS["v1.1.0"] }, to: { update: 1, version: "v1.0.0", digest: DIGESTS["v1.0.0"] } }],
            phases: [phase("rollback", "v1.0.0"), phase("roll forward", "v1.1.0")],
            passed: true,
        });
        assert.ok(outcome.stderr.startsWith("Drill on stack dev: roll back payment-api from v1.1.0"), outcome.stderr);
    });

    it("fails before changing anything when the target digest is gone from the registry, exit 1", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["drill", "--yes"], { stack, registryClient: async () => tableRegistry([]) });
        assert.equal(outcome.code, 1);
        assert.equal(
            outcome.stderr,
            `error: drill of stack dev failed before changing anything: ${IMAGE}@${DIGESTS["v1.2.1"]} (#4, v1.2.1) is no longer in its registry, ` +
                "so a rollback to it would fail too. Push it again, or drill to a release that is still there (released-service verify lists them).\n",
        );
        assert.deepEqual(stack.changes, []);
    });

    it("fails when the pods do not land, and still rolls forward to where it started", async () => {
        const stack = new FakeStack();
        const stuck = { items: [{ metadata: { name: "payment-api-0" }, status: { phase: "Running", containerStatuses: [{ name: "app", image: "x", imageID: `${IMAGE}@${DIGESTS["v1.1.0"]}`, ready: true }] } }] };
        const outcome = await runCli(["drill", "--yes", "--timeout", "1"], { stack, registryClient: async () => PRESENT, pods: stuck });
        assert.equal(outcome.code, 1);
        assert.ok(outcome.stdout.includes(`rollback of stack dev failed: after 1 s not every pod runs ${DIGESTS["v1.2.1"]}: payment-api-0 runs ${DIGESTS["v1.1.0"]}\n`), outcome.stdout);
        assert.ok(outcome.stdout.endsWith("Drill of stack dev FAILED: a rollback of this stack would not land as rehearsed.\n"), outcome.stdout);
        assert.deepEqual(stack.changes.slice(-1), [`up: ${FORWARD}`]);
        assert.equal(stack.configNow["released-service:pins"], undefined);
    });

    it("fails when the rollback's update fails, and the roll forward still restores the stack", async () => {
        const stack = new FakeStack({ upFails: (config) => (JSON.stringify(config["released-service:pins"] ?? {}).includes("v1.2.1") ? "version v1.2.1: image deleted" : undefined) });
        const outcome = await runCli(["drill", "--yes", "--json"], { stack, registryClient: async () => PRESENT });
        assert.equal(outcome.code, 1);
        const report = JSON.parse(outcome.stdout) as DrillReport;
        assert.deepEqual(
            report.phases.map((phase) => [phase.phase, phase.result, phase.error]),
            [
                ["rollback", "failed", "version v1.2.1: image deleted"],
                ["roll forward", "passed", null],
            ],
        );
        assert.equal(report.passed, false);
        assert.equal(stack.deployed, DIGESTS["v1.1.0"]);
    });

    it("refuses a stack under a hold, which would refuse the drill's updates", async () => {
        const hold = { digest: DIGESTS["v1.1.0"], reason: "INC-1" };
        {
            const stack = new FakeStack({ config: { "released-service:image": IMAGE, "released-service:holds": { "payment-api": hold } } });
            const outcome = await runCli(["drill", "--yes"], { stack, registryClient: async () => PRESENT });
            assert.deepEqual(
                [outcome.code, outcome.stderr, stack.changes],
                [1, `error: stack dev holds payment-api on ${DIGESTS["v1.1.0"]} (INC-1), which refuses the drill's updates: drill a stack without a hold, or lift it with released-service release-hold --stack dev\n`, []],
            );
        }
    });

    it("refuses a target that runs the digest the stack runs now", async () => {
        const outcome = await runCli(["drill", "--yes", "--to", "2"], { stack: new FakeStack(), registryClient: async () => PRESENT });
        assert.deepEqual(
            [outcome.code, outcome.stderr],
            [2, `error: update #2 ran ${DIGESTS["v1.1.0"]}, which the stack runs now: choose a release with another digest (see released-service drill --help)\n`],
        );
    });

    it("asks on a terminal, needs --yes without one, and checks --timeout", async () => {
        const stack = new FakeStack();
        const asked = await runCli(["drill"], { stack, registryClient: async () => PRESENT, answer: false }, { stdinTTY: true });
        assert.deepEqual([asked.code, asked.calls.slice(-1), stack.changes], [1, ["ask: Run the drill on stack dev? [y/N] "], []]);
        const piped = await runCli(["drill"], { stack, registryClient: async () => PRESENT });
        assert.deepEqual([piped.code, piped.stderr], [2, "error: drill changes the stack: pass --yes to run it without a terminal (see released-service drill --help)\n"]);
        const zero = await runCli(["drill", "--timeout", "0"], { stack });
        assert.deepEqual([zero.code, zero.stderr], [2, 'error: --timeout must be a whole number of at least 1 (got "0") (see released-service drill --help)\n']);
    });
});
