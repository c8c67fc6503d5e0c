// The user's own workloads: a program of its own, outside this repository, with the packed package,
// that releases two images with ReleasedImage and runs them in resources it declares itself — a
// production-shaped Deployment (an init container running migrations from the same image, an env var
// from a Secret, a ConfigMap volume, a service account), a nightly CronJob, a StatefulSet, and a
// local Helm chart through helm.v4.Chart. Every capability reaches them (history, status, rollback,
// pins, drill, up --atomic), found in the state by the image they run, with nothing added to the
// program.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import type { Environment, Result } from "./support/environment";
import { buildContext, settledPodDigests, succeeded } from "./support/project";
import { installShop, releaseShop, setShopConfig, SHOP_STACK } from "./support/shop";

const STACK = SHOP_STACK;

const PROGRAM = `// A shop whose workloads are its own: two releases, run by resources it declares itself.
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");
const docker = require("@pulumi/docker");
const { ReleasedImage, ReleasedService } = require("released-service");

const config = new pulumi.Config("shop");
const api = new ReleasedImage("api", {
    image: config.require("apiImage"),
    version: config.require("apiVersion"),
    context: config.require("apiContext"),
    builder: config.require("builder"),
});
const worker = new ReleasedImage("worker", { image: config.require("workerImage"), version: config.require("workerVersion"), build: false });

const db = new k8s.core.v1.Secret("db", { metadata: { name: "shop-db" }, stringData: { url: "postgres://shop@db.shop/shop" } });
const settings = new k8s.core.v1.ConfigMap("settings", { metadata: { name: "shop-settings" }, data: { "shop.conf": "currency=EUR\\n" } });
const account = new k8s.core.v1.ServiceAccount("api", { metadata: { name: "shop-api" } });

const apiLabels = { app: "shop-api" };
new k8s.apps.v1.Deployment("api", {
    metadata: {
        annotations: {
            // Pulumi takes back a field another manager took (kubectl set image) instead of refusing it.
            "pulumi.com/patchForce": "true",
            // A release whose pods never become ready fails pulumi up within a minute.
            "pulumi.com/timeoutSeconds": "60",
        },
    },
    spec: {
        replicas: 2,
        progressDeadlineSeconds: 30,
        selector: { matchLabels: apiLabels },
        template: {
            metadata: { labels: { ...apiLabels, "app.kubernetes.io/version": api.version } },
            spec: {
                serviceAccountName: account.metadata.name,
                initContainers: [{ name: "migrate", image: api.imageRef, args: ["migrate"] }],
                containers: [{
                    name: "api",
                    image: api.imageRef,
                    env: [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: db.metadata.name, key: "url" } } }],
                    volumeMounts: [{ name: "settings", mountPath: "/etc/shop" }],
                }],
                volumes: [{ name: "settings", configMap: { name: settings.metadata.name } }],
            },
        },
    },
});
new k8s.batch.v1.CronJob("report", {
    spec: {
        schedule: "0 3 * * *",
        jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "report", image: api.imageRef, args: ["report"] }] } } } },
    },
});
const workerLabels = { app: "shop-worker" };
new k8s.apps.v1.StatefulSet("worker", {
    spec: {
        serviceName: "worker",
        replicas: 1,
        selector: { matchLabels: workerLabels },
        template: { metadata: { labels: workerLabels }, spec: { containers: [{ name: "worker", image: worker.imageRef }] } },
    },
});
new k8s.helm.v4.Chart("web", { chart: "./chart", values: { image: api.imageRef } });

// A service the component runs, its pod shaped for production; no replicas, so the autoscaler owns the count.
const billing = new ReleasedService("billing", {
    image: config.require("billingImage"),
    version: config.require("billingVersion"),
    build: false,
    pod: {
        volumes: [{ name: "settings", configMap: "shop-settings" }],
        serviceAccountName: "shop-api",
        initContainers: [{ name: "migrate", args: ["migrate"], secretEnv: { DATABASE_URL: { secret: "shop-db", key: "url" } } }],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] }] } } },
        topologySpread: [{ topologyKey: "kubernetes.io/hostname" }],
    },
    container: {
        mounts: [{ name: "settings", mountPath: "/etc/shop", readOnly: true }],
        secretEnv: { DATABASE_URL: { secret: "shop-db", key: "url" } },
        livenessProbe: { tcpSocket: {}, periodSeconds: 20 },
    },
}, { dependsOn: [db, settings, account] });
new k8s.autoscaling.v2.HorizontalPodAutoscaler("billing", {
    spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: billing.workload.apply((workload) => workload.deployment) },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }],
    },
});

// An edge proxy on a Docker host: a container of the program's own, running its release by digest.
const edge = new ReleasedImage("edge", { image: config.require("edgeImage"), version: config.require("edgeVersion"), build: false });
new docker.Container("edge", { name: "own-workloads-edge", image: edge.imageRef, restart: "unless-stopped" }, { deleteBeforeReplace: true });

exports.apiImage = api.imageRef;
exports.workerImage = worker.imageRef;
`;

