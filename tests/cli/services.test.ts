// The command against a user's own program: a recorded two-service stack (services api and worker,
// found by type in each update's state, whatever the program's outputs and config keys are called).

import * as assert from "node:assert/strict";
import type { DrillReport } from "../../cli/commands/drill";
import type { ConfigValue } from "../../cli/core/config";
import type { ServiceState } from "../../cli/core/services";
import type { PodList } from "../../components/workloads/kubernetes/live";
import { runCli, SHOP, shopStack, tableRegistry } from "./fakes";

const D = SHOP.digests;
const short = (digest: string): string => digest.slice(0, "sha256:".length + 12);
const EVERY_IMAGE = Object.values(D).flatMap((digest) => [`${SHOP.api}@${digest}`, `${SHOP.worker}@${digest}`]);
const registryClient = async () => tableRegistry(EVERY_IMAGE);
const PINS = "released-service:pins";
const HOLDS = "released-service:holds";
const API_HOLD = { digest: D["v1.1.0"], by: "Ada Lovelace <ada@example.com>", at: "2025-04-05T09:00:00Z", reason: "rollback to #2" };
const WEB = `sha256:${"1c".repeat(32)}`;
const API_PIN = { version: "v1.1.0", digest: D["v1.1.0"], update: 2, asked: { version: "v1.2.0" } };

