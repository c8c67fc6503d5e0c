// `npm run bench -- --real`: a 100-service stack on the real engine. The real Pulumi CLI and
// Kubernetes provider, the real-engine suite's kwok cluster and registry (behind its counting
// proxy, 50 ms added to every request); a program of ReleasedServices released by version against
// a hand-written program of Deployments pinned by digest. Prints each update's medians side by
// side with their ratio and registry requests per service, and writes bench/results-real.json.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { REPO_ROOT, startEnvironment, versions, type Environment, type Result } from "../../e2e/support/environment";
import { canonical } from "../../tests/support/helpers";
import { machineFacts, round, summarize, type Summary } from "../stats";
import { pushReleases, type Releases } from "./images";
import { NAMESPACES, releaseConfig, serviceName, VARIANTS, writeProject, type Variant } from "./programs";
import { pairTable, seconds, summarizeProfile, type CpuProfile, type PairRow, type ProfileSummary } from "./report";

const SERVICES = 100;
const RUNS = 3;
/** Added to every registry request: a registry in another region, as users' often are. */
const REGISTRY_LATENCY_MS = 50;
const STACK = "bench";
const V1 = "v1.0.0";
const V2 = "v2.0.0";
/** The update that runs every service's v1, the target of `rollback --to`. */
const V1_UPDATE = 1;

/** What one timed operation took, and the registry requests made while it ran. */
interface Sample {
    readonly ms: number;
    readonly requests: number;
}

interface OperationFigures extends Summary {
    readonly requestsPerService: number;
}

const operations = {
    noChangeUp: "pulumi up, no change",
    preview: "pulumi preview, no change",
    rollbackOne: "rollback of one service by config",
    rollbackAll: "rollback of every service",
} as const;
type Operation = keyof typeof operations;

/** One service restored first, and by hand, on the same cluster: each run's times. */
interface RestoreSamples {
    /** Command start to every pod on the target, as rollback --restore-first reports it. */
    readonly restoredMs: number[];
    /** Command start to the record complete (the command's end). */
    readonly recordedMs: number[];
    /** kubectl rollout undo, then kubectl rollout status until it returns. */
    readonly undoMs: number[];
}

/** What the command alone does, timed on the component's stack. */
const COMMAND_OPERATIONS = ["history", "status", "rollback --service"] as const;
type CommandOperation = (typeof COMMAND_OPERATIONS)[number];

const started = Date.now();
function progress(line: string): void {
    process.stderr.write(`bench --real [${Math.round((Date.now() - started) / 1000)} s]: ${line}\n`);
}

function ok(result: Result, what: string): Result {
    if (result.code !== 0) {
        throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
    }
    return result;
}

