// `released-service rollback`: pins an earlier update's release (and, with --with-config, the
// config it ran with), leaves a hold on it, previews, asks, and runs pulumi up.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES_POINTER, flag, requireConsent, text } from "../core/command";
import { type ConfigEdit, type ConfigValue, describeEdit, effectiveEdit, isEmpty, show, type StackConfig } from "../core/config";
import { answering, type Context, describeChanges, type Preview, type PreviewSummary, type ReleaseStack } from "../core/context";
import { CliError, ExitCode, usageError } from "../core/exitCodes";
import type { HistoryEntry, UpdateRow } from "../core/history";
import { describeAsked } from "../../components/release/pin";
import {
    attribute,
    chooseReleaseSet,
    completePins,
    describeLeft,
    describeSet,
    leftAsTheyAre,
    manifestPresent,
    pendingPinEdit,
    type ReleaseSet,
    rollbackMessage,
    targetReference,
} from "../core/release";
import { describeHold, type Hold, holdOf, HOLDS_KEY, holdsOf, newHold, pinOf, PINS_KEY, type ServiceState, withEntry } from "../core/services";
import { loadHistory, prepareAlongside, refuseLocked } from "../core/prepare";
import { passOnInterrupt, pinningWords, UpdateGuard, type UpdateWords } from "../core/interrupted";
import { describePending, LOCKED, type Unfinished } from "../core/state";
import { restorePlan, type RestoreWrite, restoreTargets } from "../core/restore";
import { restoreFirst, type RestoreTimes } from "./restoreFirst";

const HELP = `Usage: released-service rollback --to <update | version> [--stack S] [--service NAME]
                                 [--yes] [--with-config | --restore-first] [--no-hold]
                                 [--reason TEXT] [--json]

Returns every service of the stack to what an earlier update ran (a release
set: what ran together comes back together; a service that update did not run
is left as it is, and named), or with --service only that one.
For each it pins the version and exact digest in the stack config
(stacks/Pulumi.<stack>.yaml) as an entry of released-service:pins keyed by the
service's resource name, which the component applies whatever the program,
after checking that <image>@<digest> is still in the registry; then runs
pulumi preview --diff, asks, and runs pulumi up with the message
"rollback to #N (version, digest)". When a digest is gone from the registry it
refuses and changes nothing; when the preview fails or the answer is no, the
config is put back exactly as it was. When the stack's state backend holds a
lock (another update runs, or a killed one left it) it refuses, naming the lock
and pulumi cancel, and changes nothing. The config file is replaced whole, never
left half-written. Commit the stack config file afterwards.

Each pin also records what the service's args ask now, as the preview run
with the pin reads them from the program (a config edited since the last
update included): while they ask the same, an update keeps the pin and warns;
once they ask for another release (the program's version key moved), the
update fails in preview, naming the pin, until released-service release-hold
lifts it.

It also holds each service it pins, an entry of released-service:holds: the
held digest, who, when and why. While it is set, any update that would run
another digest for that service fails in preview, so a pipeline redeploying
the bad release cannot undo the rollback. Lift it with released-service
release-hold.

  --to 12, --to #12   update 12 of the stack's history
  --to v2.4.1         the newest successful update that ran v2.4.1 (the
                      service that ran it; name it with --service if several did)
  --to version=1234   a version that is all digits

--restore-first is the emergency path: service first, record right after.
After the same checks (each target in the registry, each workload on the
cluster or Docker host the stack recorded, no lock), it writes each target to
every live workload of the services at once: a Kubernetes object by one
server-side apply of the object the Kubernetes provider last applied, with
only the release changed, under the provider's own field manager, so that the
update that follows finds it as desired and starts no second rollout; a Swarm
service by docker service update. Then it pins and holds them and runs
pulumi up to record what runs, and says when every instance ran its target and
when the record was complete. If the update fails, the workloads stay on the
target and the config pinned: status says "restored, record pending", and
pulumi up completes it. A Docker host container or a Compose file is refused:
their containers are replaced by the update itself, which is the fast path.

--json prints {stack, result ("rolled back", "already running" or
"cancelled"), update, services: [{service, version, digest}], left, held,
configFile, message, changes, and with --restore-first restoreFirst:
{restoredSeconds, recordedSeconds, workloads}} on stdout, and the rest,
pulumi's output included, on stderr.

Options:
      --to <target>   required: the update number or version to return to
      --service <name> roll back only this service
      --with-config   also restore every plain config value of that update
                      (replicas, namespace, ...), showing the difference first;
                      secret values cannot be restored and are named
      --restore-first write every workload first, then pin, hold and record
                      (see above); not with --with-config
      --no-hold       set no hold (and lift one on another digest)
      --reason <text> why, for the hold (default: the rollback to that service's target)
  -y, --yes           do not ask for confirmation (required without a terminal)
      --json          print the result as JSON
${COMMON_HELP}

${EXIT_CODES_POINTER}
`;

