// `released-service up`: a preview, then the update; with --atomic, an update that fails after the
// workload changed is undone by another update pinned to the last successful release.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES_POINTER, flag, requireConsent, text } from "../core/command";
import { effectiveEdit, type StackConfig } from "../core/config";
import { answering, type Context, describeChanges, type PreviewSummary, type ReleaseStack } from "../core/context";
import { CliError, ExitCode, usageError } from "../core/exitCodes";
import { type HistoryEntry, updateNumbers, type UpdateRow } from "../core/history";
import { askedIn, asTarget, attribute, pinEdit, type ReleaseSet, type Target } from "../core/release";
import type { ServiceState } from "../core/services";
import { describeInstances, waitForDigest } from "../core/rollout";
import { loadHistory, prepare, refuseLocked, servicesOf } from "../core/prepare";
import { serviceLive } from "../core/ownLive";
import { LOCKED } from "../core/state";
import { deployedDigestsOf, passOnInterrupt, pinningWords, UpdateGuard, upWords } from "../core/interrupted";

const HELP = `Usage: released-service up [--stack S] [--atomic [--service NAME]] [--yes] [--json]

Runs pulumi preview, shows what would change, asks, then runs pulumi up.
When the stack's state backend holds a lock (another update runs, or a killed
one left it) it refuses, naming the lock and pulumi cancel, and changes nothing.

With --atomic, an update that fails after a service's workload changed (its
instances never became ready within the rollout deadline,
progressDeadlineSeconds, or anything else failed after that) is undone:
another update pins every service that changed (or only the one --service
names) to the version and digest of its last successful update
(released-service:pins), waits until every instance runs that digest, and the command exits 1, naming both updates. An
update that failed before any workload changed needs no undo and exits 3.

--json prints {stack, result ("updated", "cancelled" or "undone"), changes,
services: [{service, version, digest}], undo} on stdout, and the rest,
pulumi's output included, on stderr. services is what the stack runs after
the update; undo, null unless --atomic undid one, is {failedUpdate,
undoUpdate, landed, unread}.

Options:
      --atomic        undo a failed update (see above)
      --service <name> with --atomic, undo only this service
  -y, --yes           do not ask for confirmation (required without a terminal)
      --json          print the result as JSON
${COMMON_HELP}

${EXIT_CODES_POINTER}
`;

export const UP_MESSAGE = "released-service up";
/** How long the undo's instances get to land after its update reports the workload ready. */
export const UNDO_SETTLE_MS = 120_000;

/** The newest update that succeeded with a known version and digest: what ran last time it worked. */
export function lastRelease(rows: readonly UpdateRow[]): UpdateRow | undefined {
    return rows.find((row) => row.kind === "update" && row.result === "succeeded" && row.digest !== null && row.version !== null);
}

/** Each service's last good release, from the rows of that service. */
export function lastReleases(rows: readonly UpdateRow[], services: readonly string[]): Map<string, Target> {
    return new Map(
        services.flatMap((service) => {
            const release = lastRelease(rows.filter((row) => row.service === service));
            const known = release === undefined ? undefined : asTarget(release);
            return known === undefined ? [] : [[service, known] as const];
        }),
    );
}

/** The services whose workload the failed update changed: their recorded image moved. */
export function changedServices(before: readonly ServiceState[], after: readonly ServiceState[]): string[] {
    return after.filter((state) => state.deployedImage !== before.find((old) => old.name === state.name)?.deployedImage).map((state) => state.name);
}

export function undoMessage(set: ReleaseSet): string {
    return `undo a failed update: back to ${set.targets.map((target) => `${target.service} #${target.update} (${target.version}, ${target.digest})`).join(", ")}`;
}

function newestNumbers(entries: readonly HistoryEntry[], count: number): number[] {
    return updateNumbers(entries).slice(0, count);
}

export interface UpOptions {
    readonly stack?: string;
    /** With --atomic, undo only this service. */
    readonly service?: string;
    readonly atomic: boolean;
    readonly yes: boolean;
}

