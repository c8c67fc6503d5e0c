// Rollback that is rehearsed, holds, checks its target and undoes a failed rollout, under the real
// engine, registry and cluster: `released-service drill`, `up --atomic`, the hold and
// `release-hold`, `rollback --with-config`, and a deleted target refused in preview.
import * as assert from "node:assert/strict";
import { performance } from "node:perf_hooks";

import type { DrillReport } from "../cli/commands/drill";
import { environment } from "./support/hooks";
import type { Environment, Result } from "./support/environment";
import { settledPodDigests, Stack, succeeded } from "./support/project";

const NAME = "drill-app";
const REPOSITORY = "drill-api";
/** The rollout deadline: a release whose pods never become ready fails its update after this. */
const DEADLINE_SECONDS = 20;
/** Runs of each timing: the figures reported are their medians. */
const RUNS = 5;

interface Row {
    readonly update: number;
    readonly kind: string;
    readonly result: string;
    readonly version: string | null;
    readonly digest: string | null;
    readonly message: string;
}

describe("rollback rehearsed, held, undone and checked under the real engine", function () {
    let env: Environment;
    let stack: Stack;
    let image: string;
    const digests: Record<string, string> = {};
    const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", "drill", "--cwd", env.project]);
    let v15Deleted = false;

    /** A retention policy deletes v1.5.0 (once, whichever test of `--grep` runs first). */
    async function deleteV15(): Promise<void> {
        if (!v15Deleted) {
            await env.registry.deleteManifest(REPOSITORY, digests["v1.5.0"]);
            v15Deleted = true;
        }
    }

    async function deployment(): Promise<{ name: string; image: string; replicas: number }> {
        const found = JSON.parse(await env.kubectl(["get", "deployments", "-l", `app.kubernetes.io/name=${NAME}`, "-o", "json"])) as {
            items: { metadata: { name: string }; spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } }[];
        };
        assert.equal(found.items.length, 1, "exactly one Deployment");
        const [item] = found.items;
        return { name: item.metadata.name, image: item.spec.template.spec.containers[0].image, replicas: item.spec.replicas };
    }

    /** The digest of every pod that stays, once they all run `expected`, or after a minute. */
    const podDigests = (expected: string): Promise<string[]> => settledPodDigests(env, `app.kubernetes.io/name=${NAME}`, expected);

    async function config(): Promise<Record<string, unknown>> {
        const result = succeeded(await env.pulumi(["config", "--json", "--stack", "drill"]), "pulumi config --json");
        return JSON.parse(result.stdout) as Record<string, unknown>;
    }

    async function rows(): Promise<Row[]> {
        const result = await cli("history", "--json");
        assert.equal(result.code, 0, result.stderr);
        return JSON.parse(result.stdout) as Row[];
    }

    /** The newest successful update that ran `version`. */
    async function updateOf(version: string): Promise<number> {
        const row = (await rows()).find((r) => r.kind === "update" && r.result === "succeeded" && r.version === version);
        assert.ok(row, `an update ran ${version}`);
        return row.update;
    }

    /** Runs `version` by its tag, with no pin left in the config (the bundled program's or a rollback's). */
    async function deploy(version: string, message: string): Promise<void> {
        const current = await config();
        for (const key of ["digest", "pins"]) {
            if (current[`released-service:${key}`] !== undefined) {
                await stack.remove(key);
            }
        }
        await stack.set({ version });
        succeeded(await stack.up("--message", message), message);
    }

    before(async () => {
        env = environment();
        image = `${env.registry.host}/${REPOSITORY}`;
        for (const version of ["v1.0.0", "v1.5.0", "v2.0.0", "v3.0.0-unready"]) {
            digests[version] = await env.registry.push(REPOSITORY, version);
        }
        stack = new Stack(env, "drill");
        await stack.init({ image, name: NAME, version: "v1.0.0", build: "false", replicas: "2", progressDeadlineSeconds: String(DEADLINE_SECONDS) });
        succeeded(await stack.up("--message", "v1.0.0"), "up v1.0.0");
        await deploy("v1.5.0", "v1.5.0");
        await deploy("v2.0.0", "v2.0.0");
    });

    it("drill: rolls back to the previous release and forward again, each pod on the exact digest, config as it was; time to roll back measured (medians of 5)", async () => {
        const before = await config();
        const previous = await updateOf("v1.5.0");
        const result = await cli("drill", "--yes", "--json");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as DrillReport;
        assert.deepEqual(report.from, { version: "v2.0.0", digest: digests["v2.0.0"] });
        assert.deepEqual(report.to, { update: previous, version: "v1.5.0", digest: digests["v1.5.0"] });
        assert.deepEqual(
            report.phases.map((phase) => [phase.phase, phase.digest, phase.result, phase.error]),
            [
                ["rollback", digests["v1.5.0"], "passed", null],
                ["roll forward", digests["v2.0.0"], "passed", null],
            ],
        );
        assert.equal(report.passed, true);
        assert.deepEqual(await config(), before, "the drill leaves the stack config as it found it");
        assert.deepEqual(await podDigests(digests["v2.0.0"]), [digests["v2.0.0"], digests["v2.0.0"]]);
        const messages = (await rows()).slice(0, 2).map((row) => row.message);
        assert.deepEqual(messages, [`drill: roll forward to ${NAME} v2.0.0 (${digests["v2.0.0"]})`, `drill: rollback to ${NAME} #${report.to.update} (v1.5.0, ${digests["v1.5.0"]})`]);

        // Time to roll back, each figure the median of RUNS: the drill's rollback phase (this drill and
        // RUNS - 1 more), the engine's floor (an update with nothing to change), and the same rollback
        // by hand on the same cluster.
        const phases: DrillReport["phases"][number][] = [report.phases[0]];
        while (phases.length < RUNS) {
            const again = await cli("drill", "--yes", "--json");
            assert.equal(again.code, 0, again.stdout + again.stderr);
            const next = JSON.parse(again.stdout) as DrillReport;
            assert.equal(next.passed, true, again.stdout);
            phases.push(next.phases[0]);
        }
        const floors: number[] = [];
        for (let i = 0; i < RUNS; i++) {
            const floorStart = performance.now();
            succeeded(await env.pulumi(["up", "--yes", "--skip-preview", "--non-interactive", "--stack", "drill"]), "no-change pulumi up");
            floors.push((performance.now() - floorStart) / 1000);
        }
        const { name } = await deployment();
        const undos: number[] = [];
        for (let i = 0; i < RUNS; i++) {
            const undoStart = performance.now();
            await env.kubectl(["rollout", "undo", `deployment/${name}`]);
            await env.kubectl(["rollout", "status", `deployment/${name}`, "--timeout=120s"]);
            assert.deepEqual(await podDigests(digests["v1.5.0"]), [digests["v1.5.0"], digests["v1.5.0"]], "kubectl rollout undo returned to v1.5.0");
            undos.push((performance.now() - undoStart) / 1000);
            // The stack config is unchanged, so only a refresh shows the update what kubectl changed;
            // the Deployment's patchForce lets it take kubectl's fields back.
            succeeded(await stack.up("--refresh", "--message", "back to the recorded v2.0.0"), "pulumi up --refresh");
            assert.deepEqual(await podDigests(digests["v2.0.0"]), [digests["v2.0.0"], digests["v2.0.0"]]);
        }
        const median = (values: readonly number[]): number => {
            const sorted = [...values].sort((a, b) => a - b);
            const middle = Math.floor(sorted.length / 2);
            return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        };
        const back = {
            seconds: median(phases.map((p) => p.seconds)),
            configSeconds: median(phases.map((p) => p.configSeconds)),
            updateSeconds: median(phases.map((p) => p.updateSeconds)),
            landedSeconds: median(phases.map((p) => p.landedSeconds)),
        };
        const floor = median(floors);
        const undo = median(undos);
        const all = (values: readonly number[]): string => values.map((v) => v.toFixed(1)).join(", ");
        const line = (what: string, s: number, runs?: readonly number[]): string =>
            `  ${what.padEnd(44)} ${s.toFixed(1).padStart(5)} s${runs ? `   (${all(runs)})` : ""}`;
        console.log(
            [
                `time to roll back (2 replicas; medians of ${RUNS} runs, each run in brackets):`,
                line(`released-service drill, rollback phase`, back.seconds, phases.map((p) => p.seconds)),
                line(`  config edit`, back.configSeconds, phases.map((p) => p.configSeconds)),
                line(`  pulumi up`, back.updateSeconds, phases.map((p) => p.updateSeconds)),
                line(`  pods on the digest`, back.landedSeconds, phases.map((p) => p.landedSeconds)),
                line("kubectl rollout undo + rollout status", undo, undos),
                line("pulumi up with no changes (the engine's floor)", floor, floors),
                `  rollback phase - floor: ${(back.seconds - floor).toFixed(1)} s (goal: 1.0 s or less); ` +
                    `ratio drill / kubectl undo: ${(back.seconds / undo).toFixed(1)}; drill / no-change up: ${(back.seconds / floor).toFixed(2)}`,
            ].join("\n"),
        );
    });

    it("deleted: a pinned digest gone from the registry is refused in preview and up, and the Deployment is untouched", async () => {
        await deleteV15();
        const running = await deployment();
        await stack.set({ version: "v1.5.0", digest: digests["v1.5.0"] });
        const preview = await stack.preview();
        assert.notEqual(preview.code, 0, "the preview fails");
        const expected = `${image}@${digests["v1.5.0"]} (version v1.5.0) is no longer in its registry`;
        assert.ok(preview.stdout.includes(expected), preview.stdout + preview.stderr);
        const up = await stack.up();
        assert.notEqual(up.code, 0, "the update fails");
        assert.ok(up.stdout.includes(expected), up.stdout + up.stderr);
        assert.deepEqual(await deployment(), running);
        assert.deepEqual(await podDigests(digests["v2.0.0"]), [digests["v2.0.0"], digests["v2.0.0"]]);
        await stack.remove("digest");
        await stack.set({ version: "v2.0.0" });
    });

    it("drill: fails before changing anything when its target was deleted from the registry, exit 1", async () => {
        await deleteV15();
        const before = await config();
        const history = (await rows()).length;
        const result = await cli("drill", "--yes", "--to", "v1.5.0");
        assert.equal(result.code, 1, result.stdout + result.stderr);
        assert.equal(
            result.stderr,
            `error: drill of stack drill failed before changing anything: ${image}@${digests["v1.5.0"]} (#${await updateOf("v1.5.0")}, v1.5.0) is no longer in its registry, ` +
                "so a rollback to it would fail too. Push it again, or drill to a release that is still there (released-service verify lists them).\n",
        );
        assert.deepEqual(await config(), before);
        assert.equal((await rows()).length, history, "no update ran");
    });

    it("hold: a rollback holds its release; a roll forward is refused in preview until release-hold lifts it", async () => {
        const v1 = await updateOf("v1.0.0");
        const rollback = await cli("rollback", "--to", String(v1), "--yes", "--reason", "INC-7: v2.0.0 drops payments");
        assert.equal(rollback.code, 0, rollback.stdout + rollback.stderr);
        const holds = (await config())["released-service:holds"] as { objectValue?: Record<string, Record<string, string>> };
        const hold = holds.objectValue?.[NAME];
        assert.equal(hold?.digest, digests["v1.0.0"]);
        assert.equal(hold?.reason, "INC-7: v2.0.0 drops payments");
        assert.match(hold?.at ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        // The pin records the update it came from and what the args (the version key, v2.0.0) asked.
        const pins = (await config())["released-service:pins"] as { objectValue?: Record<string, unknown> };
        assert.deepEqual(pins.objectValue?.[NAME], { version: "v1.0.0", digest: digests["v1.0.0"], update: v1, asked: { version: "v2.0.0" } });
        assert.deepEqual(await podDigests(digests["v1.0.0"]), [digests["v1.0.0"], digests["v1.0.0"]]);

        // A pipeline redeploys the bad release the way it always does, and someone clears the pin.
        await stack.remove("pins");
        await stack.set({ version: "v2.0.0" });
        const preview = await stack.preview();
        assert.notEqual(preview.code, 0, "the held stack refuses the roll forward");
        assert.ok(preview.stdout.includes(`stack drill holds ${NAME} on ${digests["v1.0.0"]}`), preview.stdout);
        assert.ok(preview.stdout.includes(`released-service release-hold --stack drill --service ${NAME}`), preview.stdout);
        const refused = await stack.up();
        assert.notEqual(refused.code, 0);
        assert.deepEqual(await podDigests(digests["v1.0.0"]), [digests["v1.0.0"], digests["v1.0.0"]], "the rollback held");

        const lifted = await cli("release-hold");
        assert.equal(lifted.code, 0, lifted.stderr);
        assert.ok(lifted.stdout.startsWith(`Lifted the hold on ${digests["v1.0.0"]} (INC-7: v2.0.0 drops payments; set by `), lifted.stdout);
        assert.equal((await config())["released-service:holds"], undefined);
        succeeded(await stack.up("--message", "v2.0.0 again"), "the roll forward after release-hold");
        assert.deepEqual(await podDigests(digests["v2.0.0"]), [digests["v2.0.0"], digests["v2.0.0"]]);
    });

    it("with-config: rollback --with-config restores the replicas the earlier update ran with", async () => {
        await stack.set({ replicas: "3" });
        succeeded(await stack.up("--message", "v2.0.0 on 3 replicas"), "scale to 3");
        const v1 = await updateOf("v1.0.0");
        const result = await cli("rollback", "--to", String(v1), "--with-config", "--no-hold", "--yes");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.ok(result.stdout.includes(`Restoring the config of update #${v1} in stack drill:\n`), result.stdout);
        assert.ok(result.stdout.includes("  ~ released-service:replicas: 3 → 2\n"), result.stdout);
        // Update #v1 is the hold's rollback, which ran v1.0.0 by its pin: the config it ran with comes back, and the pin
        // records what the args asked in that update, which the restored version key asks again.
        const restored = await config();
        assert.equal((restored["released-service:replicas"] as { value: string }).value, "2");
        const asked = (restored["released-service:version"] as { value: string }).value;
        assert.deepEqual((restored["released-service:pins"] as { objectValue?: unknown }).objectValue, {
            [NAME]: { version: "v1.0.0", digest: digests["v1.0.0"], update: v1, asked: { version: asked } },
        });
        assert.equal((await deployment()).replicas, 2);
        assert.deepEqual(await podDigests(digests["v1.0.0"]), [digests["v1.0.0"], digests["v1.0.0"]]);
        await deploy("v2.0.0", "v2.0.0 after the restored config");
        assert.deepEqual(await podDigests(digests["v2.0.0"]), [digests["v2.0.0"], digests["v2.0.0"]]);
    });

    it("atomic: a release whose pods never become ready fails at its deadline and is undone, every pod back on the previous digest", async () => {
        const previous = await updateOf("v2.0.0");
        await stack.set({ version: "v3.0.0-unready" });
        const started = performance.now();
        const result = await cli("up", "--atomic", "--yes");
        const seconds = (performance.now() - started) / 1000;
        assert.equal(result.code, 1, result.stdout + result.stderr);
        const [undone, failed] = (await rows()).slice(0, 2);
        assert.deepEqual([failed.result, failed.version, failed.message], ["failed", "v3.0.0-unready", "released-service up --atomic"]);
        assert.deepEqual([undone.result, undone.version, undone.digest], ["succeeded", "v2.0.0", digests["v2.0.0"]]);
        assert.ok(result.stdout.includes(`Update #${failed.update} of stack drill failed after the workload changed to ${image}@${digests["v3.0.0-unready"]}:\n`), result.stdout);
        assert.ok(
            result.stdout.includes(
                `\nUpdate #${failed.update} failed; update #${undone.update} returned stack drill to ${NAME} #${previous} (v2.0.0, ${digests["v2.0.0"]}), ` +
                    "and every instance runs its digest.\n",
            ),
            result.stdout,
        );
        assert.equal((await deployment()).image, `${image}@${digests["v2.0.0"]}`);
        assert.deepEqual(await podDigests(digests["v2.0.0"]), [digests["v2.0.0"], digests["v2.0.0"]]);
        console.log(`  up --atomic: failed at the ${DEADLINE_SECONDS} s deadline and undone in ${seconds.toFixed(1)} s in all`);
    });

    it("after a failed up --atomic and a config edit, rollback --to N completes, its pin naming what the config asks now", async () => {
        // The undo above pinned v2.0.0 while the args asked for v3.0.0-unready; the operator sets the version back.
        await stack.set({ version: "v2.0.0" });
        const v1 = await updateOf("v1.0.0");
        const result = await cli("rollback", "--to", String(v1), "--yes");
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.deepEqual(((await config())["released-service:pins"] as { objectValue?: unknown }).objectValue, {
            [NAME]: { version: "v1.0.0", digest: digests["v1.0.0"], update: v1, asked: { version: "v2.0.0" } },
        });
        assert.deepEqual(await podDigests(digests["v1.0.0"]), [digests["v1.0.0"], digests["v1.0.0"]]);
        succeeded(await cli("release-hold"), "release-hold");
        await deploy("v2.0.0", "v2.0.0 after the rollback");
    });

    after(async () => {
        await env.pulumi(["destroy", "--yes", "--non-interactive", "--stack", "drill"]);
    });
});