/** The keys a rollback sets itself: --with-config leaves them to it. */
const OWN_KEYS: readonly string[] = [PINS_KEY, HOLDS_KEY];

/**
 * What `--with-config` restores from update `update`: every plain value it ran with, set again,
 * and every plain key it did not have, removed. Secrets cannot be restored (history keeps them
 * encrypted) and the pins and holds are the rollback's own, so neither is touched.
 */
export function restoredConfig(entry: HistoryEntry, current: StackConfig): { edit: ConfigEdit; secrets: string[] } {
    const recorded = entry.config ?? {};
    const set: Record<string, ConfigValue> = {};
    const secrets: string[] = [];
    for (const [key, value] of Object.entries(recorded)) {
        if (OWN_KEYS.includes(key)) {
            continue;
        }
        if (value.secret) {
            secrets.push(key);
        } else if (value.objectValue !== undefined && value.objectValue !== null && typeof value.objectValue === "object") {
            set[key] = value.objectValue as Record<string, unknown>;
        } else if (value.value !== undefined) {
            set[key] = value.value;
        }
    }
    const remove = Object.keys(current).filter((key) => !OWN_KEYS.includes(key) && recorded[key] === undefined);
    return { edit: effectiveEdit({ set, remove }, current), secrets: secrets.sort() };
}

export interface RollbackOptions {
    readonly stack?: string;
    readonly to: string;
    /** Roll back only this service; all the target update ran when unset. */
    readonly service?: string;
    readonly yes: boolean;
    /** Leave a hold on each target (the default), so another deploy cannot silently undo the rollback. */
    readonly hold: boolean;
    readonly reason?: string;
    readonly withConfig: boolean;
    /** Write each workload first, then pin, hold and record it with pulumi up (the emergency path). */
    readonly restoreFirst?: boolean;
}

/**
 * The holds that go with pinning `set`: each target held, or (with --no-hold) a hold on another
 * digest lifted, since it would refuse the pin. Pure.
 */
export function holdEdit(
    config: StackConfig,
    set: ReleaseSet,
    hold: { readonly by: string; readonly at: Date; readonly reason?: string } | undefined,
): { edit: ConfigEdit; lifted: { service: string; hold: Hold }[] } {
    let holds: Record<string, unknown> = { ...holdsOf(config) };
    const lifted: { service: string; hold: Hold }[] = [];
    for (const target of set.targets) {
        const service = target.service;
        const held = holdOf(config, service);
        if (hold !== undefined) {
            // By default each hold names its own service's target: the whole set's message in every
            // hold grows with the square of the services, past what one pulumi argument may hold.
            const reason = hold.reason ?? rollbackMessage({ ...set, targets: [target] });
            holds = withEntry(holds, service, newHold(target.digest, hold.by, hold.at, reason));
        } else if (held !== undefined && held.digest !== target.digest) {
            holds = withEntry(holds, service, undefined);
            lifted.push({ service, hold: held });
        }
    }
    const before = holdsOf(config);
    const changed = show(holds) !== show(before);
    const empty = Object.keys(holds).length === 0;
    const edit: ConfigEdit = {
        set: changed && !empty ? { [HOLDS_KEY]: holds } : {},
        remove: changed && empty && config[HOLDS_KEY] !== undefined ? [HOLDS_KEY] : [],
    };
    return { edit, lifted };
}

