// `released-service history` from recorded data: the dev stack's `pulumi stack history --json`
// and the file backend's per-update checkpoints (tests/cli/fixtures), no pulumi CLI involved.

import * as assert from "node:assert/strict";
import { buildRows, type HistoryEntry, readAllPages, updateNumbers, type UpdateRow } from "../../cli/core/history";
import { askedOfStep, servicesOfState } from "../../cli/core/services";
import { matchCheckpoints } from "../../cli/core/state";
import { fileBackendRoot } from "../../cli/core/states/file";
import { devHistory, DIGESTS, FakeStack, fileCheckpoints, IMAGE, PULUMI_HOME, runCli } from "./fakes";

const ROLLBACK_MESSAGE = `rollback to #2 (v1.1.0, ${DIGESTS["v1.1.0"]})`;

/** What every field of the six recorded updates must come out as. */
const DEV_ROWS: UpdateRow[] = [
    {
        update: 6,
        service: "payment-api",
        time: "2025-03-21T16:45:10Z",
        kind: "update",
        result: "succeeded",
        version: "v1.1.0",
        digest: DIGESTS["v1.1.0"],
        digestSource: "config",
        image: IMAGE,
        commit: "e1e2e3e4e5e6e7e8e9e0f1f2f3f4f5f6f7f8f9f0",
        dirty: false,
        author: "Ada Lovelace",
        message: ROLLBACK_MESSAGE,
    },
    {
        update: 5,
        service: "payment-api",
        time: "2025-03-20T08:00:00Z",
        kind: "refresh",
        result: "succeeded",
        version: "v1.2.1",
        digest: DIGESTS["v1.2.1"],
        digestSource: "state",
        image: IMAGE,
        commit: "d15ea5e0a1b2c3d4e5f60718293a4b5c6d7e8f90",
        dirty: false,
        author: "Grace Hopper",
        message: "",
    },
    {
        update: 4,
        service: "payment-api",
        time: "2025-03-17T12:05:30Z",
        kind: "update",
        result: "succeeded",
        version: "v1.2.1",
        digest: DIGESTS["v1.2.1"],
        digestSource: "state",
        image: IMAGE,
        commit: "d15ea5e0a1b2c3d4e5f60718293a4b5c6d7e8f90",
        dirty: false,
        author: "Grace Hopper",
        message: "v1.2.1: fix the readiness probe",
    },
    {
        // Failed: its checkpoint still holds #2's outputs (v1.1.0), which are not v1.2.0's digest.
        update: 3,
        service: "payment-api",
        time: "2025-03-17T11:30:00Z",
        kind: "update",
        result: "failed",
        version: "v1.2.0",
        digest: null,
        digestSource: null,
        image: IMAGE,
        commit: "c0ffee0a1b2c3d4e5f60718293a4b5c6d7e8f901",
        dirty: true,
        author: "Grace Hopper",
        message: "v1.2.0",
    },
    {
        update: 2,
        service: "payment-api",
        time: "2025-03-10T14:02:11Z",
        kind: "update",
        result: "succeeded",
        version: "v1.1.0",
        digest: DIGESTS["v1.1.0"],
        digestSource: "state",
        image: IMAGE,
        commit: "8b1e0f2a3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
        dirty: false,
        author: "Grace Hopper",
        message: "v1.1.0: faster checkout",
    },
    {
        // Its history and checkpoint are gzipped (PULUMI_DIY_BACKEND_GZIP was on then).
        update: 1,
        service: "payment-api",
        time: "2025-03-03T09:15:02Z",
        kind: "update",
        result: "succeeded",
        version: "v1.0.0",
        digest: DIGESTS["v1.0.0"],
        digestSource: "state",
        image: IMAGE,
        commit: "3f2c8d1e9a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
        dirty: false,
        author: "Ada Lovelace",
        message: "first release",
    },
];

