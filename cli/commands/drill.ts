// `released-service drill`: rehearses a rollback on a non-production stack. It rolls back to an
// earlier release, waits until every instance runs that exact digest, rolls forward to where it
// started, waits again, and reports each phase's time. The stack config ends as it began.

import type { LiveWorkload } from "../../components/workloads/kubernetes/live";
import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES, flag, positiveInteger, text } from "../core/command";
import { effectiveEdit, type StackConfig, textOf, undoEdit } from "../core/config";
import type { Context, ReleaseStack } from "../core/context";
import { CliError, ExitCode, usageError } from "../core/exitCodes";
import { describeHold, holdOf } from "../core/hold";
import type { UpdateRow } from "../core/history";
import { renderTable } from "../core/output";
import { shortDigest } from "../core/reference";
import { chooseRollbackTarget, pinOf, targetReference } from "../core/release";
import { describeInstances, waitForDigest } from "../core/rollout";
import { loadRows, manifestPresent, requireConsent, workloadOf } from "../core/steps";

export const DEFAULT_DRILL_TIMEOUT_SECONDS = 300;

const HELP = `Usage: released-service drill [--stack S] [--to <update | version>] [--yes]
                              [--json] [--timeout SECONDS]

Rehearses a rollback on a non-production stack: rolls back to the previous
successful release with another digest (or the one --to names), waits until
every pod runs that exact digest, rolls forward to the release it started
from, waits again, and reports each phase's wall time (split into the config
edit, pulumi up and the pods settling) and digests. The roll forward runs even
when the rollback failed. The stack config ends as it began. Exit 0 only when
both directions landed on their exact digests.

--json prints {stack, from: {version, digest}, to: {update, version, digest},
phases: [{phase, version, digest, result, seconds, configSeconds,
updateSeconds, podsSeconds, error}], passed}; progress goes to stderr.

Options:
      --to <target>   the update number or version to roll back to
      --timeout <s>   how long the pods get to land, per phase (default ${DEFAULT_DRILL_TIMEOUT_SECONDS})
      --json          print the report as JSON
  -y, --yes           do not ask for confirmation (required without a terminal)
${COMMON_HELP}

${EXIT_CODES}
`;

export interface Release {
    readonly version: string;
    readonly digest: string;
}

export interface Phase {
    readonly phase: "rollback" | "roll forward";
    readonly version: string;
    readonly digest: string;
    readonly result: "passed" | "failed";
    /** Wall time of the whole phase, and of its parts: the config edit, pulumi up, the pods settling. */
    readonly seconds: number;
    readonly configSeconds: number;
    readonly updateSeconds: number;
    readonly podsSeconds: number;
    readonly error: string | null;
}

export interface DrillReport {
    readonly stack: string;
    readonly from: Release;
    readonly to: Release & { readonly update: number };
    readonly phases: readonly Phase[];
    readonly passed: boolean;
}

/** The newest successful release that runs another digest than the stack does now. */
export function previousRelease(rows: readonly UpdateRow[], current: string): UpdateRow | undefined {
    return rows.find((row) => row.kind === "update" && row.result === "succeeded" && row.digest !== null && row.version !== null && row.digest !== current);
}

function seconds(ms: number): number {
    return Math.round(ms / 100) / 10;
}

/** Runs one direction: config, pulumi up, pods; a failure in any part fails the phase, and is kept. */
async function phase(
    context: Context,
    stack: ReleaseStack,
    name: Phase["phase"],
    release: Release,
    steps: { edit: () => Promise<void>; message: string; live: LiveWorkload; timeoutMs: number },
): Promise<Phase> {
    const clock = context.deps;
    const marks = [clock.elapsed()];
    let error: string | null = null;
    try {
        await steps.edit();
        marks.push(clock.elapsed());
        context.stdout.write(`\n${name}: running pulumi up for ${release.version} ${release.digest}…\n`);
        await stack.up(steps.message, (text) => context.stdout.write(text));
        marks.push(clock.elapsed());
        const landing = await waitForDigest(context, steps.live, release.digest, steps.timeoutMs);
        context.progress.done();
        if (!landing.landed) {
            error = `after ${seconds(steps.timeoutMs)} s not every ${steps.live.noun.one} runs ${release.digest}: ${describeInstances(landing.instances, release.digest, steps.live.noun)}`;
        }
    } catch (caught) {
        context.progress.done();
        error = (caught as Error).message.trim();
    }
    const end = clock.elapsed();
    const at = (index: number): number => marks[index] ?? end;
    return {
        phase: name,
        version: release.version,
        digest: release.digest,
        result: error === null ? "passed" : "failed",
        seconds: seconds(end - marks[0]),
        configSeconds: seconds(at(1) - marks[0]),
        updateSeconds: marks.length > 2 ? seconds(at(2) - at(1)) : 0,
        podsSeconds: marks.length > 2 ? seconds(end - at(2)) : 0,
        error,
    };
}

export interface DrillOptions {
    readonly stack?: string;
    readonly to?: string;
    readonly yes: boolean;
    readonly json: boolean;
    readonly timeoutSeconds: number;
}