export async function runReal(argv: readonly string[]): Promise<void> {
    const option = (name: string, fallback: number): number => {
        const at = argv.indexOf(name);
        return at === -1 ? fallback : Number(argv[at + 1]);
    };
    const services = option("--services", SERVICES);
    const runs = option("--runs", RUNS);
    const machine = {
        ...machineFacts(),
        loadAverageAtStart: os.loadavg().map((l) => round(l)),
    };
    console.log(`released-service benchmark on the real engine: ${services} services, ${runs} runs of each update, registry +${REGISTRY_LATENCY_MS} ms a request`);
    console.log(`machine: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores, load average ${machine.loadAverageAtStart.join(" ")} at the start`);

    progress("starting the registry, the kwok cluster and the rest of the real-engine suite's environment");
    const env = await startEnvironment((line) => progress(line), { registryLatencyMs: REGISTRY_LATENCY_MS });
    try {
        const toolchain = await versions(env);
        toolchain.forEach((line) => console.log(line));
        const bench = new RealBench(env, services);
        await bench.setUp();
        const samples = await bench.measure(runs);
        const { samples: cli, restore } = await bench.measureCommands(runs);
        progress("profiling one no-change pulumi up of each program (--cpu-prof)");
        const profiles = { component: await bench.profile("component"), handWritten: await bench.profile("handWritten") };

        const figures = (variant: Variant, operation: Operation): OperationFigures => ({
            ...summarize(samples[variant][operation].map((s) => s.ms)),
            requestsPerService: summarize(samples[variant][operation].map((s) => s.requests)).medianMs / services,
        });
        const rows: PairRow[] = (Object.keys(operations) as Operation[]).map((operation) => {
            const component = figures("component", operation);
            const handWritten = figures("handWritten", operation);
            return {
                operation: operations[operation],
                runs,
                componentMs: component.medianMs,
                handWrittenMs: handWritten.medianMs,
                componentRequestsPerService: component.requestsPerService,
                handWrittenRequestsPerService: handWritten.requestsPerService,
            };
        });
        const commandRows: PairRow[] = COMMAND_OPERATIONS.map((command) => ({
            operation: `released-service ${command}`,
            runs,
            componentMs: summarize(cli[command].map((s) => s.ms)).medianMs,
            componentRequestsPerService: summarize(cli[command].map((s) => s.requests)).medianMs / services,
        }));

        console.log(`\n${services} services, medians of ${runs} runs (wall time; requests through the counting proxy, per service)`);
        pairTable([...rows, ...commandRows]).forEach((line) => console.log(line));
        console.log("\nthe runs, in order (component | hand-written):");
        for (const operation of Object.keys(operations) as Operation[]) {
            const list = (variant: Variant): string => samples[variant][operation].map((s) => seconds(s.ms)).join(", ");
            console.log(`  ${operations[operation].padEnd(36)}${list("component")} | ${list("handWritten")}`);
        }
        for (const command of COMMAND_OPERATIONS) {
            console.log(`  ${`released-service ${command}`.padEnd(36)}${cli[command].map((s) => seconds(s.ms)).join(", ")}`);
        }
        const restoreFigures = {
            restored: summarize(restore.restoredMs),
            recorded: summarize(restore.recordedMs),
            undo: summarize(restore.undoMs),
        };
        console.log(
            `\none service rolled back on the same cluster, medians of ${runs}: rollback --restore-first restored it ${seconds(restoreFigures.restored.medianMs)} ` +
                `and recorded it ${seconds(restoreFigures.recorded.medianMs)} after the command started; kubectl rollout undo + rollout status took ` +
                `${seconds(restoreFigures.undo.medianMs)} (restore first ${(restoreFigures.restored.medianMs / restoreFigures.undo.medianMs).toFixed(2)} times that, ` +
                `${seconds(restoreFigures.restored.medianMs - restoreFigures.undo.medianMs)} more); rollback --service without it ${seconds(summarize(cli["rollback --service"].map((s) => s.ms)).medianMs)}`,
        );
        console.log("\nwhere a no-change pulumi up's program spends its time (one --cpu-prof run each):");
        for (const variant of VARIANTS) {
            printProfile(variant === "component" ? "ReleasedService" : "hand-written", profiles[variant]);
        }
        const updates = rows.filter((row) => row.operation !== operations.preview);
        const missed = updates.filter((row) => row.componentMs / row.handWrittenMs! > 1.1);
        console.log(
            missed.length === 0
                ? "\ngoal met: every update at most 1.10 times the hand-written program's"
                : `\ngoal (<= 1.10) missed by: ${missed.map((row) => `${row.operation} ${(row.componentMs / row.handWrittenMs!).toFixed(2)}`).join("; ")}`,
        );

        const results = {
            date: new Date().toISOString(),
            machine: { ...machine, loadAverageAtEnd: os.loadavg().map((l) => round(l)) },
            toolchain,
            services,
            runs,
            registryLatencyMs: REGISTRY_LATENCY_MS,
            setUp: bench.setUpTimes,
            operations: Object.fromEntries(
                (Object.keys(operations) as Operation[]).map((operation) => {
                    const component = figures("component", operation);
                    const handWritten = figures("handWritten", operation);
                    return [
                        operation,
                        { what: operations[operation], component, handWritten, ratio: component.medianMs / handWritten.medianMs, samples: { component: samples.component[operation], handWritten: samples.handWritten[operation] } },
                    ];
                }),
            ),
            commands: Object.fromEntries(COMMAND_OPERATIONS.map((command) => [command, { ...summarize(cli[command].map((s) => s.ms)), samples: cli[command] }])),
            restoreFirst: { ...restoreFigures, samples: restore },
            profiles,
        };
        if (services === SERVICES && runs >= RUNS) {
            writeResults(results);
        } else {
            progress(`not writing bench/results-real.json: ${services} services and ${runs} runs are not the benchmark's plan`);
        }
    } finally {
        progress("stopping the environment");
        await env.stop();
    }
}