describe("cli history", () => {
    it("numbers file-backend updates from the oldest (the backend records version 0) and takes Cloud's numbers as given", () => {
        const local = devHistory();
        assert.deepEqual(updateNumbers(local), [6, 5, 4, 3, 2, 1]);
        const cloud = local.map((entry, index): HistoryEntry => ({ ...entry, version: 40 - index * 2 }));
        assert.deepEqual(updateNumbers(cloud), [40, 38, 36, 34, 32, 30]);
    });

    it("reads each update's digest from its pin, else from the checkpoint the file backend kept for it", async () => {
        const entries = devHistory();
        const checkpoints = fileCheckpoints(PULUMI_HOME, "released-service", "dev");
        const rows = buildRows(entries, await checkpoints.statesOf(entries, [1, 2, 3, 4, 5, 6]));
        assert.deepEqual(rows, DEV_ROWS);
    });

    it("leaves version and digest unknown when no state can be read, whatever the program's own config keys say", () => {
        const rows = buildRows(devHistory());
        assert.deepEqual(
            rows.map((row) => [row.update, row.service, row.version, row.digest]),
            [
                [6, null, null, null],
                [5, null, null, null],
                [4, null, null, null],
                [3, null, null, null],
                [2, null, null, null],
                [1, null, null, null],
            ],
        );
    });

    it("prints one row per update, newest first, with short digests and dirty commits marked", async () => {
        const outcome = await runCli(["history"]);
        assert.equal(outcome.code, 0);
        assert.equal(outcome.stderr, "");
        assert.equal(
            outcome.stdout,
            [
                "UPDATE  TIME                  KIND     RESULT     VERSION  DIGEST               COMMIT         AUTHOR        MESSAGE",
                "#6      2025-03-21T16:45:10Z  update   succeeded  v1.1.0   sha256:a1a1a1a1a1a1  e1e2e3e        Ada Lovelace  rollback to #2 (v1.1.0, sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1…",
                "#5      2025-03-20T08:00:00Z  refresh  succeeded  v1.2.1   sha256:c3c3c3c3c3c3  d15ea5e        Grace Hopper",
                "#4      2025-03-17T12:05:30Z  update   succeeded  v1.2.1   sha256:c3c3c3c3c3c3  d15ea5e        Grace Hopper  v1.2.1: fix the readiness probe",
                "#3      2025-03-17T11:30:00Z  update   failed     v1.2.0   -                    c0ffee0-dirty  Grace Hopper  v1.2.0",
                "#2      2025-03-10T14:02:11Z  update   succeeded  v1.1.0   sha256:a1a1a1a1a1a1  8b1e0f2        Grace Hopper  v1.1.0: faster checkout",
                "#1      2025-03-03T09:15:02Z  update   succeeded  v1.0.0   sha256:101010101010  3f2c8d1        Ada Lovelace  first release",
                "",
            ].join("\n"),
        );
    });

    it("prints JSON rows with full digests for --json, limited by --limit, on the stack asked for", async () => {
        const outcome = await runCli(["history", "--json", "--limit", "2", "--stack", "dev"]);
        assert.equal(outcome.code, 0);
        assert.deepEqual(outcome.calls, ["open dev"]);
        assert.deepEqual(JSON.parse(outcome.stdout), DEV_ROWS.slice(0, 2));
    });

    it("reads the checkpoints of the rows it shows, and no others", async () => {
        const asked: number[][] = [];
        const statesOf = async (_entries: readonly HistoryEntry[], updates: readonly number[]) => {
            asked.push([...updates]);
            return new Map();
        };
        const stack = new FakeStack({ states: { statesOf } });
        await runCli(["history", "--limit", "3"], { stack });
        // Even a pinned update's state is read: it names the services that update ran.
        assert.deepEqual(asked, [[6, 5, 4]]);
    });

    it("says so when the stack has no updates", async () => {
        const outcome = await runCli(["history"], { stack: new FakeStack({ entries: [] }) });
        assert.deepEqual([outcome.code, outcome.stdout], [0, "Stack dev has no updates yet.\n"]);
    });

    it("asks for every page, not just pulumi's default 10", async () => {
        const all = Array.from({ length: 230 }, (_, index) => index);
        const pages: string[] = [];
        const read = await readAllPages(async (pageSize, page) => {
            pages.push(`${pageSize}/${page}`);
            return all.slice((page - 1) * pageSize, page * pageSize);
        });
        assert.deepEqual(read, all);
        assert.deepEqual(pages, ["100/1", "100/2", "100/3"]);
    });
});