/** What `--json` prints when an update, or --atomic's undo of one, ends without an error. */
export interface UpResult {
    readonly stack: string;
    readonly result: "updated" | "cancelled" | "undone";
    /** What the preview found. */
    readonly changes: PreviewSummary;
    /** What each ReleasedService of the stack runs after the command (before it, when cancelled). */
    readonly services: { readonly service: string; readonly version: string | null; readonly digest: string | null }[];
    /** --atomic's undo: the failed update, the one that undid it, whether every instance runs the digest it returned to, and the services it could not read live. */
    readonly undo: { readonly failedUpdate: number; readonly undoUpdate: number; readonly landed: boolean; readonly unread: string[] } | null;
}

function runs(states: readonly ServiceState[]): UpResult["services"] {
    return states.map((state) => ({ service: state.name, version: state.version ?? null, digest: state.imageDigest ?? null }));
}

export async function up(context: Context, options: UpOptions, report: (result: UpResult) => void): Promise<number> {
    const { stack, services: before, known } = await prepare(context, { ...options, check: "entries", cluster: "up" });
    requireConsent(context, "up", options.yes);
    await refuseLocked(context, stack);
    const guarded = known.filter((name) => options.service === undefined || name === options.service);
    const releases = options.atomic ? lastReleases(attribute((await loadHistory(context, stack)).rows, known), guarded) : new Map<string, Target>();
    if (options.atomic && releases.size === 0) {
        throw usageError(`stack ${stack.name} has no successful update with a known digest to return to: run its first update without --atomic`);
    }
    const guard = await UpdateGuard.open(context, stack, false);
    const stopped = `the update of stack ${stack.name} stopped before pulumi up; nothing was changed`;
    context.stdout.write(`Previewing the update of stack ${stack.name}…\n`);
    let preview;
    try {
        preview = await guard.before(stopped, (signal) => stack.preview((text) => context.stdout.write(text), signal));
    } catch (error) {
        passOnInterrupt(error);
        throw new CliError(`the preview of stack ${stack.name} failed: ${(error as Error).message.trim()}\nnothing was changed`, ExitCode.Failure);
    }
    context.stdout.write(`\nThe update of stack ${stack.name} changes: ${describeChanges(preview.changes)}.\n`);
    if (!options.yes && !(await guard.before(stopped, (signal) => context.deps.confirm(`Update stack ${stack.name}? [y/N] `, signal)))) {
        context.stdout.write(`Update of stack ${stack.name} cancelled; nothing was changed.\n`);
        report({ stack: stack.name, result: "cancelled", changes: preview.changes, services: runs(before), undo: null });
        return ExitCode.NotOk;
    }
    try {
        const words = upWords({ stack: stack.name, before: deployedDigestsOf(before), undo: options.atomic ? lastGood(stack.name, releases, options.service) : undefined });
        await guard.update(words, () => stack.up(options.atomic ? `${UP_MESSAGE} --atomic` : UP_MESSAGE, (text) => context.stdout.write(text), context.interrupts));
    } catch (error) {
        passOnInterrupt(error);
        const failure = (error as Error).message.trim();
        if (LOCKED.test(failure)) {
            // The backend refused before the engine started: another update's changes are not this one's to undo.
            throw new CliError(`another update holds stack ${stack.name}: ${failure}\nnothing was changed`, ExitCode.Failure);
        }
        if (!options.atomic) {
            throw new CliError(`pulumi up of stack ${stack.name} failed: ${failure}`, ExitCode.Failure);
        }
        guard.after(
            () =>
                `pulumi up of stack ${stack.name} failed, and the command stopped before --atomic's undo: released-service status --stack ${stack.name} shows what runs; ` +
                `${lastGood(stack.name, releases, options.service)} --yes returns to the last successful release`,
        );
        const undone = await undo(context, stack, { releases, before }, failure);
        report({ stack: stack.name, result: "undone", changes: preview.changes, services: runs(undone.after), undo: undone.undo });
        return undone.code;
    }
    guard.after(() => `the update of stack ${stack.name} had completed; released-service status --stack ${stack.name} shows what runs`);
    const after = await servicesOf(stack);
    const running = after.map((state) => `${state.name} ${state.version ?? "(no version)"} ${state.imageDigest ?? "(no digest)"}`).join(", ");
    context.stdout.write(`\nUpdated stack ${stack.name}: it runs ${running || "no ReleasedService"}.\n`);
    report({ stack: stack.name, result: "updated", changes: preview.changes, services: runs(after), undo: null });
    return ExitCode.Ok;
}

