// `npm run bench`: what ReleasedService costs a program evaluation against a hand-written
// baseline, and what the updates a 100-service stack makes most cost (rollbacks, roll forwards, a
// no-change update). Prints tables, writes bench/results.json, and ends with the overhead ratios.
import * as fs from "node:fs";
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";

import { canonical, MockCloud, runUpdate, Update } from "../tests/support/helpers";
import { baselineProgram, componentProgram, Program, V1, V2 } from "./programs";
import { measureUpdates, UpdatesFigures } from "./updates";
import { machineFacts, round, summarize, Summary } from "./stats";

/**
 * Repetitions per stack size, for a whole run of about three minutes on two cores: small stacks
 * are cheap to repeat, a 1,000-service evaluation takes most of a minute, so it runs once.
 */
const PLAN: readonly { services: number; repetitions: number; warmUp: boolean }[] = [
    { services: 1, repetitions: 15, warmUp: true },
    { services: 10, repetitions: 11, warmUp: true },
    { services: 100, repetitions: 5, warmUp: true },
    // Warming up here would double the longest part of the run; the 100-service runs have
    // already compiled every path a 1,000-service evaluation takes.
    { services: 1000, repetitions: 1, warmUp: false },
];
const RATIO_AT = 100;
const UPDATE_SERVICES = 100;
/** Resources each service registers: the component or baseline, Image, Deployment, Service. */
const RESOURCES_PER_SERVICE = 4;

type Variant = "component" | "baseline";

interface Measurement {
    readonly wallMs: number;
    readonly cpuMs: number;
}

interface VariantFigures extends Summary {
    readonly perServiceMs: number;
    readonly cpuMedianMs: number;
}

interface SizeFigures {
    readonly services: number;
    readonly component: VariantFigures;
    readonly baseline: VariantFigures;
    /** Component median over baseline median, wall time. */
    readonly ratio: number;
    /** The same with CPU time, which other processes on the machine disturb less. */
    readonly cpuRatio: number;
}

// A full collection before every timed run, so no run pays for the garbage of the one before.
v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

async function main(): Promise<void> {
    if (process.argv.includes("--real")) {
        // The real engine at scale: a program of its own (bench/real/run.ts), minutes not seconds.
        return (await import("./real/run")).runReal(process.argv.slice(2));
    }
    const quick = process.argv.includes("--quick");
    const plan = quick ? PLAN.filter((p) => p.services <= RATIO_AT).map((p) => ({ ...p, repetitions: 3 })) : PLAN;
    const machine = machineFacts();
    console.log(`released-service benchmark: node ${machine.node}, ${machine.cpu}, ${machine.cores} cores`);

    await assertSameDeclarations();

    process.stderr.write(`bench: rollbacks, roll forwards and a no-change update of ${UPDATE_SERVICES} services\n`);
    const updates = await measureUpdates(UPDATE_SERVICES);
    printUpdates(updates);
    if (updates.problems.length > 0) {
        console.error(`bench: an update built, pushed or ran what it must not:\n${updates.problems.map((p) => `  - ${p}`).join("\n")}`);
        process.exit(1);
    }

    const sizes: SizeFigures[] = [];
    for (const { services, repetitions, warmUp } of plan) {
        // Progress on stderr: the whole run takes minutes, and stdout stays the table.
        process.stderr.write(`bench: ${count(services, "service")}, ${count(repetitions, "run")} of each variant${warmUp ? " after a warm-up" : ""}\n`);
        sizes.push(await measureSize(services, repetitions, warmUp));
    }
    printEvaluation(sizes);

    const at = sizes.find((s) => s.services === RATIO_AT);
    if (at === undefined) {
        throw new Error(`no measurement at ${RATIO_AT} services`);
    }
    if (!quick) {
        writeResults({ date: new Date().toISOString(), machine, evaluation: sizes, updates, overheadRatio: round(at.ratio) });
    }
    const thousand = sizes.find((s) => s.services === 1000);
    console.log(`overhead ratio: ${at.ratio.toFixed(2)} (${RATIO_AT} services)${thousand === undefined ? "" : `, ${thousand.ratio.toFixed(2)} (1000 services)`}`);
}

/**
 * The comparison means something only if both variants declare the same Image, Deployment and
 * Service with the same inputs; checked on a small stack before anything is timed.
 */
async function assertSameDeclarations(): Promise<void> {
    const declared = (update: Update): string[] =>
        update.resources.filter((r) => r.custom).map((r) => `${r.type} ${r.name} ${canonical(r.inputs)}`).sort();
    const component = declared(await evaluate(componentProgram(2), 2));
    const baseline = declared(await evaluate(baselineProgram(2), 2));
    const differing = component.filter((d, i) => d !== baseline[i]);
    if (component.length !== baseline.length || differing.length > 0) {
        throw new Error(`the baseline does not declare what ReleasedService declares:\n${differing.join("\n")}`);
    }
}

