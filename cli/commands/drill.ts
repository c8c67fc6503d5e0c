// `released-service drill`: rehearses a rollback on a non-production stack. It rolls back to an
// earlier release, waits until every instance runs that exact digest, rolls forward to where it
// started, waits again, and reports each phase's time. The stack config ends as it began.

import type { LiveWorkload } from "../../components/workloads/live";
import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES_POINTER, flag, positiveInteger, requireConsent, text } from "../core/command";
import { effectiveEdit, type StackConfig, undoEdit } from "../core/config";
import { type Context, type ReleaseStack, writeJson } from "../core/context";
import { CliError, ExitCode, usageError } from "../core/exitCodes";
import { repositoryOf, type UpdateRow } from "../core/history";
import { renderTable } from "../core/output";
import { shortDigest } from "../core/reference";
import { asTarget, attribute, chooseReleaseSet, completePins, manifestPresent, pendingPinEdit, type Target, targetReference } from "../core/release";
import { describeHold, holdOf, type ServiceState } from "../core/services";
import { describeInstances, waitForDigest } from "../core/rollout";
import { loadHistory, prepare } from "../core/prepare";
import { serviceLive } from "../core/ownLive";
import { type DrillPhaseWords, drillWords, passOnInterrupt, UpdateGuard } from "../core/interrupted";

export const DEFAULT_DRILL_TIMEOUT_SECONDS = 300;

const HELP = `Usage: released-service drill [--stack S] [--service NAME] [--to <update | version>]
                              [--yes] [--json] [--timeout SECONDS]

Rehearses a rollback on a non-production stack, for every service (or the one
--service names): pins each to its previous successful release with another
digest (or to what the update --to names ran; a preview reads what each
service's args ask now, which its pin records), runs one pulumi up, waits until
every instance of each (pod, container or task) runs its exact digest, rolls
forward to the releases it started from, waits again, and reports each phase's
wall time (split into the config edit with that preview, pulumi up and the
instances landing)
and digests. A Compose service
is rerun after each update the way its containers were started (their
docker compose project, directory and files, which must include the pinned
file), with --no-deps. The roll forward runs even when the rollback failed.
The stack config ends as it began. Exit 0 only when both directions landed on
their exact digests.

An interrupt (Ctrl-C, SIGTERM) stops the drill, and starts no other update:
pulumi up, if one runs, is asked to cancel and waited for; then the stack
config is put back as it began, and the drill says which release each
workload runs. When it was left on the rollback's release, the next update
rolls it forward: released-service up. A second interrupt stops at once.

--json prints {stack, from: {version, digest}, to: {update, version, digest},
services: [{service, from, to}], phases: [{phase, version, digest, services:
[{service, version, digest}], result, seconds, configSeconds, updateSeconds,
landedSeconds, error}], passed}; from, to and each phase's version and digest are
the first service's (the only one's, when one is drilled). Progress goes to
stderr.

Options:
      --service <name> drill only this service
      --to <target>   the update number or version to roll back to
      --timeout <s>   how long the instances get to land, per phase (default ${DEFAULT_DRILL_TIMEOUT_SECONDS})
      --json          print the report as JSON
  -y, --yes           do not ask for confirmation (required without a terminal)
${COMMON_HELP}

${EXIT_CODES_POINTER}
`;

/** A release as the drill names it: its version and the digest it runs. */
export interface VersionAndDigest {
    readonly version: string;
    readonly digest: string;
}

/** One service's part of a phase: the release it must land on. */
export interface ServiceRelease extends VersionAndDigest {
    readonly service: string;
}

export interface Phase {
    readonly phase: "rollback" | "roll forward";
    /** The first (for a one-service drill, the only) service's release. */
    readonly version: string;
    readonly digest: string;
    /** Every drilled service's release in this phase. */
    readonly services: readonly ServiceRelease[];
    readonly result: "passed" | "failed";
    /** Wall time of the whole phase, and of its parts: the config edit, pulumi up, the instances landing. */
    readonly seconds: number;
    readonly configSeconds: number;
    readonly updateSeconds: number;
    readonly landedSeconds: number;
    readonly error: string | null;
}

