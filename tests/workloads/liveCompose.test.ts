// What runs for a Compose service, and how the drill makes it run a release: docker compose rerun
// the way the service's containers were started, read from the labels docker compose gives them.
import * as assert from "node:assert/strict";

import { composeLive, composeRerun } from "../../components/workloads/compose/live";
import type { ContainerInspect } from "../../components/workloads/docker/live";

const V2 = `sha256:${"2".repeat(64)}`;
const REPO = "127.0.0.1:5000/shop";
const PINNED = "/srv/shop/compose.released.yaml";

/** A container as docker compose v2+ labels it (project, working_dir, config_files, service). */
function started(files: string, labels: Record<string, string> = {}): ContainerInspect {
    return {
        Name: "/shop-web-1",
        Config: {
            Image: `${REPO}@${V2}`,
            Labels: {
                "io.released-service.version": "v2",
                "com.docker.compose.project": "shop",
                "com.docker.compose.project.working_dir": "/srv/shop",
                "com.docker.compose.project.config_files": files,
                "com.docker.compose.service": "web",
                ...labels,
            },
        },
        State: { Status: "running", Running: true },
    };
}

describe("a Compose service, live", () => {
    it("finds the service's containers and judges each by its digest", async () => {
        const live = composeLive({ kind: "compose", file: "compose.released.yaml", service: "web" }, "/srv/shop", async (service) => {
            assert.equal(service, "web");
            return [started(`/srv/shop/compose.yaml,${PINNED}`)];
        });
        assert.deepEqual((await live.instances({ digest: V2 })).map((i) => [i.name, i.state, i.ready]), [["shop-web-1", "ok", true]]);
        assert.equal(live.none, "No container of Compose service web runs: run docker compose -f compose.yaml -f compose.released.yaml up -d.");
    });

    it("reruns docker compose as the containers were started: same project, directory and files, this service only", async () => {
        assert.deepEqual(composeRerun([started(`/srv/shop/compose.yaml,${PINNED}`), started(`/srv/shop/compose.yaml,${PINNED}`)], "web", PINNED), {
            args: ["compose", "--project-name", "shop", "--project-directory", "/srv/shop", "-f", "/srv/shop/compose.yaml", "-f", PINNED, "up", "--detach", "--no-deps", "web"],
        });
        const ran: string[][] = [];
        const live = composeLive(
            { kind: "compose", file: "compose.released.yaml", service: "web" },
            "/srv/shop",
            async () => [started(`/srv/shop/compose.yaml,${PINNED}`)],
            async (args) => ran.push([...args]),
        );
        assert.equal(await live.rerun?.problem(), undefined);
        assert.equal(await live.rerun?.run(), `docker compose --project-name shop --project-directory /srv/shop -f /srv/shop/compose.yaml -f ${PINNED} up --detach --no-deps web`);
        assert.equal(ran.length, 1);
    });

    it("says why it cannot rerun: nothing runs, not started by compose, several projects, or started without the pinned file", async () => {
        const start = `start it once with docker compose -f compose.yaml -f ${PINNED} up -d`;
        assert.deepEqual(composeRerun([], "web", PINNED), { problem: `no container of Compose service web runs, so there is no docker compose project to rerun: ${start}` });
        const byHand: ContainerInspect = { ...started(""), Config: { Image: `${REPO}@${V2}`, Labels: {} } };
        assert.deepEqual(composeRerun([byHand], "web", PINNED), {
            problem: `the containers of Compose service web were not started by docker compose (they have no com.docker.compose.project labels): ${start}`,
        });
        assert.deepEqual(composeRerun([started(PINNED), started(PINNED, { "com.docker.compose.project": "other" })], "web", PINNED), {
            problem: "the containers of Compose service web come from 2 docker compose projects; stop all but one",
        });
        assert.deepEqual(composeRerun([started("/srv/shop/compose.yaml")], "web", PINNED), {
            problem: `Compose service web runs from /srv/shop/compose.yaml, without ${PINNED}, so the digest it pins would not run: ${start}`,
        });
        const live = composeLive({ kind: "compose", file: "compose.released.yaml", service: "web" }, "/srv/shop", async () => [], async () => assert.fail("nothing runs"));
        await assert.rejects(live.rerun!.run(), { message: `no container of Compose service web runs, so there is no docker compose project to rerun: ${start}` });
    });
});