/** What `--json` prints when a rollback ends without an error. */
export interface RollbackResult {
    readonly stack: string;
    readonly result: "rolled back" | "already running" | "cancelled";
    /** The update whose releases the rollback returns to. */
    readonly update: number;
    readonly services: { readonly service: string; readonly version: string; readonly digest: string }[];
    /** Services the stack runs that the target update did not: left as they are. */
    readonly left: string[];
    /** Whether each service rolled back is held on its target (see release-hold). */
    readonly held: boolean;
    readonly configFile: string;
    /** The message of the rollback's update. */
    readonly message: string;
    /** What the preview found; null when nothing was previewed. */
    readonly changes: PreviewSummary | null;
    /** With --restore-first: what was written, and when service was restored and the record complete. */
    readonly restoreFirst?: RestoreTimes;
}

/** What a rollback reads before it decides anything: the stack, its config and services, what an unfinished update left, and the history. */
interface RollbackRead {
    readonly stack: ReleaseStack;
    readonly config: StackConfig;
    readonly current: ServiceState[];
    /** The services' resource names. */
    readonly known: string[];
    readonly unfinished: Unfinished;
    /** The history's rows, newest first; `attributed` names the service of a row that names none where the stack runs one. */
    readonly rows: UpdateRow[];
    readonly attributed: UpdateRow[];
    readonly entries: ReadonlyMap<number, HistoryEntry>;
    readonly states: ReadonlyMap<number, readonly ServiceState[]>;
}

/** What a rollback to a release set decided before it asks anything: what it edits, says and leaves. */
interface RollbackPlan {
    readonly stack: ReleaseStack;
    readonly config: StackConfig;
    readonly current: ServiceState[];
    readonly unfinished: Unfinished;
    readonly set: ReleaseSet;
    /** `#4 (api v1.2.1 sha256:…)`: the set, for people. */
    readonly summary: string;
    /** Services the stack runs that the set's update did not: left as they are. */
    readonly left: string[];
    /** The message of the rollback's update. */
    readonly message: string;
    /** With --with-config: the config of the set's update, and the secrets it cannot restore. */
    readonly restored: { readonly edit: ConfigEdit; readonly secrets: string[] } | undefined;
    /** The pins, and with --with-config the config restored: the edit that runs the set, holds aside. */
    readonly release: ConfigEdit;
    /** The stack runs the set already, no pin says otherwise, and no config is to be restored: nothing to do. */
    readonly alreadyRunning: boolean;
    /** Where a pin finds what its service's args ask when the preview says nothing of them. */
    readonly recorded: { readonly states: readonly ServiceState[]; readonly where: string };
}

/** Opens the stack and reads its config and services, its lock and its history at once; a lock is refused first. */
async function readRollback(context: Context, options: RollbackOptions): Promise<RollbackRead> {
    // The lock and the history are read while the workloads are asked: in an incident every second counts.
    const {
        prepared: { stack, config, services: current, known },
        alongside: [unfinished, { rows, entries, states }],
    } = await prepareAlongside(context, { ...options, check: "entries", cluster: "rollback" }, async (opened) => {
        const history = loadHistory(context, opened);
        history.catch(() => undefined);
        // A lock is named before anything the history could say.
        return [await refuseLocked(context, opened), await history] as const;
    });
    return { stack, config, current, known, unfinished, rows, attributed: attribute(rows, known), entries, states };
}