export interface DrilledService {
    readonly service: string;
    readonly from: VersionAndDigest;
    readonly to: VersionAndDigest & { readonly update: number };
}

export interface DrillReport {
    readonly stack: string;
    /** The first (for a one-service drill, the only) service's releases. */
    readonly from: VersionAndDigest;
    readonly to: VersionAndDigest & { readonly update: number };
    readonly services: readonly DrilledService[];
    readonly phases: readonly Phase[];
    readonly passed: boolean;
}

/** The newest successful release that runs another digest than the service does now. */
export function previousRelease(rows: readonly UpdateRow[], current: string): UpdateRow | undefined {
    return rows.find((row) => row.kind === "update" && row.result === "succeeded" && row.digest !== null && row.version !== null && row.digest !== current);
}

function seconds(ms: number): number {
    return Math.round(ms / 100) / 10;
}

/** Runs one direction: config, pulumi up, every service's instances; a failure in any part fails the phase, and is kept. */
async function phase(
    context: Context,
    stack: ReleaseStack,
    name: Phase["phase"],
    releases: readonly (ServiceRelease & { readonly live: LiveWorkload })[],
    steps: { edit: (signal: AbortSignal) => Promise<void>; message: string; timeoutMs: number; guard: UpdateGuard; words: DrillPhaseWords },
): Promise<Phase> {
    const clock = context.deps;
    const marks = [clock.elapsed()];
    let error: string | null = null;
    try {
        await steps.guard.before(steps.words.before, (signal) => steps.edit(signal));
        marks.push(clock.elapsed());
        const what = releases.map((release) => `${releases.length > 1 ? `${release.service} ` : ""}${release.version} ${release.digest}`).join(", ");
        context.stdout.write(`\n${name}: running pulumi up on stack ${stack.name} for ${what}…\n`);
        await steps.guard.update(steps.words.update, () => stack.up(steps.message, (text) => context.stdout.write(text), context.interrupts));
        marks.push(clock.elapsed());
        const missed: string[] = [];
        await steps.guard.during(steps.words.landing, true, async () => {
            for (const release of releases) {
                if (release.live.rerun !== undefined) {
                    context.stdout.write(`${await release.live.rerun.run()}\n`);
                }
                const landing = await waitForDigest(context, release.live, release.digest, steps.timeoutMs);
                context.progress.done();
                if (!landing.landed) {
                    const subject = releases.length > 1 ? `${release.service}: ` : "";
                    missed.push(
                        `${subject}after ${seconds(steps.timeoutMs)} s not every ${release.live.noun.one} runs ${release.digest}: ` +
                            describeInstances(landing.instances, release.digest, release.live.noun),
                    );
                }
            }
        });
        error = missed.length > 0 ? missed.join("; ") : null;
    } catch (caught) {
        context.progress.done();
        passOnInterrupt(caught);
        error = (caught as Error).message.trim();
    }
    const end = clock.elapsed();
    const at = (index: number): number => marks[index] ?? end;
    return {
        phase: name,
        version: releases[0].version,
        digest: releases[0].digest,
        services: releases.map(({ service, version, digest }) => ({ service, version, digest })),
        result: error === null ? "passed" : "failed",
        seconds: seconds(end - marks[0]),
        configSeconds: seconds(at(1) - marks[0]),
        updateSeconds: marks.length > 2 ? seconds(at(2) - at(1)) : 0,
        landedSeconds: marks.length > 2 ? seconds(end - at(2)) : 0,
        error,
    };
}

export interface DrillOptions {
    readonly stack?: string;
    readonly service?: string;
    readonly to?: string;
    readonly yes: boolean;
    readonly json: boolean;
    readonly timeoutSeconds: number;
}

/**
 * What the drill rolls each service back to: the release set `--to` names (services already on it
 * left out), or each service's own previous release with another digest.
 */
