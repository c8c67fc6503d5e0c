// `released-service verify` end to end against a real registry (docker-registry on 127.0.0.1):
// what it prints, and its exit codes for all present, some missing, and a registry that is down.

import * as assert from "node:assert/strict";
import type { HistoryEntry } from "../cli/core/history";
import type { ServiceState } from "../cli/core/services";
import type { RecordedStates } from "../cli/core/state";
import { RegistryClient } from "../components/registry/client";
import { FakeStack, runCli } from "./cli/fakes";
import { freePort, startRegistry, type TestRegistry } from "./support/registryServer";

const REPO = "team/payment-api";

describe("verify against docker-registry", () => {
    let registry: TestRegistry;
    let v1: string;
    let v2: string;
    let gone: string;
    const deps = { registryClient: async () => new RegistryClient() };

    before(async () => {
        registry = await startRegistry();
        v1 = await registry.push(REPO, "v1");
        v2 = await registry.push(REPO, "v2");
        gone = await registry.push(REPO, "v0");
        await registry.deleteManifest(REPO, gone);
    });
    after(async () => {
        await registry?.stop();
    });

    const ref = (digest: string, repository = REPO): string => `${registry.host}/${repository}@${digest}`;

    it("exits 0 when every reference is there", async () => {
        const outcome = await runCli(["verify", ref(v1), ref(v2)], deps);
        assert.equal(outcome.code, 0);
        assert.equal(outcome.stdout, ["STATE    REFERENCE", `present  ${ref(v1)}`, `present  ${ref(v2)}`, "", "All 2 references are present.", ""].join("\n"));
        assert.equal(outcome.stderr, "");
    });

    it("exits 1 and lists each missing reference by digest: a deleted manifest and an unknown repository", async () => {
        const outcome = await runCli(["verify", ref(v1), ref(gone), ref(v2, "team/never-pushed")], deps);
        assert.equal(outcome.code, 1);
        assert.equal(
            outcome.stdout,
            [
                "STATE    REFERENCE",
                `present  ${ref(v1)}`,
                `MISSING  ${ref(gone)}`,
                `MISSING  ${ref(v2, "team/never-pushed")}`,
                "",
                "2 of 3 references are missing from their registry:",
                `  ${gone}  ${registry.host}/${REPO}`,
                `  ${v2}  ${registry.host}/team/never-pushed`,
                "",
            ].join("\n"),
        );
    });

    it("exits 3, not 1, when a registry is down, and says which and why", async () => {
        const port = await freePort();
        const down = `127.0.0.1:${port}/${REPO}@${v1}`;
        const outcome = await runCli(["verify", ref(gone), down], deps);
        assert.equal(outcome.code, 3);
        assert.equal(
            outcome.stdout,
            [
                "STATE    REFERENCE",
                `MISSING  ${ref(gone)}`,
                `ERROR    ${down}`,
                "",
                "1 of 2 references are missing from their registry:",
                `  ${gone}  ${registry.host}/${REPO}`,
                "",
                "1 of 2 references could not be checked:",
                `  ${down}: cannot reach registry 127.0.0.1:${port}: connection refused`,
                "",
            ].join("\n"),
        );
    });

    it("prints results as JSON for machines", async () => {
        const outcome = await runCli(["verify", "--json", ref(v1), ref(gone)], deps);
        assert.equal(outcome.code, 1);
        assert.deepEqual(JSON.parse(outcome.stdout), {
            checked: 2,
            missing: 1,
            errors: 0,
            references: [
                { reference: ref(v1), digest: v1, state: "present", updates: [], services: [], error: null },
                { reference: ref(gone), digest: gone, state: "missing", updates: [], services: [], error: null },
            ],
        });
    });

    it("checks by default every digest the stack's last N updates ran, once each", async () => {
        const image = `${registry.host}/${REPO}`;
        const update = (version: number, kind = "update"): HistoryEntry => ({ version, kind, startTime: "2025-03-01T00:00:00.000Z", result: "succeeded" });
        // Pulumi Cloud numbers its updates; #13 is a destroy, which runs no image.
        const entries = [update(13, "destroy"), update(12), update(11), update(10), update(9)];
        // What each update's state recorded of its one service.
        const ran = new Map([
            [12, v2],
            [11, gone],
            [10, v2],
            [9, v1],
        ]);
        const states: RecordedStates = {
            statesOf: async (_entries, updates) =>
                new Map(
                    updates.flatMap((n): [number, ServiceState[]][] => {
                        const digest = ran.get(n);
                        const version = `r${n}`;
                        return digest === undefined ? [] : [[n, [{ name: "app", imageDigest: digest, imageRef: `${image}@${digest}`, version, asked: { version } }]]];
                    }),
                ),
        };
        const stack = new FakeStack({ entries, states });
        const outcome = await runCli(["verify", "--last", "4", "--stack", "dev"], { ...deps, stack });
        assert.equal(outcome.code, 1);
        assert.equal(outcome.stderr, "note: #13 (destroy, succeeded) names no image digest; not checked\n");
        assert.equal(
            outcome.stdout,
            [
                "UPDATES  STATE    REFERENCE",
                `#12,#10  present  ${image}@${v2}`,
                `#11      MISSING  ${image}@${gone}`,
                "",
                "1 of 2 references are missing from their registry:",
                `  ${gone}  ${image}`,
                "",
            ].join("\n"),
        );
    });

    it("refuses a reference that names no digest, before asking any registry", async () => {
        const outcome = await runCli(["verify", `${registry.host}/${REPO}:v1`], deps);
        assert.equal(outcome.code, 2);
        assert.equal(outcome.stderr, `error: \`${registry.host}/${REPO}:v1\` is not a digest reference: expected <repository>@sha256:<64 hex> (see released-service verify --help)\n`);
    });
});