/** Refuses, before anything changes, a rollback to a target whose manifest is no longer in its registry. */
async function refuseMissingTargets(context: Context, { stack, current }: RollbackRead, set: ReleaseSet): Promise<void> {
    // Every target is asked at once (the registry client keeps 16 in flight); the first missing in
    // the set's order is named.
    const references = set.targets.map((target) => targetReference(stack.name, current, target));
    const checks = references.map((reference) => manifestPresent(context, reference));
    checks.forEach((check) => check.catch(() => undefined));
    for (const [index, check] of checks.entries()) {
        if (!(await check)) {
            throw new CliError(
                `refusing to roll back stack ${stack.name} to #${set.update}: ${references[index].text} is no longer in the registry (manifest ${set.targets[index].digest} not found); nothing was changed`,
                ExitCode.NotOk,
            );
        }
    }
}

/** Decides what the rollback to `set` edits, says and leaves as it is, and whether it has anything to do. Pure. */
function planRollback(read: RollbackRead, set: ReleaseSet, options: RollbackOptions): RollbackPlan {
    const { stack, config, current, rows } = read;
    const summary = describeSet(set);
    const left = leftAsTheyAre(read.attributed, set, read.known, options.service);
    const message = rollbackMessage(set);
    const restored = options.withConfig ? restoredConfig(read.entries.get(set.update)!, config) : undefined;
    // The pins go in without what the args ask: the preview run with them reads that from the
    // program as it evaluates now (the config edited since the last update included), and
    // completePins records it before pulumi up.
    const pins = pendingPinEdit(config, set.targets);
    // Already running it, no pin says otherwise, and the newest update did not fail (after a failed
    // update the config may ask for another release, which Swarm, for one, rolled back by itself).
    const newest = rows.find((row) => row.kind === "update");
    const runsAlready = newest?.result !== "failed" && set.targets.every(
        (target) =>
            current.find((service) => service.name === target.service)?.imageDigest === target.digest &&
            (pinOf(config, target.service)?.digest ?? target.digest) === target.digest,
    );
    const release = effectiveEdit({ set: { ...restored?.edit.set, ...pins.set }, remove: restored?.edit.remove ?? [] }, config);
    // A service the preview says nothing of: what its args asked in the last update (with
    // --with-config, in the target's, whose config is restored).
    const recorded = options.withConfig
        ? { states: read.states.get(set.update) ?? current, where: `update #${set.update}` }
        : { states: current, where: "the last update" };
    return {
        stack,
        config,
        current,
        unfinished: read.unfinished,
        set,
        summary,
        left,
        message,
        restored,
        release,
        alreadyRunning: (restored === undefined || isEmpty(restored.edit)) && runsAlready,
        recorded,
    };
}

/** What `--json` prints for a rollback that ended with `outcome`. */
function rollbackResult(plan: RollbackPlan, options: RollbackOptions, outcome: RollbackResult["result"], changes: PreviewSummary | null, times?: RestoreTimes): RollbackResult {
    const { stack, set } = plan;
    return {
        stack: stack.name,
        result: outcome,
        update: set.update,
        services: set.targets.map((target) => ({ service: target.service, version: target.version, digest: target.digest })),
        left: plan.left,
        held: outcome === "rolled back" && options.hold,
        configFile: stack.configFile,
        message: plan.message,
        changes,
        ...(times !== undefined ? { restoreFirst: times } : {}),
    };
}