export function drillTargets(
    stack: string,
    rows: readonly UpdateRow[],
    current: readonly ServiceState[],
    to: string | undefined,
    service: string | undefined,
): Target[] {
    const drilled = current.filter((state) => service === undefined || state.name === service);
    if (to !== undefined) {
        const set = chooseReleaseSet(stack, rows, to, service);
        const moving = set.targets.filter((target) => drilled.find((state) => state.name === target.service)?.imageDigest !== target.digest);
        if (moving.length === 0) {
            throw usageError(`update #${set.update} ran ${set.targets.map((target) => target.digest).join(", ")}, which the stack runs now: choose a release with another digest`);
        }
        return moving;
    }
    return drilled.flatMap((state) => {
        const previous = state.imageDigest === undefined ? undefined : previousRelease(rows.filter((row) => row.service === state.name), state.imageDigest);
        const known = previous === undefined ? undefined : asTarget(previous);
        return known === undefined ? [] : [known];
    });
}

/** What a drill read before it changes anything: the stack, its config and services, and what each drilled service rolls back to. */
interface DrillPlan {
    readonly stack: ReleaseStack;
    readonly config: StackConfig;
    readonly current: readonly ServiceState[];
    readonly targets: readonly Target[];
    readonly services: readonly DrilledService[];
}

/** Refuses a drill of no service, of a service never deployed, or of one a hold keeps on its release. */
function refuseUndrillable(stack: string, config: StackConfig, drilled: readonly ServiceState[]): void {
    const undeployed = drilled.find((state) => !state.imageDigest || !state.version);
    if (drilled.length === 0 || undeployed !== undefined) {
        const which = undeployed !== undefined ? `service ${undeployed.name} of ` : "";
        throw new CliError(`${which}stack ${stack} records no digest and version: deploy it before drilling a rollback`, ExitCode.NotOk);
    }
    const held = drilled.flatMap((state) => {
        const hold = holdOf(config, state.name);
        return hold === undefined ? [] : [`${state.name} on ${describeHold(hold)}`];
    });
    if (held.length > 0) {
        throw new CliError(
            `stack ${stack} holds ${held.join(", ")}, which refuses the drill's updates: ` +
                `drill a stack without a hold, or lift it with released-service release-hold --stack ${stack}`,
            ExitCode.NotOk,
        );
    }
}

/** Reads the stack and its history, and decides what each drilled service rolls back to; refuses a drill with nothing to roll back. */
async function planDrill(context: Context, options: DrillOptions): Promise<DrillPlan> {
    const { stack, config, services: current, known } = await prepare(context, { ...options, check: "entries", cluster: "drill" });
    const { rows } = await loadHistory(context, stack);
    const drilled = current.filter((state) => options.service === undefined || state.name === options.service);
    refuseUndrillable(stack.name, config, drilled);
    const targets = drillTargets(stack.name, attribute(rows, known), current, options.to, options.service);
    if (targets.length === 0) {
        const digests = drilled.map((state) => state.imageDigest).join(", ");
        throw new CliError(`stack ${stack.name} has no earlier successful release with another digest than ${digests}: there is nothing to roll back to`, ExitCode.NotOk);
    }
    const services: DrilledService[] = targets.map((target) => {
        const state = current.find((candidate) => candidate.name === target.service)!;
        return { service: state.name, from: { version: state.version!, digest: state.imageDigest! }, to: { update: target.update, version: target.version, digest: target.digest } };
    });
    return { stack, config, current, targets, services };
}

/** Refuses, before anything changes, a drill to a release whose manifest is no longer in its registry. */
async function refuseMissingReleases(context: Context, { stack, current, targets }: DrillPlan): Promise<void> {
    for (const target of targets) {
        const reference = targetReference(stack.name, current, target);
        if (!(await manifestPresent(context, reference))) {
            throw new CliError(
                `drill of stack ${stack.name} failed before changing anything: ${reference.text} (#${target.update}, ${target.version}) is no longer in its registry, ` +
                    "so a rollback to it would fail too. Push it again, or drill to a release that is still there (released-service verify lists them).",
                ExitCode.NotOk,
            );
        }
    }
}