/** Warm-up, then interleaved runs: the order alternates so neither variant always runs second. */
async function measureSize(services: number, repetitions: number, warmUp: boolean): Promise<SizeFigures> {
    const programs: Record<Variant, Program> = { component: componentProgram(services), baseline: baselineProgram(services) };
    if (warmUp) {
        await timed(programs.component, services);
        await timed(programs.baseline, services);
    }
    const runs: Record<Variant, Measurement[]> = { component: [], baseline: [] };
    for (let rep = 0; rep < repetitions; rep++) {
        const order: Variant[] = rep % 2 === 0 ? ["component", "baseline"] : ["baseline", "component"];
        for (const variant of order) {
            runs[variant].push(await timed(programs[variant], services));
        }
    }
    const figures = (variant: Variant): VariantFigures => {
        const wall = summarize(runs[variant].map((m) => m.wallMs));
        return { ...wall, perServiceMs: wall.medianMs / services, cpuMedianMs: summarize(runs[variant].map((m) => m.cpuMs)).medianMs };
    };
    const component = figures("component");
    const baseline = figures("baseline");
    return {
        services,
        component,
        baseline,
        ratio: component.medianMs / baseline.medianMs,
        cpuRatio: component.cpuMedianMs / baseline.cpuMedianMs,
    };
}

/** One program evaluation on a fresh stack, from the start of the program to its last registration. */
async function timed(program: Program, services: number): Promise<Measurement> {
    collectGarbage();
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await evaluate(program, services);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const used = process.cpuUsage(cpu);
    return { wallMs, cpuMs: (used.user + used.system) / 1000 };
}

async function evaluate(program: Program, services: number): Promise<Update> {
    const update = await runUpdate(new MockCloud(), program);
    if (update.errors.length > 0 || update.resources.length !== RESOURCES_PER_SERVICE * services) {
        throw new Error(
            `an evaluation of ${services} services registered ${update.resources.length} resources ` +
                `(expected ${RESOURCES_PER_SERVICE * services}) with errors: ${update.errors.join("; ") || "none"}`,
        );
    }
    return update;
}

function printUpdates(figures: UpdatesFigures): void {
    const header = ["update", "built", "pushed", "look-ups", "per service", "blob reads", "changed", "own digest", "ms"];
    const rows = figures.updates.map((u) => [
        u.title,
        String(u.builds),
        String(u.pushes),
        String(u.lookups),
        u.lookupsPerService.toFixed(2),
        String(u.blobReads),
        `${u.changed}${Object.keys(u.changedByType).length === 0 ? "" : ` (${Object.entries(u.changedByType).map(([type, n]) => `${n} ${type.split(":").pop()}`).join(", ")})`}`,
        `${u.runningOwnDigest}/${figures.services}`,
        u.updateMs.toFixed(0),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    console.log(`\nupdates of ${figures.services} services after ${V1} and then ${V2} were built and deployed (look-ups: manifest requests; blob reads: image configs read for labels)`);
    console.log(line(header));
    rows.forEach((r) => console.log(line(r)));
}

function printEvaluation(sizes: readonly SizeFigures[]): void {
    const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
    const cell = (f: VariantFigures): string[] => [ms(f.medianMs), `${ms(f.minMs)}-${ms(f.maxMs)}`, f.perServiceMs.toFixed(2)];
    const header = ["services", "runs", "component ms", "min-max", "ms/svc", "baseline ms", "min-max", "ms/svc", "ratio", "cpu ratio"];
    const rows = sizes.map((s) => [
        String(s.services),
        String(s.component.runs),
        ...cell(s.component),
        ...cell(s.baseline),
        s.ratio.toFixed(2),
        s.cpuRatio.toFixed(2),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join("  ");
    console.log("\nprogram evaluation under the Pulumi mocks, wall time (median, min-max, median per service)");
    console.log(line(header));
    rows.forEach((r) => console.log(line(r)));
}

function count(n: number, noun: string): string {
    return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function writeResults(results: Record<string, unknown>): void {
    const file = path.join(__dirname, "results.json");
    const rounded = JSON.stringify(results, (_key, v: unknown) => (typeof v === "number" ? round(v) : v), 2);
    // Written aside and renamed, so an interrupted run never leaves half a file behind.
    fs.writeFileSync(`${file}.tmp`, `${rounded}\n`);
    fs.renameSync(`${file}.tmp`, file);
}

main().catch((err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
});