function printProfile(label: string, profile: ProfileSummary): void {
    const sampled = profile.parts.reduce((sum, p) => sum + p.ms, 0);
    const busy = sampled - (profile.parts.find((p) => p.part === "idle")?.ms ?? 0);
    console.log(`  ${label}: the program ran ${seconds(profile.lifetimeMs)}, on the CPU ${seconds(busy)}:`);
    console.log(`    ${profile.parts.map((p) => `${p.part} ${seconds(p.ms)}`).join(", ")}`);
}

function writeResults(results: Record<string, unknown>): void {
    const file = path.join(REPO_ROOT, "bench", "results-real.json");
    const rounded = JSON.stringify(results, (_key, v: unknown) => (typeof v === "number" ? round(v) : v), 2);
    fs.writeFileSync(`${file}.tmp`, `${rounded}\n`);
    fs.renameSync(`${file}.tmp`, file);
    progress(`wrote ${path.relative(REPO_ROOT, file)}`);
}

/** The two stacks and what the benchmark does to them. */
class RealBench {
    readonly setUpTimes: Record<string, Record<Variant, number>> = {};
    private readonly dirs: Record<Variant, string>;
    private readonly names: string[];
    private releases: Releases = {};

    constructor(
        private readonly env: Environment,
        private readonly services: number,
    ) {
        this.dirs = { component: path.join(env.scratch, "bench-component"), handWritten: path.join(env.scratch, "bench-hand-written") };
        this.names = Array.from({ length: services }, (_, i) => serviceName(i));
    }

    private pulumi(variant: Variant, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
        return this.env.run(path.join(this.env.pulumiBin, "pulumi"), [...args, "--stack", STACK], { cwd: this.dirs[variant], replaceEnv: { ...this.env.env, ...extraEnv } });
    }

    private cli(args: readonly string[]): Promise<Result> {
        return this.env.cli([...args, "--stack", STACK, "--cwd", this.dirs.component]);
    }

    private up(variant: Variant, message: string): Promise<Result> {
        return this.pulumi(variant, ["up", "--yes", "--non-interactive", "--message", message]);
    }

    private async setConfig(variant: Variant, pairs: readonly string[]): Promise<void> {
        ok(await this.pulumi(variant, ["config", "set-all", ...pairs]), `pulumi config set-all (${variant})`);
    }

    private digest(service: string, version: string): string {
        return this.releases[service][version];
    }

    /** Sets `version` for `services` in the variant's config and runs pulumi up: a rollback or roll forward by config. */
    private async release(variant: Variant, services: readonly string[], version: string, message: string): Promise<void> {
        await this.setConfig(variant, releaseConfig(variant, services, version, (service) => this.digest(service, version)));
        ok(await this.up(variant, message), `pulumi up (${variant}, ${message})`);
    }

    /** Wall time and registry requests of `action`. */
    private async timed(action: () => Promise<void>): Promise<Sample> {
        const before = this.env.registryRequests().length;
        const start = process.hrtime.bigint();
        await action();
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        return { ms, requests: this.env.registryRequests().length - before };
    }