describe("cli state files", () => {
    const file = (kind: string, startTime: number, endTime: number, nanos: string) => ({ kind, startTime, endTime, checkpointPath: `/h/dev-${nanos}.checkpoint.json` });
    const entry = (kind: string, start: number, end: number): HistoryEntry => ({
        version: 0,
        kind,
        startTime: new Date(start * 1000),
        endTime: new Date(end * 1000),
    });

    it("pairs entries with checkpoints by kind, start and end, and same-second twins in time order", () => {
        const entries = [entry("update", 200, 201), entry("update", 200, 201), entry("refresh", 100, 105), entry("update", 50, 60)];
        const files = [
            file("update", 200, 201, "201000000002"),
            file("refresh", 100, 105, "105000000000"),
            file("update", 200, 201, "201000000001"),
            // Written by an update that finished after the history was read: no entry claims it.
            file("update", 300, 301, "301000000000"),
        ];
        assert.deepEqual(
            matchCheckpoints(entries, files),
            new Map([
                [4, "/h/dev-201000000002.checkpoint.json"],
                [3, "/h/dev-201000000001.checkpoint.json"],
                [2, "/h/dev-105000000000.checkpoint.json"],
            ]),
        );
    });

    it("finds every ReleasedService of a checkpoint or a stack export by type, with the outputs it registered and its workload's image", () => {
        const urn = (name: string) => `urn:pulumi:prod::shop::released-service:index:ReleasedService::${name}`;
        const workload = { kind: "kubernetes", namespace: "shop", deployment: "api-1", service: "api", selector: { "app.kubernetes.io/name": "api" } };
        const deploymentOutputs = { spec: { template: { spec: { containers: [{ image: `${IMAGE}@${DIGESTS["v1.2.0"]}` }] } } } };
        const resources = [
            { type: "pulumi:providers:kubernetes", outputs: { version: "4.34.2" } },
            // The program names its outputs as it likes: none of them is read.
            { type: "pulumi:pulumi:Stack", outputs: { url: "http://shop", imageDigest: DIGESTS["v1.2.1"] } },
            { type: "released-service:index:ReleasedService", urn: urn("worker"), outputs: { imageDigest: DIGESTS["v1.1.0"], version: { ciphertext: "x" } } },
            {
                type: "released-service:index:ReleasedService",
                urn: urn("api"),
                // What its args asked is the component's input: recorded at registration, even by a failed update.
                inputs: { asked: { version: "v1.2.0" } },
                outputs: { imageDigest: DIGESTS["v1.0.0"], imageRef: `${IMAGE}@${DIGESTS["v1.0.0"]}`, version: "v1.0.0", built: true, workload },
            },
            { type: "kubernetes:apps/v1:Deployment", parent: urn("api"), outputs: deploymentOutputs },
        ];
        const expected = [
            {
                name: "api",
                imageDigest: DIGESTS["v1.0.0"],
                imageRef: `${IMAGE}@${DIGESTS["v1.0.0"]}`,
                version: "v1.0.0",
                built: true,
                workload,
                deployedImage: `${IMAGE}@${DIGESTS["v1.2.0"]}`,
                asked: { version: "v1.2.0" },
                // What a restore rewrites: the workload's resource as recorded.
                workloadResource: { type: "kubernetes:apps/v1:Deployment", outputs: deploymentOutputs },
            },
            // A secret output stays unknown.
            { name: "worker", imageDigest: DIGESTS["v1.1.0"], imageRef: undefined, version: undefined },
        ];
        assert.deepEqual(servicesOfState({ version: 3, checkpoint: { latest: { resources } } }), expected);
        assert.deepEqual(servicesOfState({ version: 3, deployment: { resources } }), expected);
        assert.deepEqual(servicesOfState({ version: 3, checkpoint: { latest: null } }), []);
    });

    it("finds a ReleasedImage as a service of its own resource name, with no workload record of its own", () => {
        const urn = "urn:pulumi:prod::shop::released-service:index:ReleasedImage::api";
        const resources = [
            { type: "released-service:index:ReleasedImage", urn, inputs: { asked: { version: "v1.0.0" } }, outputs: { imageDigest: DIGESTS["v1.0.0"], imageRef: `${IMAGE}@${DIGESTS["v1.0.0"]}`, version: "v1.0.0", built: false } },
            { type: "kubernetes:apps/v1:Deployment", urn: "urn:pulumi:prod::shop::kubernetes:apps/v1:Deployment::api", outputs: { spec: { template: { spec: { containers: [{ image: `${IMAGE}@${DIGESTS["v1.0.0"]}` }] } } } } },
        ];
        assert.deepEqual(servicesOfState({ version: 3, deployment: { resources } }), [
            { name: "api", imageDigest: DIGESTS["v1.0.0"], imageRef: `${IMAGE}@${DIGESTS["v1.0.0"]}`, version: "v1.0.0", built: false, asked: { version: "v1.0.0" } },
        ]);
        const step = { resourcePreEvent: { metadata: { type: "released-service:index:ReleasedImage", urn, new: { inputs: { asked: { version: "v1.1.0" } } } } } };
        assert.deepEqual(askedOfStep(step), { service: "api", asked: { version: "v1.1.0" } });
    });

    it("reads what each ReleasedService's args ask from the step a preview announces for it, and nothing from any other event", () => {
        const step = (type: string, urn: string, inputs?: Record<string, unknown>) => ({ resourcePreEvent: { metadata: { type, urn, new: { inputs } } } });
        const urn = "urn:pulumi:prod::shop::released-service:index:ReleasedService::shop-web";
        assert.deepEqual(askedOfStep(step("released-service:index:ReleasedService", urn, { asked: { version: "2.0.0" } })), {
            service: "shop-web",
            asked: { version: "2.0.0" },
        });
        // Parented: the service is still the URN's last segment.
        const nested = "urn:pulumi:prod::shop::my:index:Shop$released-service:index:ReleasedService::api";
        assert.deepEqual(askedOfStep(step("released-service:index:ReleasedService", nested, { asked: { promoteFrom: "organization/shop/dev" } })), {
            service: "api",
            asked: { promoteFrom: "organization/shop/dev" },
        });
        assert.equal(askedOfStep(step("released-service:index:ReleasedService", urn, {})), undefined);
        assert.equal(askedOfStep(step("released-service:index:ReleasedService", urn, { asked: { version: 2 } })), undefined);
        assert.equal(askedOfStep(step("kubernetes:apps/v1:Deployment", "urn:pulumi:prod::shop::kubernetes:apps/v1:Deployment::api", { asked: { version: "2.0.0" } })), undefined);
        assert.equal(askedOfStep({}), undefined);
    });

    it("finds the file backend's root from its URL", () => {
        const table: [string, string | undefined][] = [
            ["file://~", "/home/ada"],
            ["file://~/state?no_tmp_dir=true", "/home/ada/state"],
            ["file:///var/pulumi", "/var/pulumi"],
            ["file://./state", "/work/project/state"],
            ["https://api.pulumi.com", undefined],
            ["s3://bucket/state", undefined],
        ];
        for (const [url, root] of table) {
            assert.equal(fileBackendRoot(url, "/work/project", "/home/ada"), root, url);
        }
    });

    it("finds the history of a fully qualified stack name, and nothing for a stack without history", async () => {
        assert.equal(await fileCheckpoints(PULUMI_HOME, "released-service", "organization/released-service/dev").historyDir(), ".pulumi/history/released-service/dev");
        assert.equal(await fileCheckpoints(PULUMI_HOME, "other-project", "dev").historyDir(), undefined);
        assert.deepEqual(await fileCheckpoints(PULUMI_HOME, "released-service", "prod").statesOf(devHistory(), [1]), new Map());
    });
});