describe("cli with several services", () => {
    it("history shows every service of every update, with a SERVICE column, from each update's state", async () => {
        const outcome = await runCli(["history"], { stack: shopStack() });
        assert.equal(outcome.code, 0, outcome.stderr);
        const rollback = `rollback api to #2 (v1.1.0, ${D["v1.1.0"]})`.slice(0, 59) + "…";
        assert.equal(
            outcome.stdout,
            [
                "UPDATE  TIME                  KIND    RESULT     SERVICE  VERSION  DIGEST               COMMIT   AUTHOR        MESSAGE",
                `#5      2025-04-06T00:40:00Z  update  succeeded  api      v1.1.0   ${short(D["v1.1.0"])}  e5e5e5e  Ada Lovelace  ${rollback}`,
                `#5      2025-04-06T00:40:00Z  update  succeeded  worker   w2       ${short(D.w2)}  e5e5e5e  Ada Lovelace  ${rollback}`,
                `#4      2025-04-04T20:53:20Z  update  failed     api      v1.2.0   ${short(D["v1.2.0"])}  d4d4d4d  Grace Hopper  api v1.2.0`,
                `#4      2025-04-04T20:53:20Z  update  failed     worker   w2       ${short(D.w2)}  d4d4d4d  Grace Hopper  api v1.2.0`,
                `#3      2025-04-03T17:06:40Z  update  succeeded  api      v1.1.0   ${short(D["v1.1.0"])}  c3c3c3c  Grace Hopper  worker w2`,
                `#3      2025-04-03T17:06:40Z  update  succeeded  worker   w2       ${short(D.w2)}  c3c3c3c  Grace Hopper  worker w2`,
                `#2      2025-04-02T13:20:00Z  update  succeeded  api      v1.1.0   ${short(D["v1.1.0"])}  b2b2b2b  Grace Hopper  api v1.1.0`,
                `#2      2025-04-02T13:20:00Z  update  succeeded  worker   w1       ${short(D.w1)}  b2b2b2b  Grace Hopper  api v1.1.0`,
                `#1      2025-04-01T09:33:20Z  update  succeeded  api      v1.0.0   ${short(D["v1.0.0"])}  a1a1a1a  Ada Lovelace  first release`,
                `#1      2025-04-01T09:33:20Z  update  succeeded  worker   w1       ${short(D.w1)}  a1a1a1a  Ada Lovelace  first release`,
                "",
            ].join("\n"),
        );
    });

    it("history --service narrows to one service, and --json prints one object per service and update", async () => {
        const outcome = await runCli(["history", "--service", "worker", "--limit", "2", "--json"], { stack: shopStack() });
        assert.equal(outcome.code, 0, outcome.stderr);
        const row = (update: number, result: string, time: string, message: string, commit: string, author: string) => ({
            update,
            service: "worker",
            time,
            kind: "update",
            result,
            version: "w2",
            digest: D.w2,
            digestSource: "state",
            image: SHOP.worker,
            commit,
            dirty: false,
            author,
            message,
        });
        assert.deepEqual(JSON.parse(outcome.stdout), [
            row(5, "succeeded", "2025-04-06T00:40:00Z", `rollback api to #2 (v1.1.0, ${D["v1.1.0"]})`, "e5".repeat(20), "Ada Lovelace"),
            row(4, "failed", "2025-04-04T20:53:20Z", "api v1.2.0", "d4".repeat(20), "Grace Hopper"),
        ]);
    });

    it("an unknown --service is refused with the nearest name, exit 2, for every command", async () => {
        for (const command of ["history", "status", "verify", "release-hold", "drill", "up"]) {
            const stack = shopStack();
            const acts = command === "drill" || command === "up";
            const outcome = await runCli([command, "--service", "apii", ...(acts ? ["--yes"] : [])], { stack });
            assert.deepEqual(
                [outcome.code, outcome.stderr, stack.changes],
                [2, `error: --service apii: stack prod declares no service of that name (its services: api, worker); did you mean api? (see released-service ${command} --help)\n`, []],
                command,
            );
        }
    });

    it("status compares each service's recorded digest with its own pods, and names the one that drifted", async () => {
        const stack = shopStack();
        const drifted: PodList = {
            items: [{ metadata: { name: "worker-6c5b4a-0", labels: { "app.kubernetes.io/version": "w1" } }, status: { phase: "Running", containerStatuses: [{ name: "app", image: "x", imageID: `${SHOP.worker}@${D.w1}`, ready: true }] } }],
        };
        const listPods = async (namespace: string, selector: string): Promise<PodList> => (selector.endsWith("=worker") ? drifted : stack.pods(namespace, selector));
        const outcome = await runCli(["status", "--json"], { stack, listPods });
        assert.equal(outcome.code, 1);
        const pod = (name: string, digest: string, version: string | null, state: string) => ({ pod: name, phase: "Running", ready: true, version, digest, state });
        assert.deepEqual(JSON.parse(outcome.stdout), {
            stack: "prod",
            drift: true,
            services: [
                {
                    service: "api",
                    recordedVersion: "v1.1.0",
                    recordedDigest: D["v1.1.0"],
                    imageRef: `${SHOP.api}@${D["v1.1.0"]}`,
                    pods: [pod("api-7f8e9d-0", D["v1.1.0"], null, "ok"), pod("api-7f8e9d-1", D["v1.1.0"], null, "ok")],
                    drift: false,
                    namespace: "shop",
                    selector: "app.kubernetes.io/name=api",
                },
                {
                    service: "worker",
                    recordedVersion: "w2",
                    recordedDigest: D.w2,
                    imageRef: `${SHOP.worker}@${D.w2}`,
                    pods: [pod("worker-6c5b4a-0", D.w1, "w1", "drift")],
                    drift: true,
                    namespace: "shop",
                    selector: "app.kubernetes.io/name=worker",
                },
            ],
        });
        const text = await runCli(["status", "--service", "worker"], { stack, listPods });
        assert.equal(text.code, 1);
        assert.ok(text.stdout.startsWith(`Service worker of stack prod records w2 ${D.w2}\n`), text.stdout);
        assert.ok(text.stdout.includes(`DRIFT: 1 of 1 pods run ${D.w1} (version label w1), not the recorded ${D.w2}.\n`), text.stdout);
        assert.ok(!text.stdout.includes("api"), text.stdout);
    });

    it("every command refuses a --service the stack does not declare in its preparation, naming the nearest, before anything else", async () => {
        for (const command of [["rollback", "--to", "1", "--yes"], ["drill", "--yes"], ["up", "--atomic", "--yes"], ["status"], ["release-hold"], ["history"], ["verify"]]) {
            const stack = shopStack();
            const outcome = await runCli([...command, "--service", "apii"], { stack, registryClient });
            assert.deepEqual(
                [outcome.code, outcome.stderr, stack.changes],
                [2, `error: --service apii: stack prod declares no service of that name (its services: api, worker); did you mean api? (see released-service ${command[0]} --help)\n`, []],
                command.join(" "),
            );
            assert.deepEqual(outcome.calls, ["open (selected)"], command.join(" "));
        }
    });

    it("rollback --to N brings every service back to what update N ran, pinned and held together", async () => {
        const stack = shopStack();
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient });
        assert.equal(outcome.code, 0, outcome.stderr);
        const set = `#1 (api v1.0.0 ${D["v1.0.0"]}, worker w1 ${D.w1})`;
        assert.deepEqual(stack.configNow[PINS], {
            api: { version: "v1.0.0", digest: D["v1.0.0"], update: 1, asked: { version: "v1.2.0" } },
            worker: { version: "w1", digest: D.w1, update: 1, asked: { version: "w2" } },
        });
        // Each hold names its own service's target, so the holds grow with the services, not their square.
        const hold = (digest: string, target: string) => ({ digest, by: "Grace Hopper <grace@example.com>", at: "2025-03-22T10:00:00Z", reason: `rollback to #1 (${target} ${digest})` });
        assert.deepEqual(stack.configNow[HOLDS], { api: hold(D["v1.0.0"], "api v1.0.0"), worker: hold(D.w1, "worker w1") });
        // The pins go in without `asked`, the preview reads what each service's args ask now, and the pins record it before pulumi up.
        assert.deepEqual(stack.changes[0], `config ${PINS}={"api":{"digest":"${D["v1.0.0"]}","update":1,"version":"v1.0.0"},"worker":{"digest":"${D.w1}","update":1,"version":"w1"}}`);
        assert.deepEqual(stack.changes.slice(2), [
            "preview",
            `config ${PINS}={"api":{"asked":{"version":"v1.2.0"},"digest":"${D["v1.0.0"]}","update":1,"version":"v1.0.0"},"worker":{"asked":{"version":"w2"},"digest":"${D.w1}","update":1,"version":"w1"}}`,
            `up: rollback to ${set}`,
        ]);
        // Each read is a pulumi run: the config is read before the edit and once after the update, however many services.
        assert.equal(stack.configReads, 2);
        assert.deepEqual([stack.deployedOf("api"), stack.deployedOf("worker")], [D["v1.0.0"], D.w1]);
        assert.ok(
            outcome.stdout.includes(
                `\nRolled back stack prod to ${set}.\n` +
                    `Stack prod holds api on ${D["v1.0.0"]}, worker on ${D.w1}: an update that would run another digest fails until released-service release-hold --stack prod.\n`,
            ),
            outcome.stdout,
        );
    });

    it("rollback --to N leaves a service update N did not run as it is, and says so before the preview and in its last line", async () => {
        const web: ServiceState = {
            name: "web",
            imageDigest: WEB,
            imageRef: `localhost:5000/shop-web@${WEB}`,
            version: "x1",
            built: false,
            workload: { kind: "kubernetes", namespace: "shop", deployment: "web-5d4c3b", service: "web-svc", selector: { "app.kubernetes.io/name": "web" } },
        };
        const base = shopStack();
        const stack = shopStack({ services: [...(await base.services()), web], args: { api: "v1.2.0", worker: "w2", web: "x1" }, versions: { ...D, x1: WEB } });
        const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack, registryClient });
        assert.equal(outcome.code, 0, outcome.stderr);
        const set = `#1 (api v1.0.0 ${D["v1.0.0"]}, worker w1 ${D.w1})`;
        assert.ok(outcome.stdout.startsWith(`Service web, which update #1 did not run, is left as it is.\nPreviewing the rollback of stack prod to ${set}…\n`), outcome.stdout);
        assert.ok(outcome.stdout.includes(`\nRolled back stack prod to ${set}; service web, which update #1 did not run, is left as it is.\n`), outcome.stdout);
        assert.deepEqual(Object.keys(stack.configNow[PINS] as object), ["api", "worker"]);
        assert.deepEqual([stack.deployedOf("api"), stack.deployedOf("worker"), stack.deployedOf("web")], [D["v1.0.0"], D.w1, WEB]);
    });

    it("rollback --service rolls back one service only; the other keeps running its own release", async () => {
        const stack = shopStack();
        const outcome = await runCli(["rollback", "--to", "1", "--service", "worker", "--yes"], { stack, registryClient });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.configNow[PINS], { api: API_PIN, worker: { version: "w1", digest: D.w1, update: 1, asked: { version: "w2" } } });
        assert.deepEqual(Object.keys(stack.configNow[HOLDS] as object), ["api", "worker"]);
        assert.deepEqual(stack.changes.slice(-1), [`up: rollback to #1 (worker w1 ${D.w1})`]);
        assert.deepEqual([stack.deployedOf("api"), stack.deployedOf("worker")], [D["v1.1.0"], D.w1]);
        assert.ok(
            outcome.stdout.includes(
                "an update that would run another digest fails until released-service release-hold --stack prod --service worker.\n" +
                    "While service worker's args ask for version w2, as now, an update of stack prod keeps its pin and warns; " +
                    "once they ask for another release, it fails until released-service release-hold --stack prod --service worker.\n",
            ),
            outcome.stdout,
        );
    });

    it("rollback --to a version finds the service that ran it", async () => {
        const stack = shopStack();
        const outcome = await runCli(["rollback", "--to", "w1", "--yes", "--no-hold"], { stack, registryClient });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes.slice(-1), [`up: rollback to #2 (worker w1 ${D.w1})`]);
    });

    it("a no, or a failed preview, leaves the config exactly as it was", async () => {
        const asked = shopStack();
        const before = asked.configNow;
        const no = await runCli(["rollback", "--to", "1"], { stack: asked, registryClient, answer: false }, { stdinTTY: true });
        assert.equal(no.code, 1);
        assert.deepEqual(asked.configNow, before);
        const failing = shopStack({ previewFails: "error: boom" });
        const failed = await runCli(["rollback", "--to", "1", "--service", "worker", "--yes"], { stack: failing, registryClient });
        assert.equal(failed.code, 3);
        assert.deepEqual(failing.configNow, before);
    });

    it("refuses entries for a service the program no longer declares, or a malformed pin, naming the field, exit 2, nothing changed", async () => {
        const table: [Record<string, ConfigValue>, string][] = [
            [
                { [PINS]: { apii: { ...API_PIN, version: "v1.0.0", digest: D["v1.0.0"] } } },
                "`released-service:pins.apii` is for a service stack prod does not declare (its services: api, worker); did you mean api?; " +
                    "remove it with: pulumi config rm --path 'released-service:pins.apii' --stack prod",
            ],
            [{ [PINS]: { api: { ...API_PIN, digest: "sha256:1a1a" } } }, '`released-service:pins.api.digest` must be sha256: followed by 64 lower-case hex digits (got "sha256:1a1a")'],
            [
                { [PINS]: { api: { version: "v1.0.0", digest: D["v1.0.0"] } } },
                "`released-service:pins.api.update` is required: the number of the update whose release the pin runs",
            ],
        ];
        for (const [entries, problem] of table) {
            const broken = shopStack({ config: { ...shopStack().configNow, [HOLDS]: { api: API_HOLD }, ...entries } });
            const outcome = await runCli(["rollback", "--to", "1", "--yes"], { stack: broken, registryClient });
            assert.deepEqual(
                [outcome.code, outcome.stderr, broken.changes],
                [2, `error: the stack config of stack prod has entries the component would refuse; nothing was changed:\n  ${problem} (see released-service rollback --help)\n`, []],
            );
        }
    });

    it("release-hold --service lifts one service's hold and the pin its rollback left, and says what the args ran last", async () => {
        const stack = shopStack();
        const outcome = await runCli(["release-hold", "--service", "api"], { stack });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.deepEqual(stack.changes, [`config rm ${HOLDS}`, `config rm ${PINS}`]);
        assert.equal(
            outcome.stdout,
            `Lifted the hold on ${D["v1.1.0"]} (rollback to #2; set by Ada Lovelace <ada@example.com> at 2025-04-05T09:00:00Z) and its pin of v1.1.0 from update #2 of service api in stack prod.\n` +
                `The program's own args last ran service api at v1.1.0 (${short(D["v1.1.0"])}) in update #3, the newest without a pin for it: ` +
                "the next update of stack prod runs that unless the args changed since (pulumi preview --stack prod shows it).\n" +
                "Updates of stack prod run what the args ask again. Commit stacks/Pulumi.prod.yaml so the hold and the pin are gone from git too.\n",
        );
        const none = await runCli(["release-hold", "--service", "worker"], { stack: shopStack() });
        assert.deepEqual([none.code, none.stdout], [0, "Stack prod has no hold or pin on service worker; nothing to do.\n"]);
    });

    it("drill --service rehearses one service's rollback while another is held", async () => {
        const stack = shopStack();
        const before = stack.configNow;
        const outcome = await runCli(["drill", "--service", "worker", "--yes", "--json"], { stack, registryClient });
        assert.equal(outcome.code, 0, outcome.stderr);
        const report = JSON.parse(outcome.stdout) as DrillReport;
        assert.deepEqual(report.services, [{ service: "worker", from: { version: "w2", digest: D.w2 }, to: { update: 2, version: "w1", digest: D.w1 } }]);
        assert.deepEqual(stack.changes.filter((change) => change.startsWith("up")), [`up: drill: rollback to worker #2 (w1, ${D.w1})`, `up: drill: roll forward to worker w2 (${D.w2})`]);
        assert.deepEqual(stack.configNow, before);
        const all = await runCli(["drill", "--yes"], { stack: shopStack(), registryClient });
        assert.equal(all.code, 1);
        assert.match(all.stderr, /^error: stack prod holds api on sha256:2a2a/);
    });

    it("up --atomic brings back only the service whose workload the failed update changed", async () => {
        const broken = `sha256:${"de".repeat(32)}`;
        const stack = shopStack({
            args: { api: "v1.2.0", worker: "w3" },
            versions: { ...D, w3: broken },
            upFails: (config) => (JSON.stringify(config[PINS]).includes("worker") ? undefined : "Deployment shop/worker did not become ready within 60s"),
            failsAfterDeployment: true,
        });
        const outcome = await runCli(["up", "--atomic", "--yes"], { stack });
        assert.equal(outcome.code, 1, outcome.stderr);
        // The failed update recorded what the worker's args ask now (w3): the pin keeps that intent.
        assert.deepEqual(stack.configNow[PINS], { api: API_PIN, worker: { version: "w2", digest: D.w2, update: 5, asked: { version: "w3" } } });
        assert.deepEqual(stack.changes.slice(-1), [`up: undo a failed update: back to worker #5 (w2, ${D.w2})`]);
        assert.deepEqual([stack.deployedOf("api"), stack.deployedOf("worker")], [D["v1.1.0"], D.w2]);
        assert.ok(outcome.stdout.includes(`Update #6 of stack prod failed after the workload changed to ${SHOP.worker}@${broken}:\n`), outcome.stdout);
    });

    it("reads each service's workload by its kind: a worker in a Docker container beside an API on Kubernetes", async () => {
        const docker = { name: "worker", imageDigest: D.w2, imageRef: `${SHOP.worker}@${D.w2}`, version: "w2", workload: { kind: "docker" as const, container: "shop-worker" } };
        const services = [...(await shopStack().services()).filter((service) => service.name === "api"), docker];
        const container = (digest: string) => ({
            Name: "/shop-worker",
            Config: { Image: `${SHOP.worker}@${digest}`, Labels: { "io.released-service.version": "w1" } },
            State: { Status: "running", Running: true },
        });
        const asked: string[] = [];
        const outcome = await runCli(["status", "--service", "worker"], {
            stack: shopStack({ services }),
            containers: (name) => {
                asked.push(name);
                return [container(D.w1)];
            },
        });
        assert.equal(outcome.code, 1);
        assert.deepEqual(asked, ["shop-worker"]);
        assert.ok(outcome.stdout.startsWith(`Service worker of stack prod records w2 ${D.w2}\n  image ${SHOP.worker}@${D.w2}\n\nContainers (container shop-worker):\nCONTAINER    PHASE`), outcome.stdout);
        assert.ok(outcome.stdout.includes(`DRIFT: 1 of 1 containers run ${D.w1} (version label w1), not the recorded ${D.w2}.`), outcome.stdout);
    });
});