export async function rollback(context: Context, options: RollbackOptions, report: (result: RollbackResult) => void): Promise<number> {
    const startedAt = context.deps.elapsed();
    const read = await readRollback(context, options);
    const set = chooseReleaseSet(read.stack.name, read.attributed, options.to, options.service);
    await refuseMissingTargets(context, read, set);
    const plan = planRollback(read, set, options);
    const { stack, config, current } = plan;
    if (plan.alreadyRunning) {
        const runs = set.targets.map((target) => `${target.service} ${target.version} (${target.digest})`).join(", ");
        context.stdout.write(`Stack ${stack.name} already runs ${runs}; nothing to do.\n`);
        report(rollbackResult(plan, options, "already running", null));
        return ExitCode.Ok;
    }
    // Which workloads restore-first writes, or why it cannot, is known before anything is asked.
    const writes = options.restoreFirst
        ? restorePlan(stack.name, restoreTargets(set.targets, (target) => targetReference(stack.name, current, target).text), current, config)
        : undefined;
    requireConsent(context, "rollback", options.yes);
    const pending = describePending(stack.name, plan.unfinished);
    if (pending !== undefined) {
        context.stdout.write(`${pending}\n`);
    }
    const holding = options.hold ? { by: await context.deps.actor(), at: context.deps.now(), reason: options.reason } : undefined;
    const { edit: held, lifted } = holdEdit(config, set, holding);
    const edit: ConfigEdit = { set: { ...plan.release.set, ...held.set }, remove: [...plan.release.remove, ...held.remove] };
    announceConfigEdit(context, plan, lifted);
    if (writes !== undefined) {
        return restoreThenRecord(context, options, plan, { writes, holds: held, startedAt }, report);
    }
    return pinThenUpdate(context, options, plan, edit, report);
}

/** Says what --with-config restores in the stack config and what it cannot, and each hold --no-hold lifts. */
function announceConfigEdit(context: Context, { stack, set, config, restored }: RollbackPlan, lifted: readonly { service: string; hold: Hold }[]): void {
    if (restored) {
        const lines = describeEdit(restored.edit, config);
        context.stdout.write(
            lines.length === 0
                ? `The config of update #${set.update} is the config of stack ${stack.name} now.\n`
                : `Restoring the config of update #${set.update} in stack ${stack.name}:\n${lines.join("\n")}\n`,
        );
        if (restored.secrets.length > 0) {
            context.stdout.write(
                `Not restored in stack ${stack.name}, because history keeps secrets encrypted: ${restored.secrets.join(", ")}. They keep their current values; set them by hand if they changed since.\n`,
            );
        }
    }
    for (const { service, hold } of lifted) {
        context.stdout.write(`--no-hold: lifting the hold of stack ${stack.name} on service ${service} on ${describeHold(hold)}.\n`);
    }
}

/** --restore-first: asks, then writes every workload, pins and holds the set, and records it with pulumi up. */
async function restoreThenRecord(
    context: Context,
    options: RollbackOptions,
    plan: RollbackPlan,
    restore: { readonly writes: readonly RestoreWrite[]; readonly holds: ConfigEdit; readonly startedAt: number },
    report: (result: RollbackResult) => void,
): Promise<number> {
    const { stack, config, set, current, summary, message } = plan;
    const { writes, holds, startedAt } = restore;
    const question = `Restore ${summary} now (${writes.map((write) => write.what).join(", ")}), then pin and hold it in ${stack.configFile} and record it with pulumi up? [y/N] `;
    if (!options.yes && !(await context.deps.confirm(question))) {
        context.stdout.write(`Rollback of stack ${stack.name} cancelled; nothing was changed.\n`);
        report(rollbackResult(plan, options, "cancelled", null));
        return ExitCode.NotOk;
    }
    const { times, changes } = await restoreFirst(context, { stack, config, set, current, writes, holds, summary, message, startedAt });
    return finish(context, options, plan, () => report(rollbackResult(plan, options, "rolled back", changes, times)));
}

/** The rollback without --restore-first: the pins and their preview, the question, then pulumi up. */
async function pinThenUpdate(context: Context, options: RollbackOptions, plan: RollbackPlan, edit: ConfigEdit, report: (result: RollbackResult) => void): Promise<number> {
    // The preview reads the stack config, so the edit goes in first; it comes out again unless the
    // update runs: a failed preview or a "no" puts the file back byte for byte as it was saved.
    const guard = await UpdateGuard.open(context, plan.stack);
    const changes = await previewRollback(context, plan, guard, edit);
    if (!(await confirmRollback(context, options, plan, guard))) {
        report(rollbackResult(plan, options, "cancelled", changes));
        return ExitCode.NotOk;
    }
    await updateRollback(context, options, plan, guard);
    return finish(context, options, plan, () => report(rollbackResult(plan, options, "rolled back", changes)));
}

