// Each workload kind pins itself to the release the resolution decided, by digest, with the exact
// inputs its provider receives; a setting of another kind is refused before anything is registered.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import { CONTAINER_TYPE, DEPLOYMENT_TYPE, MockCloud, ofType, REGISTRY_HOST, runUpdate, SWARM_SERVICE_TYPE, Update } from "../support/helpers";
import type { ReleasedServiceArgs } from "../../components/releasedService";
import { scratchDir } from "../support/scratch";

type Module = typeof import("../../components");
let component: Module;

const IMAGE = `${REGISTRY_HOST}/shop`;

function deploy(cloud: MockCloud, args: Partial<ReleasedServiceArgs>, preview = false): Promise<Update> {
    return runUpdate(
        cloud,
        () => {
            const service = new component.ReleasedService("shop", { image: IMAGE, build: false, ...args });
            return { imageRef: service.imageRef, workload: service.workload };
        },
        { preview },
    );
}

function only(update: Update, type: string): pulumi.runtime.MockResourceArgs {
    const found = ofType(update, type);
    assert.equal(found.length, 1, `exactly one ${type}: ${update.errors.join("\n")}`);
    return found[0];
}

describe("workload kinds", () => {
    before(async () => {
        await pulumi.runtime.setMocks(new MockCloud(), "released-service", "dev", false);
        component = await import("../../components");
    });

    describe("docker: one container on a Docker host", () => {
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1`);
        const v2 = cloud.pushElsewhere(`${IMAGE}:v2`);
        const healthcheck = { tests: ["CMD", "/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/"], interval: "2s", retries: 3 };

        it("runs the release by digest, waits for health when a check is given, and records the container", async () => {
            const update = await deploy(cloud, { workload: "docker", version: "v1", env: { B: "2", A: "1" }, publishedPort: 18080, healthcheck });
            assert.deepEqual(update.errors, []);
            assert.deepEqual(only(update, CONTAINER_TYPE).inputs, {
                name: "shop",
                image: `${IMAGE}@${v1}`,
                envs: ["A=1", "B=2"],
                ports: [{ internal: 8080, external: 18080 }],
                restart: "unless-stopped",
                labels: [
                    { label: "io.released-service.service", value: "shop" },
                    { label: "io.released-service.version", value: "v1" },
                ],
                healthcheck,
                wait: true,
                waitTimeout: 60,
            });
            assert.equal(ofType(update, DEPLOYMENT_TYPE).length, 0, "no Kubernetes resource");
            assert.deepEqual(update.outputs.workload, { kind: "docker", container: "shop" });
        });

        it("replaces the container for another release: the provider's image is ForceNew", async () => {
            const update = await deploy(cloud, { workload: "docker", version: "v2", env: { B: "2", A: "1" }, publishedPort: 18080, healthcheck });
            assert.deepEqual(update.errors, []);
            assert.equal(update.operations.get(`${CONTAINER_TYPE}::shop`), "replace");
            assert.equal(only(update, CONTAINER_TYPE).inputs.image, `${IMAGE}@${v2}`);
        });

        it("adds the user's mounts, networks, command, args and labels to the container, its own labels last", async () => {
            const update = await deploy(cloud, {
                workload: "docker",
                version: "v1",
                hostContainer: {
                    mounts: [
                        { source: "shop-data", target: "/data" },
                        { source: "/etc/shop", target: "/etc/shop", readOnly: true },
                    ],
                    networks: ["backend"],
                    command: ["/bin/server"],
                    args: ["--port=8080"],
                    labels: { team: "shop" },
                },
            });
            assert.deepEqual(update.errors, []);
            const inputs = only(update, CONTAINER_TYPE).inputs;
            assert.deepEqual(
                [inputs.volumes, inputs.networksAdvanced, inputs.entrypoints, inputs.command, inputs.labels],
                [
                    [
                        { volumeName: "shop-data", containerPath: "/data" },
                        { hostPath: "/etc/shop", containerPath: "/etc/shop", readOnly: true },
                    ],
                    [{ name: "backend" }],
                    ["/bin/server"],
                    ["--port=8080"],
                    [
                        { label: "team", value: "shop" },
                        { label: "io.released-service.service", value: "shop" },
                        { label: "io.released-service.version", value: "v1" },
                    ],
                ],
            );
        });

        it("without a health check, asks for no wait: the provider's wait is for health, and refused without a check", async () => {
            const update = await deploy(cloud, { workload: "docker", version: "v1", publishedPort: 18080 });
            const inputs = only(update, CONTAINER_TYPE).inputs;
            assert.equal(inputs.wait, false);
            assert.equal(inputs.waitTimeout, undefined);
        });
    });

    describe("swarm: a Swarm service", () => {
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1`);
        const v2 = cloud.pushElsewhere(`${IMAGE}:v2`);

        it("runs the release by digest, rolls a failed update back itself, and waits for convergence", async () => {
            const update = await deploy(cloud, { workload: "swarm", version: "v1", replicas: 2, progressDeadlineSeconds: 90, env: { A: "1" } });
            assert.deepEqual(update.errors, []);
            const labels = [
                { label: "io.released-service.service", value: "shop" },
                { label: "io.released-service.version", value: "v1" },
            ];
            assert.deepEqual(only(update, SWARM_SERVICE_TYPE).inputs, {
                name: "shop",
                labels,
                // The version label on the service only: the provider's container labels are ForceNew (a new service per release).
                taskSpec: { containerSpec: { image: `${IMAGE}@${v1}`, env: { A: "1" }, labels: [labels[0]] } },
                mode: { replicated: { replicas: 2 } },
                updateConfig: { parallelism: 1, delay: "0s", failureAction: "rollback", monitor: "5s", maxFailureRatio: "0", order: "start-first" },
                rollbackConfig: { parallelism: 1, delay: "0s", failureAction: "pause", monitor: "5s", maxFailureRatio: "0", order: "stop-first" },
                convergeConfig: { delay: "1s", timeout: "90s" },
            });
            assert.deepEqual(update.outputs.workload, { kind: "swarm", service: "shop" });
        });

        it("updates the service in place for another release", async () => {
            const update = await deploy(cloud, { workload: "swarm", version: "v2", replicas: 2, progressDeadlineSeconds: 90, env: { A: "1" } });
            assert.equal(update.operations.get(`${SWARM_SERVICE_TYPE}::shop`), "update");
            assert.equal(only(update, SWARM_SERVICE_TYPE).inputs.taskSpec.containerSpec.image, `${IMAGE}@${v2}`);
        });

        it("adds the user's mounts, networks, command and args to the tasks' container, and labels to the service", async () => {
            const update = await deploy(cloud, {
                workload: "swarm",
                version: "v1",
                hostContainer: { mounts: [{ source: "queue", target: "/var/queue" }], networks: ["backend"], command: ["/bin/worker"], args: ["--once"], labels: { team: "shop" } },
            });
            assert.deepEqual(update.errors, []);
            const inputs = only(update, SWARM_SERVICE_TYPE).inputs;
            assert.deepEqual(inputs.taskSpec, {
                containerSpec: {
                    image: `${IMAGE}@${v1}`,
                    labels: [{ label: "io.released-service.service", value: "shop" }],
                    mounts: [{ source: "queue", target: "/var/queue", type: "volume" }],
                    commands: ["/bin/worker"],
                    args: ["--once"],
                },
                networksAdvanceds: [{ name: "backend" }],
            });
            assert.deepEqual(inputs.labels, [
                { label: "team", value: "shop" },
                { label: "io.released-service.service", value: "shop" },
                { label: "io.released-service.version", value: "v1" },
            ]);
        });

        it("in global mode, runs a task per node and sets no convergence the provider cannot do", async () => {
            const update = await deploy(cloud, { workload: "swarm", version: "v1", mode: "global" });
            const inputs = only(update, SWARM_SERVICE_TYPE).inputs;
            assert.deepEqual(inputs.mode, { global: true });
            assert.equal(inputs.convergeConfig, undefined);
        });
    });

    describe("compose: a Compose file pinning the service", () => {
        let dir: string;
        let file: string;
        before(() => {
            dir = scratchDir("compose-");
            file = path.join(dir, "compose.released.yaml");
        });
        after(() => fs.rmSync(dir, { recursive: true, force: true }));
        const cloud = new MockCloud();
        const v1 = cloud.pushElsewhere(`${IMAGE}:v1`);
        const v2 = cloud.pushElsewhere(`${IMAGE}:v2`);
        const written = (): unknown => JSON.parse(fs.readFileSync(file, "utf8"));
        const entry = (digest: string, version: string) => ({
            image: `${IMAGE}@${digest}`,
            labels: { "io.released-service.service": "shop", "io.released-service.version": version },
        });

        it("writes nothing in a preview, and declares no resource", async () => {
            const update = await deploy(cloud, { workload: "compose", version: "v1", composeFile: file }, true);
            assert.deepEqual(update.errors, []);
            assert.equal(fs.existsSync(file), false);
            assert.deepEqual(update.resources.filter((r) => r.custom), []);
        });

        it("writes the service pinned by digest on an update, and records the file", async () => {
            const update = await deploy(cloud, { workload: "compose", version: "v1", composeFile: file, composeService: "web" });
            assert.deepEqual(update.errors, []);
            assert.deepEqual((written() as { services: unknown }).services, { web: entry(v1, "v1") });
            assert.deepEqual(update.outputs.workload, { kind: "compose", file, service: "web" });
        });

        it("rewrites it for a rollback by config, keeping every other service of the file", async () => {
            await deploy(cloud, { workload: "compose", version: "v2", composeFile: file });
            await deploy(cloud, { workload: "compose", version: "v1", composeFile: file, composeService: "web" });
            assert.deepEqual((written() as { services: unknown }).services, { shop: entry(v2, "v2"), web: entry(v1, "v1") });
        });
    });

    describe("settings of another kind", () => {
        const cloud = new MockCloud();
        cloud.pushElsewhere(`${IMAGE}:v1`);
        const refused = async (args: Partial<ReleasedServiceArgs>, message: string) => {
            const update = await deploy(cloud, { version: "v1", ...args });
            assert.deepEqual(update.errors.map((e) => e.replace(/^[\s\S]*?Error: /, "")), [message]);
            assert.deepEqual(update.resources, [], "nothing registered");
        };

        it("refuses revisionHistoryLimit on docker, naming it and the kind's own settings", () =>
            refused(
                { workload: "docker", revisionHistoryLimit: 3 },
                "`revisionHistoryLimit` is a setting of the kubernetes workload, not of docker (docker's settings: progressDeadlineSeconds, port, env, publishedPort, restart, healthcheck)",
            ));

        it("refuses a deadline on a global Swarm service, which the provider cannot converge", () =>
            refused(
                { workload: "swarm", mode: "global", progressDeadlineSeconds: 60 },
                "`progressDeadlineSeconds` needs `mode` replicated: the Docker provider cannot wait for a global service's update to converge",
            ));

        it("refuses a Docker host container's additions that take the component's own label or cannot mount, naming each field", () =>
            refused(
                { workload: "docker", hostContainer: { mounts: [{ source: "", target: "data" }], labels: { "io.released-service.version": "v9" } } },
                "3 invalid inputs:\n" +
                    '  - `hostContainer.mounts[0].source` must be a volume\'s name or an absolute host path (got "")\n' +
                    '  - `hostContainer.mounts[0].target` must be an absolute path in the container such as /data (got "data")\n' +
                    "  - `hostContainer.labels.io.released-service.version` is the component's own label (the command finds the service and its release by it); leave it out",
            ));

        it("refuses hostContainer on Kubernetes, naming what it has instead", () =>
            refused(
                { hostContainer: { networks: ["backend"] } },
                "`hostContainer` is a setting of the docker and swarm workloads, not of kubernetes (kubernetes: `pod` and `container`)",
            ));

        it("refuses an unknown kind", () =>
            refused({ workload: "nomad" as ReleasedServiceArgs["workload"] }, '`workload` must be one of kubernetes, docker, swarm, compose (got "nomad")'));

        it("refuses a health check without its test", () =>
            refused(
                { workload: "docker", healthcheck: { interval: "5s" } as unknown as ReleasedServiceArgs["healthcheck"] },
                '`healthcheck` must have `tests`, the command that checks, e.g. ["CMD", "/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]',
            ));
    });
});