/** What up read before its update: each guarded service's last good release, and what every service ran. */
interface BeforeUpdate {
    readonly releases: ReadonlyMap<string, Target>;
    readonly before: readonly ServiceState[];
}

/** What --atomic's undo returns to: the failed update, what the stack ran after it, and the changed services' last good releases. */
interface UndoPlan {
    readonly failed: number;
    readonly after: ServiceState[];
    readonly changed: string[];
    readonly targets: Target[];
    readonly set: ReleaseSet;
    /** Each target as the messages name it: its service, update, version and digest. */
    readonly summary: string;
}

/** Reads what the failed update left, and refuses an undo when it changed no workload with a release to return to. */
async function planUndo(stack: ReleaseStack, known: BeforeUpdate, failure: string): Promise<UndoPlan> {
    const after = await servicesOf(stack);
    const [failed] = newestNumbers(await stack.history(), 1);
    const changed = changedServices(known.before, after).filter((name) => known.releases.has(name));
    if (changed.length === 0) {
        const running = known.before.map((state) => state.deployedImage ?? "nothing").join(", ");
        throw new CliError(
            `update #${failed} of stack ${stack.name} failed before any workload changed (it still runs ${running}), so there is nothing to undo:\n${failure}`,
            ExitCode.Failure,
        );
    }
    const targets = changed.map((name) => known.releases.get(name)!);
    const summary = targets.map((target) => `${target.service} #${target.update} (${target.version}, ${target.digest})`).join(", ");
    return { failed, after, changed, targets, set: { update: targets[0].update, targets }, summary };
}

/** Pins each changed service to its last good release in the stack config, and runs the update that undoes the failed one. */
async function runUndo(context: Context, stack: ReleaseStack, plan: UndoPlan, config: StackConfig, pinned: string): Promise<void> {
    const { failed, after, changed, targets, set } = plan;
    const guard = await UpdateGuard.open(context, stack);
    const undoing = `--atomic's undo of stack ${stack.name}`;
    const again = `released-service rollback --to ${set.update} --stack ${stack.name}${targets.length === 1 ? ` --service ${targets[0].service}` : ""}`;
    const unmoved = `${stack.configFile} is as it was, and ${changed.join(", ")} still run${changed.length === 1 ? "s" : ""} the failed update's release: to return to the last successful release, run ${again} --yes`;
    // The failed update recorded what the args ask now (its component's input, registered even by an
    // update that fails): it evaluated the program a moment ago in this command, with the config the
    // undo starts from, so it is what a preview would read, without a preview's time mid-incident.
    await guard.before(
        `${undoing} stopped before its pulumi up; ${unmoved}`,
        () => stack.editConfig(effectiveEdit(pinEdit(stack.name, config, targets, askedIn(after)), config)),
    );
    try {
        const words = pinningWords({
            stack: stack.name,
            configFile: stack.configFile,
            subject: undoing,
            targets,
            again,
            completedNext: "fix the release, then lift the pin with released-service release-hold and rerun",
            unmoved: `pulumi up of ${undoing} was cancelled before any workload changed; ${unmoved}`,
        });
        await guard.update(words, () => stack.up(undoMessage(set), (text) => context.stdout.write(text), context.interrupts));
    } catch (error) {
        passOnInterrupt(error);
        throw new CliError(
            `update #${failed} of stack ${stack.name} failed, and so did the update that was to undo it: ${(error as Error).message.trim()}\n` +
                `${pinned}; check the cluster with released-service status --stack ${stack.name}`,
            ExitCode.Failure,
        );
    }
    guard.after(() => `${undoing} had completed: ${pinned}; released-service status --stack ${stack.name} shows whether every instance runs it`);
}