/** What an interrupt before the rollback's pulumi up says: the config is put back, and nothing was changed. */
function stoppedBeforeUp(stack: ReleaseStack): string {
    return `the rollback of stack ${stack.name} stopped before pulumi up; ${stack.configFile} is as it was, and nothing was changed`;
}

/** Puts the edit in the stack config, previews it, and completes the pins with what the args ask; a failed step puts the config back. */
async function previewRollback(context: Context, plan: RollbackPlan, guard: UpdateGuard, edit: ConfigEdit): Promise<PreviewSummary> {
    const { stack, config, set, left, summary } = plan;
    const stopped = stoppedBeforeUp(stack);
    await guard.before(stopped, () => stack.editConfig(edit));
    if (left.length > 0) {
        const leaves = describeLeft(set.update, left);
        context.stdout.write(`${leaves[0].toUpperCase()}${leaves.slice(1)}.\n`);
    }
    context.stdout.write(`Previewing the rollback of stack ${stack.name} to ${summary}…\n`);
    let preview: Preview;
    try {
        preview = await guard.before(stopped, (signal) => stack.preview((text) => context.stdout.write(text), signal));
    } catch (error) {
        passOnInterrupt(error);
        guard.restore();
        throw new CliError(`the preview of the rollback of stack ${stack.name} failed: ${(error as Error).message.trim()}\nnothing was changed`, ExitCode.Failure);
    }
    try {
        await guard.before(stopped, () => completePins(context, stack, config, set.targets, preview.asked, plan.recorded));
    } catch (error) {
        passOnInterrupt(error);
        guard.restore();
        throw error;
    }
    context.stdout.write(`\nThe rollback of stack ${stack.name} changes: ${describeChanges(preview.changes)}.\n`);
    return preview.changes;
}

/** Asks, unless --yes; a "no" puts the config back and says the rollback was cancelled. Resolves to whether it goes on. */
async function confirmRollback(context: Context, options: RollbackOptions, { stack, summary }: RollbackPlan, guard: UpdateGuard): Promise<boolean> {
    if (options.yes) {
        return true;
    }
    const question = `Roll back stack ${stack.name} to ${summary}? This pins them in ${stack.configFile} and runs pulumi up. [y/N] `;
    if (!(await guard.before(stoppedBeforeUp(stack), (signal) => context.deps.confirm(question, signal)))) {
        guard.restore();
        context.stdout.write(`Rollback of stack ${stack.name} cancelled; nothing was changed.\n`);
        return false;
    }
    return true;
}

/** Runs pulumi up with the pins: a lock that refuses it puts the config back; any other failure leaves the pins for the next pulumi up. */
async function updateRollback(context: Context, options: RollbackOptions, plan: RollbackPlan, guard: UpdateGuard): Promise<void> {
    const { stack, set, summary, message } = plan;
    const pinned = set.targets.map((target) => `${target.service} version ${target.version} and digest ${target.digest}`).join("; ");
    context.stdout.write(`Pinned ${pinned} in ${stack.configFile}; running pulumi up on stack ${stack.name}…\n`);
    try {
        await guard.update(rollbackWords(stack, set, options, message), () => stack.up(message, (text) => context.stdout.write(text), context.interrupts));
    } catch (error) {
        passOnInterrupt(error);
        const reason = (error as Error).message.trim();
        if (LOCKED.test(reason)) {
            // The backend refused before the engine started: the config goes back as it was.
            guard.restore();
            throw new CliError(`another update holds stack ${stack.name}: ${reason}\nnothing was changed`, ExitCode.Failure);
        }
        throw new CliError(
            `pulumi up of stack ${stack.name} failed: ${reason}\n` +
                `${stack.configFile} now pins ${summary}: fix the cause and run pulumi up, or restore the file with git`,
            ExitCode.Failure,
        );
    }
    guard.after(() => `the rollback of stack ${stack.name} had completed: it runs ${summary}, and ${stack.configFile} pins it; commit it: git add ${stack.configFile} && git commit -m "${message}"`);
}