    /** Fails unless every Deployment of the variant runs `version`'s digest (`except` runs `exceptVersion`'s). */
    private async expectRunning(variant: Variant, version: string, except?: { service: string; version: string }): Promise<void> {
        const list = JSON.parse(await this.env.kubectl(["get", "deployments", "-n", NAMESPACES[variant], "-o", "json"])) as {
            items: { metadata: { labels: Record<string, string> }; spec: { template: { spec: { containers: { image: string }[] } } } }[];
        };
        const running = new Map(list.items.map((d) => [d.metadata.labels["app.kubernetes.io/name"], d.spec.template.spec.containers[0].image]));
        const wrong = this.names.filter((service) => {
            const expected = service === except?.service ? except.version : version;
            return running.get(service) !== `${this.env.registry.host}/${service}@${this.digest(service, expected)}`;
        });
        if (wrong.length > 0 || running.size !== this.services) {
            throw new Error(`${variant}: ${running.size} Deployments, of which ${wrong.length} do not run what they should (${wrong.slice(0, 5).join(", ")})`);
        }
    }

    async setUp(): Promise<void> {
        progress(`pushing ${V1} and ${V2} of ${this.services} repositories`);
        this.releases = await pushReleases(this.env.registry.host, this.env.scratch, this.names, [V1, V2]);
        for (const variant of VARIANTS) {
            await this.env.kubectl(["create", "namespace", NAMESPACES[variant]]);
            writeProject(variant, this.dirs[variant]);
            ok(await this.pulumi(variant, ["stack", "init", "--non-interactive"]), `pulumi stack init (${variant})`);
            await this.setConfig(variant, ["--plaintext", `registry=${this.env.registry.host}`, "--plaintext", `namespace=${NAMESPACES[variant]}`, "--plaintext", `services=${this.services}`]);
        }
        for (const [step, version] of [[`first update, every service at ${V1}`, V1], [`update of every service to ${V2}`, V2]] as const) {
            this.setUpTimes[step] = { component: 0, handWritten: 0 };
            for (const variant of VARIANTS) {
                progress(`${variant}: ${step}`);
                const sample = await this.timed(() => this.release(variant, this.names, version, step));
                this.setUpTimes[step][variant] = sample.ms;
            }
        }
        for (const variant of VARIANTS) {
            await this.expectRunning(variant, V2);
        }
        await this.expectSameWorkloads();
        const history = JSON.parse(ok(await this.cli(["history", "--json"]), "released-service history").stdout) as { update: number; version: string | null }[];
        if (!history.some((row) => row.update === V1_UPDATE && row.version === V1)) {
            throw new Error(`update ${V1_UPDATE} of the component's stack did not run ${V1}`);
        }
    }

    /**
     * The comparison means something only if both programs declare the same Deployments and
     * Services: their inputs in the two states, but for the names Pulumi gave them and the namespace.
     */
    private async expectSameWorkloads(): Promise<void> {
        const workloads = async (variant: Variant): Promise<Map<string, string>> => {
            const state = JSON.parse(ok(await this.pulumi(variant, ["stack", "export"]), `pulumi stack export (${variant})`).stdout) as {
                deployment: { resources: { urn: string; type: string; inputs?: { metadata?: Record<string, unknown> } }[] };
            };
            return new Map(
                state.deployment.resources
                    .filter((r) => r.type === "kubernetes:apps/v1:Deployment" || r.type === "kubernetes:core/v1:Service")
                    .map((r) => {
                        const metadata = { ...r.inputs?.metadata };
                        delete metadata.name;
                        delete metadata.namespace;
                        return [`${r.type} ${r.urn.split("::").pop()}`, canonical({ ...r.inputs, metadata })];
                    }),
            );
        };
        const component = await workloads("component");
        const handWritten = await workloads("handWritten");
        const differing = [...component].filter(([key, inputs]) => handWritten.get(key) !== inputs).map(([key]) => key);
        if (component.size !== 2 * this.services || handWritten.size !== component.size || differing.length > 0) {
            throw new Error(
                `the hand-written program does not declare what ReleasedService declares: ${component.size} and ${handWritten.size} workload resources, differing: ${differing.slice(0, 5).join(", ")}\n` +
                    `${differing.length > 0 ? `${component.get(differing[0])}\n${handWritten.get(differing[0])}` : ""}`,
            );
        }
        progress(`both programs declare the same ${component.size} Deployments and Services`);
    }

