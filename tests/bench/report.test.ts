import * as assert from "node:assert/strict";

import { LOADING, pairTable, partOf, ratio, seconds, summarizeProfile, type CpuProfile } from "../../bench/real/report";

const ROOT = "/work/released-service";

describe("the real-engine benchmark's report", () => {
    it("prints seconds to a tenth and the ratio to two decimals, a dash without a counterpart", () => {
        assert.equal(seconds(12_345), "12.3 s");
        assert.equal(seconds(49), "0.0 s");
        assert.equal(ratio(11_000, 10_000), "1.10");
        assert.equal(ratio(2_000, undefined), "-");
    });

    it("puts each pair, its ratio and requests per service in one aligned row", () => {
        const lines = pairTable([
            { operation: "pulumi up, no change", runs: 3, componentMs: 21_000, handWrittenMs: 20_000, componentRequestsPerService: 2, handWrittenRequestsPerService: 0 },
            { operation: "released-service history", runs: 3, componentMs: 1_500, componentRequestsPerService: 0 },
        ]);
        assert.deepEqual(lines, [
            "operation                 runs  ReleasedService  hand-written  ratio  requests/svc (component / hand-written)",
            "pulumi up, no change         3           21.0 s        20.0 s   1.05                              2.00 / 0.00",
            "released-service history     3            1.5 s             -      -                                 0.00 / -",
        ]);
    });

    it("tells whose code a frame is from its script", () => {
        const table: [string, string, string][] = [
            ["(idle)", "", "idle"],
            ["(garbage collector)", "", "garbage collection"],
            ["(program)", "", "V8 and native code"],
            ["processTicksAndRejections", "node:internal/process/task_queues", "Node.js internals"],
            ["registerResource", `file://${ROOT}/node_modules/@pulumi/pulumi/runtime/resource.js`, "Pulumi SDK"],
            ["Deployment", `${ROOT}/node_modules/@pulumi/kubernetes/apps/v1/deployment.js`, "Kubernetes SDK"],
            ["write", `${ROOT}/node_modules/@grpc/grpc-js/build/src/call.js`, "gRPC"],
            ["serializeBinary", `${ROOT}/node_modules/google-protobuf/google-protobuf.js`, "protobuf"],
            ["semver", `${ROOT}/node_modules/semver/index.js`, "other packages"],
            ["ReleasedService", `${ROOT}/dist/components/releasedService.js`, "released-service"],
            ["", "/tmp/bench/index.js", "the program"],
        ];
        for (const [functionName, url, part] of table) {
            assert.equal(partOf({ functionName, url }, ROOT), part, `${functionName} ${url}`);
        }
    });

    it("sums sampled time by part, counting everything under a require as loading modules", () => {
        const frame = (functionName: string, url: string): { functionName: string; url: string } => ({ functionName, url });
        const profile: CpuProfile = {
            nodes: [
                { id: 1, callFrame: frame("(root)", ""), children: [2, 3, 5] },
                { id: 2, callFrame: frame("wrapModuleLoad", "node:internal/modules/cjs/loader"), children: [4] },
                { id: 3, callFrame: frame("registerResource", `${ROOT}/node_modules/@pulumi/pulumi/runtime/resource.js`) },
                { id: 4, callFrame: frame("anything", `${ROOT}/node_modules/@pulumi/pulumi/index.js`) },
                { id: 5, callFrame: frame("(idle)", "") },
            ],
            startTime: 1_000_000,
            endTime: 1_010_000,
            samples: [4, 3, 5, 2, 3],
            timeDeltas: [1_000, 2_000, 4_000, 500, 1_500],
        };
        assert.deepEqual(summarizeProfile(profile, ROOT), {
            lifetimeMs: 10,
            parts: [
                { part: "idle", ms: 4 },
                { part: "Pulumi SDK", ms: 3.5 },
                { part: LOADING, ms: 1.5 },
            ],
        });
    });
});