/** What a rollback says once it has run: what runs, what holds it, and the file to commit. */
async function finish(context: Context, options: RollbackOptions, plan: RollbackPlan, report: () => void): Promise<number> {
    const { stack, set, message, left, summary } = plan;
    context.stdout.write(`\nRolled back stack ${stack.name} to ${summary}${left.length > 0 ? `; ${describeLeft(set.update, left)}` : ""}.\n`);
    if (options.hold) {
        const digests = set.targets.map((target) => `${target.service} on ${target.digest}`).join(", ");
        const only = options.service !== undefined ? ` --service ${options.service}` : "";
        context.stdout.write(
            `Stack ${stack.name} holds ${digests}: an update that would run another digest fails until ` +
                `released-service release-hold --stack ${stack.name}${only}.\n`,
        );
    }
    const after = await stack.config();
    for (const target of set.targets) {
        const pin = pinOf(after, target.service);
        if (pin?.asked !== undefined) {
            context.stdout.write(
                `While service ${target.service}'s args ask for ${describeAsked(pin.asked)}, as now, an update of stack ${stack.name} keeps its pin and warns; ` +
                    `once they ask for another release, it fails until released-service release-hold --stack ${stack.name} --service ${target.service}.\n`,
            );
        }
    }
    context.stdout.write(
        `Commit ${stack.configFile} so the pin is in git, or the next pulumi up of stack ${stack.name} from a clean checkout undoes this rollback:\n` +
            `  git add ${stack.configFile} && git commit -m "${message}"\n`,
    );
    report();
    return ExitCode.Ok;
}

/** What an interrupt during the rollback's pulumi up leaves, and the command that finishes it. */
function rollbackWords(stack: ReleaseStack, set: ReleaseSet, options: RollbackOptions, message: string): UpdateWords {
    const flags = [
        `--to ${set.update}`,
        `--stack ${stack.name}`,
        ...(options.service !== undefined ? [`--service ${options.service}`] : []),
        ...(options.withConfig ? ["--with-config"] : []),
        ...(options.hold ? [] : ["--no-hold"]),
    ];
    return pinningWords({
        stack: stack.name,
        configFile: stack.configFile,
        subject: `the rollback of stack ${stack.name}`,
        targets: set.targets,
        again: `released-service rollback ${flags.join(" ")}`,
        completedNext: `commit it: git add ${stack.configFile} && git commit -m "${message}"`,
    });
}

export const rollbackCommand: Command = {
    name: "rollback",
    summary: "pin an earlier update's version and digest, hold it, pulumi up",
    help: HELP,
    options: {
        ...COMMON_OPTIONS,
        to: { type: "string" },
        service: { type: "string" },
        yes: { type: "boolean", short: "y" },
        "with-config": { type: "boolean" },
        "no-hold": { type: "boolean" },
        reason: { type: "string" },
        json: { type: "boolean" },
        "restore-first": { type: "boolean" },
    },
    run(context, values) {
        const to = text(values, "to");
        if (!to) {
            throw usageError("--to is required: an update number (--to 12) or a version (--to v2.4.1)");
        }
        const reason = text(values, "reason");
        if (reason !== undefined && flag(values, "no-hold")) {
            throw usageError("--reason is recorded in the hold, and --no-hold sets none: pass one or the other");
        }
        if (flag(values, "restore-first") && flag(values, "with-config")) {
            throw usageError("--restore-first writes the release alone to each workload, ahead of the update, and --with-config restores config that only the update applies: pass one or the other");
        }
        const options: RollbackOptions = {
            stack: text(values, "stack"),
            to,
            service: text(values, "service"),
            yes: flag(values, "yes"),
            hold: !flag(values, "no-hold"),
            reason,
            withConfig: flag(values, "with-config"),
            restoreFirst: flag(values, "restore-first"),
        };
        return answering<RollbackResult>(context, flag(values, "json"), (answer, report) => rollback(answer, options, report));
    },
};