    /**
     * Each run, on each program (the order alternating): a no-change up, a preview, one service
     * rolled back by config and forward again, then every service rolled back and forward again.
     * Only the rollbacks are timed; the roll forward restores the stack for the next run.
     */
    async measure(runs: number): Promise<Record<Variant, Record<Operation, Sample[]>>> {
        const empty = (): Record<Operation, Sample[]> => ({ noChangeUp: [], preview: [], rollbackOne: [], rollbackAll: [] });
        const samples: Record<Variant, Record<Operation, Sample[]>> = { component: empty(), handWritten: empty() };
        for (let run = 0; run < runs; run++) {
            const order: Variant[] = run % 2 === 0 ? ["component", "handWritten"] : ["handWritten", "component"];
            for (const variant of order) {
                const into = samples[variant];
                const step = (operation: Operation): void => progress(`run ${run + 1} of ${runs}, ${variant}: ${operations[operation]}`);
                step("noChangeUp");
                into.noChangeUp.push(await this.timed(async () => void ok(await this.up(variant, "no change"), `pulumi up (${variant}, no change)`)));
                step("preview");
                into.preview.push(await this.timed(async () => void ok(await this.pulumi(variant, ["preview", "--non-interactive"]), `pulumi preview (${variant})`)));

                const one = this.names[(run * 37) % this.services];
                step("rollbackOne");
                into.rollbackOne.push(await this.timed(() => this.release(variant, [one], V1, `${one} back to ${V1}`)));
                await this.expectRunning(variant, V2, { service: one, version: V1 });
                await this.release(variant, [one], V2, `${one} forward to ${V2}`);

                step("rollbackAll");
                into.rollbackAll.push(await this.timed(() => this.rollbackAll(variant)));
                await this.expectRunning(variant, V1);
                if (variant === "component") {
                    ok(await this.cli(["release-hold"]), "released-service release-hold");
                    ok(await this.up(variant, `every service forward to ${V2}`), "pulumi up after release-hold");
                } else {
                    await this.release(variant, this.names, V2, `every service forward to ${V2}`);
                }
                await this.expectRunning(variant, V2);
            }
        }
        return samples;
    }

    /** `released-service rollback --to 1`; by hand, every service's version and digest in the config, and pulumi up. */
    private async rollbackAll(variant: Variant): Promise<void> {
        if (variant === "component") {
            ok(await this.cli(["rollback", "--to", String(V1_UPDATE), "--yes"]), `released-service rollback --to ${V1_UPDATE}`);
        } else {
            await this.release(variant, this.names, V1, `every service back to ${V1}`);
        }
    }