/** Each drilled service's live workload; a service whose instances the command cannot read, or cannot make run a release, is refused. */
async function drilledLives(context: Context, { stack, config, current, services }: DrillPlan): Promise<Map<string, LiveWorkload>> {
    // The drill waits for each service's instances: every one must be readable before anything changes.
    const lives = new Map(
        services.map((service) => {
            const state = current.find((candidate) => candidate.name === service.service)!;
            const live = serviceLive(context, config, state);
            if (live === undefined) {
                throw new CliError(
                    `drill of stack ${stack.name} waits for every instance to run its digest, and service ${service.service} has no workload ` +
                        "the command reads (its component registered none, and no resource of the stack that runs its image is one it reads live); nothing was changed",
                    ExitCode.Failure,
                );
            }
            return [service.service, live] as const;
        }),
    );
    for (const [service, live] of lives) {
        const problem = await live.rerun?.problem();
        if (problem !== undefined) {
            throw new CliError(`drill of stack ${stack.name} failed before changing anything: service ${service} cannot be made to run a release: ${problem}`, ExitCode.NotOk);
        }
    }
    return lives;
}

/** A service as the drill's messages name it, before its release. */
function label(service: DrilledService): string {
    return `${service.service} `;
}

/** What the drill will do, as it asks before doing it. */
function drillPlanText(stack: string, services: readonly DrilledService[]): string {
    return (
        `Drill on stack ${stack}: roll back ` +
        services.map((service) => `${label(service)}from ${service.from.version} (${service.from.digest}) to #${service.to.update} ${service.to.version} (${service.to.digest})`).join(", ") +
        `, wait until every instance runs it, roll forward to ${services.map((service) => `${label(service)}${service.from.version}`).join(", ")}, and wait again. ` +
        "The stack config is left as it is now.\n"
    );
}

/** Each service with the release `pick` gives it, for a phase's update message; `withUpdate` names the update that ran it. */
function describeReleases(services: readonly DrilledService[], pick: (service: DrilledService) => VersionAndDigest & { update?: number }, withUpdate: boolean): string {
    return services
        .map((service) => {
            const release = pick(service);
            return `${label(service)}${withUpdate ? `#${release.update} (${release.version}, ${release.digest})` : `${release.version} (${release.digest})`}`;
        })
        .join(", ");
}

/** Rolls every drilled service back to its target, then forward to the release it started from, whatever the rollback did. */
async function rollBackAndForward(context: Context, options: DrillOptions, plan: DrillPlan, lives: ReadonlyMap<string, LiveWorkload>): Promise<[Phase, Phase]> {
    const { stack, config, current, targets, services } = plan;
    const liveOf = (name: string): LiveWorkload => lives.get(name)!;
    const timeoutMs = options.timeoutSeconds * 1000;
    const quiet = options.json ? { ...context, stdout: context.stderr } : context;
    // As a rollback's: the pins go in without what the args ask, a preview run with them reads that
    // from the program as it evaluates now, and completePins records it before pulumi up. The roll
    // forward puts the pins back as they were.
    const pending = pendingPinEdit(config, targets);
    const pin = async (signal: AbortSignal): Promise<void> => {
        await stack.editConfig(effectiveEdit(pending, config));
        // An interrupt during the edit lets it end, then stops the drill before the preview.
        signal.throwIfAborted();
        const preview = await stack.preview(() => undefined, signal);
        await completePins(quiet, stack, config, targets, preview.asked, { states: current, where: "the last update" });
    };
    const guard = await UpdateGuard.open(context, stack);
    const words = (name: Phase["phase"]): DrillPhaseWords => drillWords({ stack: stack.name, configFile: stack.configFile, phase: name, services });
    const back = await phase(
        quiet,
        stack,
        "rollback",
        services.map((service) => ({ service: service.service, ...service.to, live: liveOf(service.service) })),
        { edit: pin, message: `drill: rollback to ${describeReleases(services, (service) => service.to, true)}`, timeoutMs, guard, words: words("rollback") },
    );
    // Forward runs whatever happened going back: the stack must end on the release it started from.
    const forward = await phase(
        quiet,
        stack,
        "roll forward",
        services.map((service) => ({ service: service.service, ...service.from, live: liveOf(service.service) })),
        {
            edit: () => stack.editConfig(undoEdit(pending, config)),
            message: `drill: roll forward to ${describeReleases(services, (service) => service.from, false)}`,
            timeoutMs,
            guard,
            words: words("roll forward"),
        },
    );
    return [back, forward];
}