/** Waits until every instance of each undone service runs its target's digest; what it cannot read live is named apart. */
async function waitForUndo(
    context: Context,
    config: StackConfig,
    after: readonly ServiceState[],
    targets: readonly Target[],
): Promise<{ unlanded: string[]; unread: string[] }> {
    const unlanded: string[] = [];
    const unread: string[] = [];
    for (const target of targets) {
        const state = after.find((candidate) => candidate.name === target.service);
        const live = state === undefined ? undefined : serviceLive(context, config, state);
        if (live === undefined) {
            unread.push(target.service);
            continue;
        }
        const landing = await waitForDigest(context, live, target.digest, UNDO_SETTLE_MS);
        context.progress.done();
        if (!landing.landed) {
            unlanded.push(`${target.service}: ${describeInstances(landing.instances, target.digest, live.noun)}`);
        }
    }
    return { unlanded, unread };
}

/** The second update of --atomic: every changed service back to its last good release, unless none changed. */
async function undo(
    context: Context,
    stack: ReleaseStack,
    known: BeforeUpdate,
    failure: string,
): Promise<{ code: number; after: ServiceState[]; undo: NonNullable<UpResult["undo"]> }> {
    const plan = await planUndo(stack, known, failure);
    const { failed, targets, summary } = plan;
    const images = plan.changed.map((name) => plan.after.find((state) => state.name === name)?.deployedImage ?? "(unknown image)").join(", ");
    context.stdout.write(
        `\nUpdate #${failed} of stack ${stack.name} failed after the workload changed to ${images}:\n${failure}\n` +
            `--atomic: returning stack ${stack.name} to the last successful release, ${summary}…\n`,
    );
    const config = await stack.config();
    const pinned = `${stack.configFile} now pins ${targets.map((target) => `${target.service} ${target.version} ${target.digest}`).join(", ")}`;
    await runUndo(context, stack, plan, config, pinned);
    const [undone] = newestNumbers(await stack.history(), 1);
    const { unlanded, unread } = await waitForUndo(context, config, plan.after, targets);
    const lift = targets.map((target) => `released-service release-hold --stack ${stack.name} --service ${target.service}`).join(" and ");
    context.stdout.write(
        `\nUpdate #${failed} failed; update #${undone} returned stack ${stack.name} to ${summary}` +
            (unlanded.length === 0 ? `, and every instance ${unread.length === 0 ? "" : "it can read "}runs its digest.\n` : `, but not every instance runs it yet: ${unlanded.join("; ")}.\n`) +
            (unread.length === 0 ? "" : `What ${unread.join(", ")} run${unread.length === 1 ? "s" : ""} live cannot be read by this command; check it by hand.\n`) +
            `${pinned}. Fix the release, then lift the pin (${lift}) and rerun.\n`,
    );
    return {
        code: unlanded.length === 0 ? ExitCode.NotOk : ExitCode.Failure,
        after: await servicesOf(stack),
        undo: { failedUpdate: failed, undoUpdate: undone, landed: unlanded.length === 0, unread },
    };
}

/** The rollback to the newest of the last successful releases (only --service's, when named). */
function lastGood(stack: string, releases: ReadonlyMap<string, Target>, service: string | undefined): string {
    const update = Math.max(...[...releases.values()].map((target) => target.update));
    return `released-service rollback --to ${update} --stack ${stack}${service !== undefined ? ` --service ${service}` : ""}`;
}

export const upCommand: Command = {
    name: "up",
    summary: "preview, then update; --atomic undoes a failed rollout",
    help: HELP,
    options: { ...COMMON_OPTIONS, service: { type: "string" }, atomic: { type: "boolean" }, yes: { type: "boolean", short: "y" }, json: { type: "boolean" } },
    run: (context, values) =>
        answering<UpResult>(context, flag(values, "json"), (answer, report) =>
            up(answer, { stack: text(values, "stack"), service: text(values, "service"), atomic: flag(values, "atomic"), yes: flag(values, "yes") }, report),
        ),
};