async function drill(context: Context, options: DrillOptions): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    const rows = await loadRows(context, stack);
    const [config, outputs] = await Promise.all([stack.config(), stack.outputs()]);
    if (!outputs.imageDigest || !outputs.version) {
        throw new CliError(`stack ${stack.name} records no imageDigest and version output: deploy it before drilling a rollback`, ExitCode.NotOk);
    }
    const from: Release = { version: outputs.version, digest: outputs.imageDigest };
    const hold = holdOf(config);
    if (hold) {
        throw new CliError(
            `stack ${stack.name} holds ${describeHold(hold)}, which refuses the drill's updates: ` +
                `drill a stack without a hold, or lift it with released-service release-hold --stack ${stack.name}`,
            ExitCode.NotOk,
        );
    }
    const target = options.to === undefined ? previousRelease(rows, from.digest) : chooseRollbackTarget(rows, options.to);
    if (!target) {
        throw new CliError(`stack ${stack.name} has no earlier successful release with another digest than ${from.digest}: there is nothing to roll back to`, ExitCode.NotOk);
    }
    if (target.digest === from.digest) {
        throw usageError(`update #${target.update} ran ${target.digest}, which the stack runs now: choose a release with another digest`);
    }
    const to = { update: target.update, version: target.version!, digest: target.digest! };
    const reference = targetReference(stack.name, config, target);
    if (!(await manifestPresent(context, reference))) {
        throw new CliError(
            `drill failed before changing anything: ${reference.text} (#${to.update}, ${to.version}) is no longer in its registry, ` +
                "so a rollback to it would fail too. Push it again, or drill to a release that is still there (released-service verify lists them).",
            ExitCode.NotOk,
        );
    }
    requireConsent(context, "drill", options.yes);
    const plan =
        `Drill on stack ${stack.name}: roll back from ${from.version} (${from.digest}) to #${to.update} ${to.version} (${to.digest}), ` +
        `wait until every pod runs it, roll forward to ${from.version}, and wait again. The stack config is left as it is now.\n`;
    (options.json ? context.stderr : context.stdout).write(plan);
    if (!options.yes && !(await context.deps.confirm(`Run the drill on stack ${stack.name}? [y/N] `))) {
        context.stdout.write("Drill cancelled; nothing was changed.\n");
        return ExitCode.NotOk;
    }
    const live = context.deps.live(workloadOf(config));
    const timeoutMs = options.timeoutSeconds * 1000;
    const pin = effectiveEdit({ set: pinOf(to), remove: [] }, config);
    const quiet = options.json ? { ...context, stdout: context.stderr } : context;
    const back = await phase(quiet, stack, "rollback", to, {
        edit: () => stack.editConfig(pin),
        message: `drill: rollback to #${to.update} (${to.version}, ${to.digest})`,
        live,
        timeoutMs,
    });
    // Forward runs whatever happened going back: the stack must end on the release it started from.
    const forward = await phase(quiet, stack, "roll forward", from, {
        edit: () => stack.editConfig(undoEdit(pin, config)),
        message: `drill: roll forward to ${from.version} (${from.digest})`,
        live,
        timeoutMs,
    });
    const report: DrillReport = { stack: stack.name, from, to, phases: [back, forward], passed: back.result === "passed" && forward.result === "passed" };
    if (options.json) {
        context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
        writeReport(context, report, config);
    }
    return report.passed ? ExitCode.Ok : ExitCode.NotOk;
}

function writeReport(context: Context, report: DrillReport, config: StackConfig): void {
    const { paint } = context;
    const result = (text: string): string => (text === "passed" ? paint(text, "green") : paint(text.toUpperCase(), "red"));
    context.stdout.write(
        `\nDrill of stack ${report.stack} (image ${textOf(config, "image") ?? "-"}):\n` +
            renderTable(
                ["PHASE", "VERSION", "DIGEST", "TIME", "CONFIG", "PULUMI UP", "PODS", "RESULT"],
                report.phases.map((p) => [
                    p.phase,
                    p.version,
                    shortDigest(p.digest),
                    `${p.seconds.toFixed(1)} s`,
                    `${p.configSeconds.toFixed(1)} s`,
                    `${p.updateSeconds.toFixed(1)} s`,
                    `${p.podsSeconds.toFixed(1)} s`,
                    result(p.result),
                ]),
            ),
    );
    for (const p of report.phases.filter((p) => p.error !== null)) {
        context.stdout.write(`${p.phase} failed: ${p.error}\n`);
    }
    context.stdout.write(
        report.passed
            ? `Drill passed: the rollback to ${report.to.version} took ${report.phases[0].seconds.toFixed(1)} s, and both directions landed on their exact digests.\n`
            : "Drill FAILED: a rollback of this stack would not land as rehearsed.\n",
    );
}

export const drillCommand: Command = {
    name: "drill",
    summary: "rehearse a rollback and a roll forward, and time them",
    help: HELP,
    options: { ...COMMON_OPTIONS, to: { type: "string" }, yes: { type: "boolean", short: "y" }, json: { type: "boolean" }, timeout: { type: "string" } },
    counts: ["timeout"],
    run: (context, values) =>
        drill(context, {
            stack: text(values, "stack"),
            to: text(values, "to"),
            yes: flag(values, "yes"),
            json: flag(values, "json"),
            timeoutSeconds: positiveInteger(values, "timeout") ?? DEFAULT_DRILL_TIMEOUT_SECONDS,
        }),
};