/** With `json`, `report` gets the drill's report (printed as JSON, by default) instead of its table. */
export async function drill(context: Context, options: DrillOptions, report: (result: DrillReport) => void = (result) => writeJson(context, result)): Promise<number> {
    const plan = await planDrill(context, options);
    const { stack, services } = plan;
    await refuseMissingReleases(context, plan);
    const lives = await drilledLives(context, plan);
    requireConsent(context, "drill", options.yes);
    (options.json ? context.stderr : context.stdout).write(drillPlanText(stack.name, services));
    if (!options.yes && !(await context.deps.confirm(`Run the drill on stack ${stack.name}? [y/N] `))) {
        context.stdout.write(`Drill of stack ${stack.name} cancelled; nothing was changed.\n`);
        return ExitCode.NotOk;
    }
    const [back, forward] = await rollBackAndForward(context, options, plan, lives);
    const result: DrillReport = {
        stack: stack.name,
        from: services[0].from,
        to: services[0].to,
        services,
        phases: [back, forward],
        passed: back.result === "passed" && forward.result === "passed",
    };
    if (options.json) {
        report(result);
    } else {
        writeReport(context, result, plan.current);
    }
    return result.passed ? ExitCode.Ok : ExitCode.NotOk;
}

function writeReport(context: Context, report: DrillReport, current: readonly ServiceState[]): void {
    const { paint } = context;
    const result = (text: string): string => (text === "passed" ? paint(text, "green") : paint(text.toUpperCase(), "red"));
    const several = report.services.length > 1;
    const image = repositoryOf(current.find((state) => state.name === report.services[0].service)?.imageRef) ?? "-";
    context.stdout.write(
        `\nDrill of stack ${report.stack} (${several ? `services ${report.services.map((service) => service.service).join(", ")}` : `image ${image}`}):\n` +
            renderTable(
                ["PHASE", ...(several ? ["SERVICE"] : []), "VERSION", "DIGEST", "TIME", "CONFIG", "PULUMI UP", "LANDED", "RESULT"],
                report.phases.flatMap((p) =>
                    p.services.map((release) => [
                        p.phase,
                        ...(several ? [release.service] : []),
                        release.version,
                        shortDigest(release.digest),
                        `${p.seconds.toFixed(1)} s`,
                        `${p.configSeconds.toFixed(1)} s`,
                        `${p.updateSeconds.toFixed(1)} s`,
                        `${p.landedSeconds.toFixed(1)} s`,
                        result(p.result),
                    ]),
                ),
            ),
    );
    for (const p of report.phases.filter((p) => p.error !== null)) {
        context.stdout.write(`${p.phase} of stack ${report.stack} failed: ${p.error}\n`);
    }
    const to = report.services.map((service) => service.to.version).join(", ");
    context.stdout.write(
        report.passed
            ? `Drill of stack ${report.stack} passed: the rollback to ${to} took ${report.phases[0].seconds.toFixed(1)} s, and both directions landed on their exact digests.\n`
            : `Drill of stack ${report.stack} FAILED: a rollback of this stack would not land as rehearsed.\n`,
    );
}

export const drillCommand: Command = {
    name: "drill",
    summary: "rehearse a rollback and a roll forward, and time them",
    help: HELP,
    options: { ...COMMON_OPTIONS, service: { type: "string" }, to: { type: "string" }, yes: { type: "boolean", short: "y" }, json: { type: "boolean" }, timeout: { type: "string" } },
    counts: ["timeout"],
    run: (context, values) =>
        drill(context, {
            stack: text(values, "stack"),
            service: text(values, "service"),
            to: text(values, "to"),
            yes: flag(values, "yes"),
            json: flag(values, "json"),
            timeoutSeconds: positiveInteger(values, "timeout") ?? DEFAULT_DRILL_TIMEOUT_SECONDS,
        }),
};
