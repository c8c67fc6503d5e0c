// What runs on a Docker host, read from `docker inspect` as the Engine answers it: a container or a
// Swarm task is judged by the `repo@sha256:…` it was created from.
import * as assert from "node:assert/strict";

import { type ContainerInspect, dockerLive } from "../../components/workloads/docker/live";
import { type ServiceSpecInspect, swarmLive, type TaskInspect } from "../../components/workloads/swarm/live";

const V1 = `sha256:${"1".repeat(64)}`;
const V2 = `sha256:${"2".repeat(64)}`;
const REPO = "127.0.0.1:5000/shop";
const expected = { digest: V2, imageRef: `${REPO}@${V2}` };

const container = (image: string, state: Partial<ContainerInspect["State"]> = {}): ContainerInspect => ({
    Name: "/shop",
    Config: { Image: image, Labels: { "io.released-service.version": "v2" } },
    State: { Status: "running", Running: true, ...state },
});

const task = (id: string, image: string, state: string, desired = "running"): TaskInspect => ({
    ID: id,
    Slot: 1,
    DesiredState: desired,
    Status: { State: state },
    Spec: { ContainerSpec: { Image: image } },
});

const spec = (image: string, version: string): ServiceSpecInspect => ({ Labels: { "io.released-service.version": version }, TaskTemplate: { ContainerSpec: { Image: image } } });

describe("what runs on a Docker host", () => {
    it("judges the container by the digest it was created from, ready when running and healthy", async () => {
        const live = dockerLive({ kind: "docker", container: "shop" }, async (name) => {
            assert.equal(name, "shop");
            return [container(`${REPO}@${V2}`, { Health: { Status: "healthy" } })];
        });
        assert.deepEqual(await live.instances(expected), [{ name: "shop", phase: "running (healthy)", ready: true, version: "v2", digest: V2, state: "ok" }]);
        assert.equal(live.where, "container shop");
    });

    it("reports a container replaced by hand as drift, and one run by tag as unknown", async () => {
        const byHand = dockerLive({ kind: "docker", container: "shop" }, async () => [container(`${REPO}@${V1}`, { Health: { Status: "starting" } })]);
        assert.deepEqual(await byHand.instances(expected), [{ name: "shop", phase: "running (starting)", ready: false, version: "v2", digest: V1, state: "drift" }]);
        const byTag = dockerLive({ kind: "docker", container: "shop" }, async () => [container(`${REPO}:v2`)]);
        assert.equal((await byTag.instances(expected))[0].state, "unknown");
    });

    it("judges the Swarm tasks that should run, and reports a service Swarm rolled back as drift", async () => {
        // After `docker service rollback` the service's spec is v1's again, and its previous spec v2's.
        const live = swarmLive({ kind: "swarm", service: "shop" }, async () => ({
            tasks: [task("aaaaaaaaaaaaaaaa", `${REPO}@${V1}`, "running"), task("bbbbbbbbbbbbbbbb", `${REPO}@${V2}`, "failed", "shutdown")],
            specs: [spec(`${REPO}@${V1}`, "v1"), spec(`${REPO}@${V2}`, "v2")],
        }));
        assert.deepEqual(await live.instances(expected), [{ name: "shop.1.aaaaaaaaaaaa", phase: "running", ready: true, version: "v1", digest: V1, state: "drift" }]);
        assert.match(live.driftCause, /^Swarm rolled the service back/);
    });
});
