// `released-service status` from recorded pod lists (`kubectl get pods -o json`): the recorded
// digest against each pod's imageID, drift named, no cluster involved.

import * as assert from "node:assert/strict";
import type { PodList } from "../../components/workloads/kubernetes/live";
import type { OwnWorkload } from "../../cli/core/ownWorkloads";
import { devHistory, DIGESTS, FakeStack, IMAGE, readFixture, runCli } from "./fakes";

const HEADER = [
    `Service payment-api of stack dev records v1.1.0 ${DIGESTS["v1.1.0"]}`,
    `  image ${IMAGE}@${DIGESTS["v1.1.0"]}`,
    "",
    "Pods (app.kubernetes.io/name=payment-api, namespace payments):",
];

describe("cli status", () => {
    it("lists the pods of the Deployment's name in its namespace and finds them on the recorded digest", async () => {
        const outcome = await runCli(["status"], { pods: readFixture<PodList>("pods-payments-ok.json") });
        assert.deepEqual(outcome.calls, ["open (selected)", "pods -n payments -l app.kubernetes.io/name=payment-api"]);
        assert.equal(outcome.code, 0);
        assert.equal(
            outcome.stdout,
            [
                ...HEADER,
                "POD                                            PHASE    READY  VERSION  DIGEST               STATE",
                "payment-api-deployment-x1y2z3-7d9f8b6c5-abcde  Running  yes    v1.1.0   sha256:a1a1a1a1a1a1  ok",
                // This pod has an istio sidecar from another repository: it is not drift.
                "payment-api-deployment-x1y2z3-7d9f8b6c5-fghij  Running  yes    v1.1.0   sha256:a1a1a1a1a1a1  ok",
                "",
            ].join("\n"),
        );
    });

    it("calls out drift after a kubectl rollout undo, and exits 1", async () => {
        const outcome = await runCli(["status"], { pods: readFixture<PodList>("pods-payments-drift.json") });
        assert.equal(outcome.code, 1);
        assert.equal(
            outcome.stdout,
            [
                ...HEADER,
                "POD                                            PHASE    READY  VERSION  DIGEST               STATE",
                "payment-api-deployment-x1y2z3-5c4b3a291-klmno  Running  yes    v1.2.1   sha256:c3c3c3c3c3c3  DRIFT",
                "payment-api-deployment-x1y2z3-5c4b3a291-pqrst  Running  yes    v1.2.1   sha256:c3c3c3c3c3c3  DRIFT",
                "payment-api-deployment-x1y2z3-5c4b3a291-uvwxy  Pending  no     v1.2.1   -                    unknown",
                "",
                `DRIFT: 2 of 3 pods run ${DIGESTS["v1.2.1"]} (version label v1.2.1), not the recorded ${DIGESTS["v1.1.0"]}.`,
                "The Deployment was changed outside Pulumi (for example by kubectl rollout undo). " +
                    "`pulumi up --refresh` restores the recorded digest; `released-service rollback --to <update>` records another one.",
                "",
            ].join("\n"),
        );
    });

    it("says a service restored ahead of its record (its pods run what its pin names) is RESTORED, RECORD PENDING, not drift, and exits 1", async () => {
        const stack = new FakeStack({
            config: {
                "released-service:image": IMAGE,
                "released-service:version": "v1.1.0",
                "released-service:digest": DIGESTS["v1.1.0"],
                "released-service:pins": { "payment-api": { version: "v1.2.1", digest: DIGESTS["v1.2.1"], update: 4, asked: { version: "v1.1.0", digest: DIGESTS["v1.1.0"] } } },
            },
        });
        const pods = readFixture<PodList>("pods-payments-drift.json");
        const outcome = await runCli(["status"], { stack, pods });
        assert.equal(outcome.code, 1);
        assert.match(
            outcome.stdout,
            new RegExp(
                `\nRESTORED, RECORD PENDING: 2 of 3 pods run ${DIGESTS["v1.2.1"]}, the release stacks/Pulumi.dev.yaml pins, restored ahead of the update that records it \\(rollback --restore-first\\)\\. ` +
                    "pulumi up --stack dev records it\\.\n$",
            ),
        );
        assert.doesNotMatch(outcome.stdout, /DRIFT/);
        assert.match(outcome.stdout, /\npayment-api-deployment-x1y2z3-5c4b3a291-klmno +Running +yes +v1\.2\.1 +sha256:c3c3c3c3c3c3 +restored\n/);
        const json = JSON.parse((await runCli(["status", "--json"], { stack, pods })).stdout) as { drift: boolean; services: { recordPending?: boolean }[] };
        assert.deepEqual([json.drift, json.services[0].recordPending], [false, true]);
    });

    it("prints the comparison as JSON", async () => {
        const outcome = await runCli(["status", "--json"], { pods: readFixture<PodList>("pods-payments-drift.json") });
        assert.equal(outcome.code, 1);
        const pods = ["klmno", "pqrst"].map((suffix) => ({
            pod: `payment-api-deployment-x1y2z3-5c4b3a291-${suffix}`,
            phase: "Running",
            ready: true,
            version: "v1.2.1",
            digest: DIGESTS["v1.2.1"],
            state: "drift",
        }));
        assert.deepEqual(JSON.parse(outcome.stdout), {
            stack: "dev",
            drift: true,
            services: [
                {
                    service: "payment-api",
                    recordedVersion: "v1.1.0",
                    recordedDigest: DIGESTS["v1.1.0"],
                    imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`,
                    pods: [...pods, { pod: "payment-api-deployment-x1y2z3-5c4b3a291-uvwxy", phase: "Pending", ready: false, version: "v1.2.1", digest: null, state: "unknown" }],
                    drift: true,
                    namespace: "payments",
                    selector: "app.kubernetes.io/name=payment-api",
                },
            ],
        });
    });

    it("lists the pods of the workload the component recorded, and exits 1 when no pod matches", async () => {
        const outcome = await runCli(["status"], { stack: new FakeStack({ config: {} }), pods: { items: [] } });
        assert.equal(outcome.calls[1], "pods -n payments -l app.kubernetes.io/name=payment-api");
        assert.equal(outcome.code, 1);
        assert.ok(outcome.stdout.endsWith("No pods match app.kubernetes.io/name=payment-api in namespace payments.\n"), outcome.stdout);
    });

    it("says a service whose component recorded no workload cannot be read, whatever the stack config says, and exits 1", async () => {
        const stack = new FakeStack({ services: [{ name: "payment-api", imageDigest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0" }] });
        const outcome = await runCli(["status"], { stack });
        assert.deepEqual(
            [outcome.code, outcome.stdout, outcome.calls],
            [1, "Service payment-api of stack dev records no workload (its component registered none).\n", ["open (selected)"]],
        );
    });

    it("refuses a stack that was never deployed, before asking the cluster", async () => {
        const outcome = await runCli(["status"], { stack: new FakeStack({ services: [] }) });
        assert.equal(outcome.code, 1);
        assert.deepEqual(outcome.calls, ["open (selected)"]);
        assert.equal(outcome.stderr, "error: stack dev records no release digest (of a ReleasedService or ReleasedImage): it has not been deployed yet (run pulumi up)\n");
    });

    it("says the config asks for a release that does not run when the newest update failed, and exits 1", async () => {
        // What Swarm leaves after rolling a failed update back: the last good release runs and is recorded.
        const entries = devHistory();
        const failed = { ...entries[0], result: "failed", message: "v9.9.9", startTime: "2025-03-22T10:00:00Z", endTime: "2025-03-22T10:05:00Z" };
        const stack = new FakeStack({ entries: [failed, ...entries], config: { "released-service:image": IMAGE, "released-service:version": "v9.9.9" } });
        const outcome = await runCli(["status", "--json"], { stack, pods: readFixture<PodList>("pods-payments-ok.json") });
        assert.equal(outcome.code, 1, outcome.stderr);
        const report = JSON.parse(outcome.stdout) as { drift: boolean; failedUpdate: unknown };
        assert.equal(report.drift, false, "what runs is what was recorded");
        assert.deepEqual(report.failedUpdate, { update: entries.length + 1, configVersions: [{ service: "payment-api", version: "v9.9.9" }] });
        const text = await runCli(["status"], { stack, pods: readFixture<PodList>("pods-payments-ok.json") });
        assert.ok(
            text.stdout.endsWith(
                `\nThe newest update of stack dev, #${entries.length + 1}, failed: what runs is what the last successful update recorded, while ` +
                    "it asked for payment-api v9.9.9. Roll back by config (released-service rollback --to <update> --stack dev) so the config names what runs, " +
                    "or fix the release and run pulumi up.\n",
            ),
            text.stdout,
        );
    });

    it("keeps the service's own name in --json beside a Compose or Swarm service of another name", async () => {
        const ref = `${IMAGE}@${DIGESTS["v1.1.0"]}`;
        const recorded = { imageDigest: DIGESTS["v1.1.0"], imageRef: ref, version: "v1.1.0" };
        const stack = new FakeStack({
            services: [
                { name: "shop-web", ...recorded, workload: { kind: "compose", file: "compose.released.yaml", service: "web" } },
                { name: "shop-worker", ...recorded, workload: { kind: "swarm", service: "worker" } },
            ],
        });
        const container = { Name: "/shop-web-1", Config: { Image: ref, Labels: { "com.docker.compose.project.working_dir": "/work/shop" } }, State: { Status: "running", Running: true } };
        const outcome = await runCli(["status", "--json"], { stack, containers: () => [container] });
        const report = JSON.parse(outcome.stdout) as { services: Record<string, unknown>[] };
        assert.deepEqual(
            report.services.map(({ service, composeFile, composeService, swarmService }) => ({ service, composeFile, composeService, swarmService })),
            [
                { service: "shop-web", composeFile: "compose.released.yaml", composeService: "web", swarmService: undefined },
                { service: "shop-worker", composeFile: undefined, composeService: undefined, swarmService: "worker" },
            ],
        );
    });

    describe("a ReleasedImage's own workloads", () => {
        const ref = `${IMAGE}@${DIGESTS["v1.1.0"]}`;
        const deployment = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api-1a2b", namespace: "payments" }, spec: { selector: { matchLabels: { app: "api" } }, template: { spec: { initContainers: [{ name: "migrate", image: ref }], containers: [{ name: "api", image: ref }] } } } };
        const cronJob = { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "report-3c4d", namespace: "payments" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "report", image: ref }] } } } } } };
        const apiDeployment = (uid?: string): OwnWorkload => ({
            type: "kubernetes:apps/v1:Deployment",
            name: "api",
            urn: "urn:pulumi:dev::shop::kubernetes:apps/v1:Deployment::api",
            paths: ["spec.template.spec.initContainers[0].image", "spec.template.spec.containers[0].image"],
            live: { kind: "kubernetes", apiVersion: "apps/v1", objectKind: "Deployment", name: "api-1a2b", namespace: "payments", selector: { app: "api" }, ...(uid !== undefined ? { uid } : {}) },
        });
        const stack = new FakeStack({
            services: [
                {
                    name: "api",
                    imageDigest: DIGESTS["v1.1.0"],
                    imageRef: ref,
                    version: "v1.1.0",
                    ownWorkloads: [
                        apiDeployment(),
                        { type: "kubernetes:batch/v1:CronJob", name: "report", urn: "urn:pulumi:dev::shop::kubernetes:batch/v1:CronJob::report", paths: ["spec.jobTemplate.spec.template.spec.containers[0].image"], live: { kind: "kubernetes", apiVersion: "batch/v1", objectKind: "CronJob", name: "report-3c4d", namespace: "payments" } },
                        { type: "aws:ecs/taskDefinition:TaskDefinition", name: "batch", urn: "urn:pulumi:dev::shop::aws:ecs/taskDefinition:TaskDefinition::batch", paths: ["containerDefinitions"] },
                    ],
                },
            ],
        });
        const pods = readFixture<PodList>("pods-payments-ok.json");

        it("reads each where it runs: the image at each place its inputs name the release, and the pods it selects", async () => {
            const objects = (object: { kind: string }) => (object.kind === "Deployment" ? deployment : cronJob);
            const outcome = await runCli(["status"], { stack, objects, pods });
            assert.deepEqual(outcome.calls, ["open (selected)", "get Deployment api-1a2b -n payments", "get CronJob report-3c4d -n payments", "pods -n payments -l app=api"]);
            assert.equal(outcome.code, 0, outcome.stdout);
            const short = `${IMAGE}@${DIGESTS["v1.1.0"].slice(0, 19)}`;
            assert.equal(
                outcome.stdout,
                [
                    `Service api of stack dev records v1.1.0 ${DIGESTS["v1.1.0"]}`,
                    `  image ${ref}`,
                    "",
                    "Workloads that run it (found in the stack's state by the image they name):",
                    "WORKLOAD  TYPE                                   WHERE                                                   RUNS                                                                STATE",
                    `api       kubernetes:apps/v1:Deployment          Deployment api-1a2b, namespace payments (pods app=api)  ${short} (2 of 2 pods on it)  ok`,
                    `report    kubernetes:batch/v1:CronJob            CronJob report-3c4d, namespace payments                 ${short}                      ok`,
                    "batch     aws:ecs/taskDefinition:TaskDefinition  -                                                       (not read live)                                                     not read",
                    "batch (aws:ecs/taskDefinition:TaskDefinition): the command does not read this type live; the state records it runs this release.",
                    "",
                ].join("\n"),
            );
        });

        it("says the user's own workloads restored ahead of their record (they run what the pin names) are restored, not drift, exit 1", async () => {
            const v1 = `${IMAGE}@${DIGESTS["v1.0.0"]}`;
            const pinnedStack = new FakeStack({
                services: await stack.services(),
                config: { "released-service:pins": { api: { version: "v1.0.0", digest: DIGESTS["v1.0.0"], update: 1, asked: { version: "v1.1.0" } } } },
            });
            const restored = JSON.parse(JSON.stringify(deployment).split(ref).join(v1)) as unknown;
            const restoredCronJob = JSON.parse(JSON.stringify(cronJob).split(ref).join(v1)) as unknown;
            const objects = (object: { kind: string }) => (object.kind === "Deployment" ? restored : restoredCronJob);
            const onV1: PodList = {
                items: [0, 1].map((index) => ({
                    metadata: { name: `api-${index}`, labels: { app: "api" } },
                    status: { phase: "Running", containerStatuses: [{ name: "api", image: v1, imageID: v1, ready: true }] },
                })),
            };
            const outcome = await runCli(["status", "--json"], { stack: pinnedStack, objects, pods: onV1 });
            assert.equal(outcome.code, 1, outcome.stdout);
            const report = JSON.parse(outcome.stdout) as { drift: boolean; services: { recordPending?: boolean; workloads: { name: string; state: string }[] }[] };
            assert.deepEqual(
                [report.drift, report.services[0].recordPending, report.services[0].workloads.map((workload) => [workload.name, workload.state])],
                [false, true, [["api", "restored"], ["report", "restored"], ["batch", "not read"]]],
            );
            const text = await runCli(["status"], { stack: pinnedStack, objects, pods: onV1 });
            assert.match(text.stdout, /\nRESTORED, RECORD PENDING: api \(kubernetes:apps\/v1:Deployment\) runs the release the stack config pins, restored ahead of the update that records it \(rollback --restore-first\); pulumi up records it\.\n/);
        });

        it("names drift after kubectl set image on the user's own Deployment, and a workload deleted since, exit 1; --json lists each", async () => {
            const changed = structuredClone(deployment);
            changed.spec.template.spec.containers[0].image = `${IMAGE}:hotfix`;
            const objects = (object: { kind: string }) => (object.kind === "Deployment" ? changed : null);
            const outcome = await runCli(["status", "--json"], { stack, objects, pods });
            assert.equal(outcome.code, 1, outcome.stdout);
            const report = JSON.parse(outcome.stdout) as { drift: boolean; services: { workloads: { name: string; state: string; images: unknown[] }[] }[] };
            assert.equal(report.drift, true);
            assert.deepEqual(
                report.services[0].workloads.map((workload) => [workload.name, workload.state, workload.images]),
                [
                    [
                        "api",
                        "drift",
                        [
                            { path: "spec.template.spec.initContainers[0].image", live: ref },
                            { path: "spec.template.spec.containers[0].image", live: `${IMAGE}:hotfix` },
                        ],
                    ],
                    ["report", "missing", []],
                    ["batch", "not read", []],
                ],
            );
            const text = await runCli(["status"], { stack, objects, pods });
            assert.ok(
                text.stdout.includes(
                    `DRIFT: api (kubernetes:apps/v1:Deployment) runs another image than the recorded ${DIGESTS["v1.1.0"]}: it was changed outside Pulumi (kubectl set image, a rollout undo); \`pulumi up --refresh\` puts the recorded image back if the object has the annotation pulumi.com/patchForce: "true", else the Kubernetes provider refuses the field the other manager took.\n` +
                        "report (kubernetes:batch/v1:CronJob): nothing of it runs at CronJob report-3c4d, namespace payments.\n",
                ),
                text.stdout,
            );
        });

        it("refuses in one line when the user's own Deployment answers with another uid than its last update recorded; the recorded one, or none of its name, reads as always", async () => {
            const recordedUid = "6a3f1c2e-0000-4000-8000-00000000a1a1";
            const otherUid = "9b8d7c6e-0000-4000-8000-00000000b2b2";
            const recorded = new FakeStack({ services: [{ name: "api", imageDigest: DIGESTS["v1.1.0"], imageRef: ref, version: "v1.1.0", ownWorkloads: [apiDeployment(recordedUid)] }] });
            const holding = (uid: string) => (object: { kind: string }) => (object.kind === "Deployment" ? { ...deployment, metadata: { ...deployment.metadata, uid } } : null);
            const refusal =
                `service api's Deployment payments/api-1a2b (resource api) is recorded with uid ${recordedUid}, but kube context kind-staging (server https://kind-staging.example:6443) ` +
                `holds a Deployment of that name with uid ${otherUid}: another cluster, or the Deployment was deleted and re-created there. ` +
                "Point the command at the stack's cluster: kubectl config use-context <context>, or pulumi config set kubernetes:context <context> --stack dev; " +
                "if it was re-created, pulumi refresh --stack dev records the new one";
            const status = await runCli(["status"], { stack: recorded, objects: holding(otherUid), pods, currentContext: "kind-staging" });
            assert.deepEqual([status.code, status.stdout, status.stderr], [3, "", `error: status of stack dev refused: ${refusal}\n`]);
            const up = await runCli(["up", "--yes"], { stack: recorded, objects: holding(otherUid), pods, currentContext: "kind-staging" });
            assert.deepEqual([up.code, up.stderr], [3, `error: up of stack dev refused before changing anything: ${refusal}\n`]);
            assert.deepEqual(recorded.changes, [], "nothing was previewed or changed");
            const same = await runCli(["status"], { stack: recorded, objects: holding(recordedUid), pods });
            assert.equal(same.code, 0, same.stdout + same.stderr);
            const gone = await runCli(["status", "--json"], { stack: recorded, objects: () => null, pods });
            assert.equal(gone.code, 1, gone.stderr);
            assert.equal((JSON.parse(gone.stdout) as { services: { workloads: { state: string }[] }[] }).services[0].workloads[0].state, "missing");
        });

        it("reads a Docker container of the user's own by docker inspect where its provider connects, and judges it by its digest", async () => {
            const container = {
                type: "docker:index/container:Container",
                name: "edge",
                urn: "urn:pulumi:dev::shop::docker:index/container:Container::edge",
                paths: ["image"],
                live: { kind: "docker" as const, container: "shop-edge" },
            };
            const docker = new FakeStack({ services: [{ name: "api", imageDigest: DIGESTS["v1.1.0"], imageRef: ref, version: "v1.1.0", ownWorkloads: [container] }] });
            const inspect = (digest: string) => [{ Name: "/shop-edge", Image: "sha256:local", Config: { Image: `${IMAGE}@${digest}`, Labels: {} }, State: { Status: "running", Running: true } }];
            const ok = await runCli(["status", "--json"], { stack: docker, containers: () => inspect(DIGESTS["v1.1.0"]) });
            assert.equal(ok.code, 0, ok.stdout + ok.stderr);
            const report = (JSON.parse(ok.stdout) as { services: { workloads: { name: string; where: string; state: string; containers: { container: string; digest: string }[] }[] }[] }).services[0].workloads[0];
            assert.deepEqual([report.name, report.where, report.state, report.containers.map((c) => [c.container, c.digest])], ["edge", "container shop-edge", "ok", [["shop-edge", DIGESTS["v1.1.0"]]]]);
            const drifted = await runCli(["status", "--json"], { stack: docker, containers: () => inspect(DIGESTS["v1.2.1"]) });
            assert.equal(drifted.code, 1);
            assert.equal((JSON.parse(drifted.stdout) as { services: { workloads: { state: string }[] }[] }).services[0].workloads[0].state, "drift");
        });
    });
});