    /**
     * The command's own operations, each run: history, status, and one service rolled back by the
     * command (`rollback --to 1 --service <one>`: a whole update of the stack), then untimed forward
     * again; then the same service restored first (`--restore-first`: the time to restore and the time
     * to record, as the command reports them) and forward again; then the same rollback by hand on
     * the same cluster, `kubectl rollout undo` and `kubectl rollout status`, and forward again.
     */
    async measureCommands(runs: number): Promise<{ samples: Record<CommandOperation, Sample[]>; restore: RestoreSamples }> {
        const samples: Record<CommandOperation, Sample[]> = { history: [], status: [], "rollback --service": [] };
        const restore: RestoreSamples = { restoredMs: [], recordedMs: [], undoMs: [] };
        for (let run = 0; run < runs; run++) {
            for (const command of ["history", "status"] as const) {
                progress(`run ${run + 1} of ${runs}: released-service ${command}`);
                samples[command].push(await this.timed(async () => void ok(await this.cli([command]), `released-service ${command}`)));
            }
            const one = this.names[(run * 53 + 11) % this.services];
            const rollback = ["rollback", "--to", String(V1_UPDATE), "--service", one, "--yes"];
            progress(`run ${run + 1} of ${runs}: released-service ${rollback.join(" ")}`);
            samples["rollback --service"].push(await this.timed(async () => void ok(await this.cli(rollback), `released-service ${rollback.join(" ")}`)));
            await this.expectRunning("component", V2, { service: one, version: V1 });
            await this.forward(one);

            progress(`run ${run + 1} of ${runs}: released-service ${rollback.join(" ")} --restore-first`);
            const restored = ok(await this.cli([...rollback, "--restore-first", "--json"]), "released-service rollback --restore-first");
            const times = (JSON.parse(restored.stdout) as { restoreFirst: { restoredSeconds: number | null; recordedSeconds: number } }).restoreFirst;
            if (times.restoredSeconds === null) {
                throw new Error(`rollback --restore-first of ${one} did not see every pod on ${V1}`);
            }
            restore.restoredMs.push(times.restoredSeconds * 1000);
            restore.recordedMs.push(times.recordedSeconds * 1000);
            await this.expectRunning("component", V2, { service: one, version: V1 });
            await this.forward(one);

            progress(`run ${run + 1} of ${runs}: kubectl rollout undo and rollout status of ${one}'s Deployment`);
            const namespace = NAMESPACES.component;
            const deployment = (await this.env.kubectl(["get", "deployments", "-n", namespace, "-l", `app.kubernetes.io/name=${one}`, "-o", "jsonpath={.items[0].metadata.name}"])).trim();
            const undo = await this.timed(async () => {
                await this.env.kubectl(["rollout", "undo", `deployment/${deployment}`, "-n", namespace]);
                await this.env.kubectl(["rollout", "status", `deployment/${deployment}`, "-n", namespace, "--timeout", "300s"]);
            });
            restore.undoMs.push(undo.ms);
            await this.expectRunning("component", V2, { service: one, version: V1 });
            ok(await this.pulumi("component", ["up", "--yes", "--non-interactive", "--refresh", "--message", `${one} forward to ${V2} after the undo`]), "pulumi up --refresh after the undo");
            await this.expectRunning("component", V2);
        }
        return { samples, restore };
    }

    /** Lifts the hold a rollback of `one` left and runs every service's v2 again. */
    private async forward(one: string): Promise<void> {
        ok(await this.cli(["release-hold", "--service", one]), `released-service release-hold --service ${one}`);
        ok(await this.up("component", `${one} forward to ${V2}`), "pulumi up after release-hold");
        await this.expectRunning("component", V2);
    }

    /** One no-change pulumi up with the program under `--cpu-prof`; the largest profile is the program's. */
    async profile(variant: Variant): Promise<ProfileSummary> {
        const dir = path.join(this.env.scratch, `profile-${variant}`);
        fs.mkdirSync(dir);
        ok(await this.pulumi(variant, ["up", "--yes", "--non-interactive", "--message", "profiled"], { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` }), `profiled pulumi up (${variant})`);
        const files = fs.readdirSync(dir).map((file) => path.join(dir, file));
        if (files.length === 0) {
            throw new Error(`no CPU profile in ${dir}`);
        }
        const largest = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
        return summarizeProfile(JSON.parse(fs.readFileSync(largest, "utf8")) as CpuProfile, REPO_ROOT);
    }
}