/** A local chart of the team's own: one Deployment whose image is a value. */
const CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/templates/deployment.yaml": [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  name: {{ .Release.Name }}-web",
        "spec:",
        "  replicas: 1",
        "  selector:",
        "    matchLabels: {app: shop-web}",
        "  template:",
        "    metadata:",
        "      labels: {app: shop-web}",
        "    spec:",
        "      containers:",
        "        - name: web",
        "          image: {{ .Values.image }}",
        "",
    ].join("\n"),
};

interface WorkloadReport {
    readonly name: string;
    readonly type: string;
    readonly state: string;
    readonly images: { readonly path: string; readonly live: string | null }[];
}
interface StatusReport {
    readonly drift: boolean;
    readonly services: { readonly service: string; readonly recordedDigest: string; readonly workloads?: WorkloadReport[] }[];
}

describe("own workloads: ReleasedImage run by a user's own Deployment, CronJob, StatefulSet, Helm chart and Docker container, and a ReleasedService's production pod", function () {
    let env: Environment;
    let shop: string;
    const digests: Record<string, string> = {};
    const pulumi = (...args: string[]): Promise<Result> => env.pulumi(args, { cwd: shop });
    const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", STACK, "--cwd", shop]);
    const ref = (digest: string): string => `${env.registry.host}/own-api@${digest}`;

    /** The image the user's CronJob's template names, as the cluster holds it. */
    async function cronJobImage(): Promise<string> {
        const list = JSON.parse(await env.kubectl(["get", "cronjobs", "-o", "json"])) as {
            items: { metadata: { name: string }; spec: { jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } } }[];
        };
        const [cronJob] = list.items.filter((item) => item.metadata.name.startsWith("report-"));
        return cronJob.spec.jobTemplate.spec.template.spec.containers[0].image;
    }

    /** What each workload runs: the API's and the chart's pods, the CronJob's template, the worker's pods. */
    async function running(api: string, worker: string): Promise<Record<string, string[] | string>> {
        return {
            api: await settledPodDigests(env, "app=shop-api", api),
            web: await settledPodDigests(env, "app=shop-web", api),
            report: await cronJobImage(),
            worker: await settledPodDigests(env, "app=shop-worker", worker),
        };
    }

    async function status(): Promise<{ code: number | null; report: StatusReport }> {
        const result = await cli("status", "--json");
        return { code: result.code, report: JSON.parse(result.stdout) as StatusReport };
    }

    before(async function () {
        this.timeout(30 * 60_000);
        env = environment();
        shop = path.join(env.scratch, "own-workloads");
        await installShop(env, shop, PROGRAM, CHART);
        digests.b1 = await env.registry.push("own-billing", "b1.0.0");
        const e1 = await env.docker.pushImage("own-edge", "e1.0.0", { content: "edge 1.0.0\n" });
        digests.e1 = e1.digest;
        digests.e2 = (await env.docker.pushImage("own-edge", "e2.0.0", { content: "edge 2.0.0\n" })).digest;
        const config = { billingImage: `${env.registry.host}/own-billing`, billingVersion: "b1.0.0", edgeImage: e1.repository, edgeVersion: "e1.0.0" };
        Object.assign(digests, await releaseShop(env, pulumi, { repository: "own", config }));
    });

    it("runs each release's digest in every workload that names it, init container included", async () => {
        assert.deepEqual(await running(digests.v2, digests.w2), { api: [digests.v2, digests.v2], web: [digests.v2], report: ref(digests.v2), worker: [digests.w2] });
        const pods = JSON.parse(await env.kubectl(["get", "pods", "-l", "app=shop-api", "-o", "json"])) as { items: { spec: { initContainers: { image: string }[]; serviceAccountName: string } }[] };
        assert.deepEqual(
            pods.items.map((pod) => pod.spec.initContainers[0].image),
            [ref(digests.v2), ref(digests.v2)],
        );
    });

    it("history lists every release in every update, with the digest each ran", async () => {
        const result = await cli("history", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const rows = JSON.parse(result.stdout) as { update: number; service: string; version: string; digest: string }[];
        assert.deepEqual(
            rows.map((row) => [row.update, row.service, row.version, row.digest]),
            [
                [2, "api", "v2.0.0", digests.v2],
                [2, "billing", "b1.0.0", digests.b1],
                [2, "edge", "e1.0.0", digests.e1],
                [2, "worker", "w2.0.0", digests.w2],
                [1, "api", "v1.0.0", digests.v1],
                [1, "billing", "b1.0.0", digests.b1],
                [1, "edge", "e1.0.0", digests.e1],
                [1, "worker", "w1.0.0", digests.w1],
            ],
        );
    });

    it("verify finds every release's digest of those updates still in its registry", async () => {
        const result = await cli("verify", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { missing: number; references: { digest: string; state: string; services: string[] }[] };
        assert.equal(report.missing, 0);
        assert.deepEqual(
            report.references.map((reference) => [reference.digest, reference.state, reference.services]).sort(),
            [
                [digests.v1, "present", ["api"]],
                [digests.v2, "present", ["api"]],
                [digests.b1, "present", ["billing"]],
                [digests.e1, "present", ["edge"]],
                [digests.w1, "present", ["worker"]],
                [digests.w2, "present", ["worker"]],
            ].sort(),
        );
    });

    it("status lists every workload of each release, found in the state, with what it runs live", async () => {
        const { code, report } = await status();
        assert.equal(code, 0, JSON.stringify(report, null, 2));
        assert.deepEqual(
            report.services.map((service) => [service.service, service.recordedDigest, service.workloads?.map((workload) => [workload.type, workload.name, workload.state]).sort()]),
            [
                [
                    "api",
                    digests.v2,
                    [
                        // The chart's Deployment, as helm.v4.Chart names the objects it registers.
                        ["kubernetes:apps/v1:Deployment", "api", "ok"],
                        ["kubernetes:apps/v1:Deployment", "web:default/web-web", "ok"],
                        ["kubernetes:batch/v1:CronJob", "report", "ok"],
                    ],
                ],
                ["billing", digests.b1, undefined],
                ["edge", digests.e1, [["docker:index/container:Container", "edge", "ok"]]],
                ["worker", digests.w2, [["kubernetes:apps/v1:StatefulSet", "worker", "ok"]]],
            ],
        );
    });

    it("runs a ReleasedService's production-shaped pod: a ConfigMap volume, a Secret-fed variable, a service account, an init container of its own image, node affinity and a spread over the service's own pods, no replica count of Pulumi's beside an HPA", async () => {
        const list = JSON.parse(await env.kubectl(["get", "deployments", "-l", "app.kubernetes.io/name=billing", "-o", "json", "--show-managed-fields"])) as {
            items: {
                metadata: { name: string; managedFields: { manager: string; fieldsV1: unknown }[] };
                spec: { replicas: number; template: { spec: Record<string, unknown> & { initContainers: { image: string }[]; containers: { env: unknown[]; volumeMounts: unknown[] }[] } } };
            }[];
        };
        assert.equal(list.items.length, 1);
        const [deployment] = list.items;
        const pod = deployment.spec.template.spec;
        assert.equal(pod.serviceAccountName, "shop-api");
        assert.deepEqual(pod.volumes, [{ name: "settings", configMap: { name: "shop-settings", defaultMode: 420 } }]);
        assert.equal(pod.initContainers[0].image, `${env.registry.host}/own-billing@${digests.b1}`);
        assert.deepEqual(pod.containers[0].env, [{ name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "shop-db", key: "url" } } }]);
        assert.deepEqual(pod.containers[0].volumeMounts, [{ name: "settings", mountPath: "/etc/shop", readOnly: true }]);
        assert.deepEqual(pod.affinity, {
            nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/os", operator: "In", values: ["linux"] }] }] } },
        });
        assert.deepEqual(pod.topologySpreadConstraints, [
            { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { "app.kubernetes.io/name": "billing" } } },
        ]);
        assert.equal(deployment.spec.replicas, 1, "Kubernetes created one pod");
        const pulumiFields = deployment.metadata.managedFields.filter((entry) => entry.manager.startsWith("pulumi-kubernetes"));
        assert.ok(pulumiFields.length > 0, JSON.stringify(deployment.metadata.managedFields.map((entry) => entry.manager)));
        assert.ok(!JSON.stringify(pulumiFields).includes('"f:replicas"'), "no field manager of Pulumi's owns spec.replicas, so the autoscaler may");
        const hpa = JSON.parse(await env.kubectl(["get", "horizontalpodautoscalers", "-o", "json"])) as { items: { spec: { scaleTargetRef: { name: string } } }[] };
        assert.deepEqual(hpa.items.map((item) => item.spec.scaleTargetRef.name), [deployment.metadata.name]);
        assert.deepEqual(await settledPodDigests(env, "app.kubernetes.io/name=billing", digests.b1), [digests.b1]);
    });

    it("rollback --to 1 --service api moves every workload of that release and nothing else, with nothing built or pushed", async () => {
        const writes = env.manifestWrites().length;
        const result = await cli("rollback", "--to", "1", "--service", "api", "--yes");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.deepEqual(await running(digests.v1, digests.w2), { api: [digests.v1, digests.v1], web: [digests.v1], report: ref(digests.v1), worker: [digests.w2] });
        assert.deepEqual(env.manifestWrites().slice(writes), [], "nothing was pushed");
        const { code, report } = await status();
        assert.equal(code, 0, JSON.stringify(report, null, 2));
        assert.deepEqual(
            report.services.map((service) => [service.service, service.recordedDigest]),
            [
                ["api", digests.v1],
                ["billing", digests.b1],
                ["edge", digests.e1],
                ["worker", digests.w2],
            ],
        );
    });

    it("status names the drift of the user's own Deployment after kubectl set image, and pulumi up --refresh puts it back (the Deployment has pulumi.com/patchForce)", async () => {
        const deployments = JSON.parse(await env.kubectl(["get", "deployments", "-o", "json"])) as { items: { metadata: { name: string }; spec: { selector: { matchLabels: Record<string, string> } } }[] };
        const name = `deployment.apps/${deployments.items.find((item) => item.spec.selector.matchLabels.app === "shop-api")!.metadata.name}`;
        await env.kubectl(["set", "image", name, `api=${ref(digests.v2)}`]);
        await env.kubectl(["rollout", "status", name, "--timeout=120s"]);
        const drifted = await status();
        assert.equal(drifted.code, 1, JSON.stringify(drifted.report, null, 2));
        assert.equal(drifted.report.drift, true);
        const api = drifted.report.services.find((service) => service.service === "api")!;
        const deployment = api.workloads!.find((workload) => workload.name.startsWith("api"))!;
        assert.equal(deployment.state, "drift");
        assert.deepEqual(deployment.images, [
            { path: "spec.template.spec.containers[0].image", live: ref(digests.v2) },
            { path: "spec.template.spec.initContainers[0].image", live: ref(digests.v1) },
        ]);
        assert.deepEqual(
            api.workloads!.filter((workload) => workload !== deployment).map((workload) => workload.state),
            ["ok", "ok"],
            "the CronJob and the chart's Deployment are as recorded",
        );
        succeeded(await pulumi("up", "--refresh", "--yes", "--non-interactive", "--stack", STACK, "--message", "restore"), "pulumi up --refresh");
        assert.deepEqual((await running(digests.v1, digests.w2)).api, [digests.v1, digests.v1]);
        assert.equal((await status()).code, 0);
    });

    it("a moved version key under the rollback's pin fails in preview, naming the pin, and changes no workload (rule 12)", async () => {
        await setShopConfig(pulumi, { apiVersion: "v2.0.1" });
        const refused = await pulumi("preview", "--non-interactive", "--stack", STACK);
        await setShopConfig(pulumi, { apiVersion: "v2.0.0" });
        const text = (refused.stdout + refused.stderr).replace(/\s+/g, " ");
        assert.notEqual(refused.code, 0, text);
        assert.ok(
            text.includes(
                `service api is pinned to version v1.0.0 (${digests.v1}) from update #1, set when its args asked for version v2.0.0; they now ask for version v2.0.1. ` +
                    "The pin would hide that change, so nothing was changed: lift the pin with `released-service release-hold --stack prod --service api`",
            ),
            text,
        );
        assert.deepEqual(await running(digests.v1, digests.w2), { api: [digests.v1, digests.v1], web: [digests.v1], report: ref(digests.v1), worker: [digests.w2] });
    });

    it("drill --service api rehearses the release's rollback and roll forward on every workload of it", async () => {
        succeeded(await cli("release-hold", "--service", "api"), "release-hold");
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "api forward"), "roll forward");
        assert.deepEqual(await running(digests.v2, digests.w2), { api: [digests.v2, digests.v2], web: [digests.v2], report: ref(digests.v2), worker: [digests.w2] });
        const result = await cli("drill", "--service", "api", "--yes", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { passed: boolean; phases: { phase: string; digest: string; result: string }[] };
        assert.deepEqual(
            report.phases.map((phase) => [phase.phase, phase.result, phase.digest]),
            [
                ["rollback", "passed", digests.v1],
                ["roll forward", "passed", digests.v2],
            ],
        );
        assert.deepEqual(await running(digests.v2, digests.w2), { api: [digests.v2, digests.v2], web: [digests.v2], report: ref(digests.v2), worker: [digests.w2] });
    });

    it("rollback --restore-first --service api writes every workload of the release first (the Deployment, the chart's Deployment, the CronJob), and the update that records it starts no rollout", async () => {
        const generations = async (): Promise<Record<string, number>> => {
            const list = JSON.parse(await env.kubectl(["get", "deployments", "-o", "json"])) as { items: { metadata: { generation: number }; spec: { selector: { matchLabels: Record<string, string> } } }[] };
            return Object.fromEntries(list.items.map((item) => [item.spec.selector.matchLabels.app ?? item.spec.selector.matchLabels["app.kubernetes.io/name"], item.metadata.generation]));
        };
        const before = await generations();
        const result = await cli("rollback", "--to", "1", "--service", "api", "--restore-first", "--yes", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as { restoreFirst: { restoredSeconds: number | null; recordedSeconds: number; workloads: string[] } };
        assert.deepEqual(
            report.restoreFirst.workloads.map((workload) => workload.replace(/-[0-9a-f]{8}$/, "")).sort(),
            ["CronJob default/report", "Deployment default/api", "Deployment default/web-web"].sort(),
        );
        assert.ok(report.restoreFirst.restoredSeconds !== null, result.stderr);
        assert.deepEqual(await running(digests.v1, digests.w2), { api: [digests.v1, digests.v1], web: [digests.v1], report: ref(digests.v1), worker: [digests.w2] });
        const after = await generations();
        assert.deepEqual([after["shop-api"], after["shop-web"]], [before["shop-api"] + 1, before["shop-web"] + 1], "one rollout of each Deployment: the write's");
        succeeded(await pulumi("preview", "--expect-no-changes", "--non-interactive", "--stack", STACK), "pulumi preview --expect-no-changes after the restore");
        succeeded(await cli("release-hold", "--service", "api"), "release-hold");
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "api forward"), "roll forward");
        assert.deepEqual(await running(digests.v2, digests.w2), { api: [digests.v2, digests.v2], web: [digests.v2], report: ref(digests.v2), worker: [digests.w2] });
    });

    it("up --atomic of an API release whose pods never become ready is undone: every workload of it back on the last good digest", async () => {
        await setShopConfig(pulumi, { apiVersion: "v3.0.0-unready", apiContext: buildContext(env, "own-api-v3", "v3.0.0-unready", "own api 3.0.0, never ready") });
        const result = await cli("up", "--atomic", "--yes");
        assert.equal(result.code, 1, result.stdout + result.stderr);
        assert.ok(result.stdout.includes(", and every instance runs its digest.\n"), result.stdout + result.stderr);
        assert.deepEqual(await running(digests.v2, digests.w2), { api: [digests.v2, digests.v2], web: [digests.v2], report: ref(digests.v2), worker: [digests.w2] });
    });

    it("the user's own CronJob deleted and re-created under its name, as another cluster's would be: status and rollback refuse in one line naming it, until pulumi refresh records it (rule 18)", async () => {
        const list = JSON.parse(await env.kubectl(["get", "cronjobs", "-o", "json"])) as { items: { metadata: { name: string; uid: string } }[] };
        const [cronJob] = list.items.filter((item) => item.metadata.name.startsWith("report-"));
        const name = cronJob.metadata.name;
        const object = JSON.parse(await env.kubectl(["get", "cronjob", name, "-o", "json"])) as { metadata: Record<string, unknown>; status?: unknown };
        for (const field of ["uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"]) {
            delete object.metadata[field];
        }
        delete object.status;
        const file = path.join(env.scratch, "own-workloads-report.json");
        fs.writeFileSync(file, JSON.stringify(object));
        await env.kubectl(["delete", "cronjob", name, "--wait=true"]);
        await env.kubectl(["create", "-f", file]);
        const created = (await env.kubectl(["get", "cronjob", name, "-o", "jsonpath={.metadata.uid}"])).trim();
        assert.notEqual(created, cronJob.metadata.uid);
        const why =
            `service api's CronJob default/${name} (resource report) is recorded with uid ${cronJob.metadata.uid}, but kube context e2e (server ` ;
        const refused = await cli("status");
        assert.equal(refused.code, 3, refused.stdout + refused.stderr);
        assert.equal(refused.stdout, "");
        assert.ok(refused.stderr.startsWith(`error: status of stack ${STACK} refused: ${why}`), refused.stderr);
        assert.ok(
            refused.stderr.includes(`holds a CronJob of that name with uid ${created}: another cluster, or the CronJob was deleted and re-created there. `) &&
                refused.stderr.endsWith(`; if it was re-created, pulumi refresh --stack ${STACK} records the new one\n`),
            refused.stderr,
        );
        const before = fs.readFileSync(path.join(shop, `Pulumi.${STACK}.yaml`));
        const rollback = await cli("rollback", "--to", "1", "--service", "api", "--yes");
        assert.equal(rollback.code, 3, rollback.stdout + rollback.stderr);
        assert.ok(rollback.stderr.startsWith(`error: rollback of stack ${STACK} refused before changing anything: ${why}`), rollback.stderr);
        assert.ok(fs.readFileSync(path.join(shop, `Pulumi.${STACK}.yaml`)).equals(before), "the refused rollback left the config as it was");
        succeeded(await pulumi("refresh", "--yes", "--non-interactive", "--stack", STACK), "pulumi refresh");
        const { code, report } = await status();
        assert.equal(code, 0, JSON.stringify(report, null, 2));
    });

    it("a Docker container of the program's own: a new release replaces it on its digest, status reads it, and rollback --service edge brings the earlier one back", async () => {
        await setShopConfig(pulumi, { edgeVersion: "e2.0.0" });
        succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", STACK, "--message", "edge e2"), "edge e2");
        assert.equal(await env.docker.containerDigest("own-workloads-edge"), digests.e2);
        const { code, report } = await status();
        assert.equal(code, 0, JSON.stringify(report, null, 2));
        const edge = report.services.find((service) => service.service === "edge")!;
        assert.deepEqual([edge.recordedDigest, edge.workloads?.map((workload) => [workload.name, workload.state])], [digests.e2, [["edge", "ok"]]]);
        const writes = env.manifestWrites().length;
        const rolled = await cli("rollback", "--to", "2", "--service", "edge", "--yes");
        assert.equal(rolled.code, 0, rolled.stdout + rolled.stderr);
        assert.equal(await env.docker.containerDigest("own-workloads-edge"), digests.e1);
        assert.deepEqual(env.manifestWrites().slice(writes), [], "nothing was pushed");
    });

    after(async () => {
        await pulumi("destroy", "--yes", "--non-interactive", "--stack", STACK);
    });
});
