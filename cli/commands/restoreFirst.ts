// `released-service rollback --restore-first`: the workloads first, the record right after. Every
// workload of the services rolled back gets its target in one write (cli/core/restore.ts), the stack
// config pins and holds them, and pulumi up records what already runs; the operator is told when
// service was restored and when the record was complete. Once a workload is written, nothing puts
// the config back: a rollback that ran is never hidden by an unpinned config.

import type { ConfigEdit, StackConfig } from "../core/config";
import type { Context, PreviewSummary, ReleaseStack } from "../core/context";
import { CliError, ExitCode } from "../core/exitCodes";
import { passOnInterrupt, UpdateGuard, type UpdateWords } from "../core/interrupted";
import { ownWorkloadLive } from "../core/ownLive";
import { askedIn, completePins, pinEdit, type ReleaseSet } from "../core/release";
import type { RestoreWrite } from "../core/restore";
import { describeInstances, waitForDigest } from "../core/rollout";
import type { ServiceState } from "../core/services";
import type { LiveWorkload } from "../../components/workloads/live";

/** How long the instances get to come to the target before the command says they have not. */
export const RESTORE_TIMEOUT_SECONDS = 300;

/** How often they are asked meanwhile: the time to restore is read to this much. */
const RESTORE_POLL_MS = 200;

/** What the rollback has decided before restoring: the set, its config edits and its words. */
export interface RestoreFirstInput {
    readonly stack: ReleaseStack;
    readonly config: StackConfig;
    readonly set: ReleaseSet;
    readonly current: readonly ServiceState[];
    readonly writes: readonly RestoreWrite[];
    /** The holds the rollback sets or lifts. */
    readonly holds: ConfigEdit;
    /** `api v1.0.0 (sha256:…)`: what the set runs, for people. */
    readonly summary: string;
    readonly message: string;
    /** The command's start on context.deps.elapsed()'s clock: the times are counted from it. */
    readonly startedAt: number;
}

/** When service was restored and when the record was complete, in seconds from the command's start. */
export interface RestoreTimes {
    /** Every instance of every workload written runs its target; null when they did not within the timeout. */
    readonly restoredSeconds: number | null;
    readonly recordedSeconds: number;
    /** What was written, for people: `Deployment shop/api-1a2b3c`. */
    readonly workloads: readonly string[];
}

const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** The instances a write brings to its target, or none for an object that runs none itself (a CronJob). */
function watched(context: Context, write: RestoreWrite): LiveWorkload | undefined {
    if ("record" in write.watch) {
        return context.deps.live(write.watch.record, write.connection);
    }
    const own = write.watch.own;
    return own.live?.kind === "kubernetes" && own.live.selector === undefined ? undefined : ownWorkloadLive(context, own, write.connection);
}

/** The line that says the record is pending, and the one command that completes it. */
function pendingLine(input: RestoreFirstInput): string {
    const { stack, summary } = input;
    return (
        `the record is pending: the workloads were restored to ${summary} ahead of the update, and ${stack.configFile} pins and holds it; ` +
        `pulumi up --stack ${stack.name} records it (released-service status --stack ${stack.name} shows "restored, record pending" until then)`
    );
}

/** What an interrupt during the recording update says: the workloads run the target whatever pulumi did. */
function recordWords(input: RestoreFirstInput): UpdateWords {
    const pending = pendingLine(input);
    return {
        ended: ({ completed }) => ({
            restore: false,
            line: completed ? `the rollback of stack ${input.stack.name} was recorded before pulumi could cancel it; commit ${input.stack.configFile}` : `pulumi up of stack ${input.stack.name} was cancelled; ${pending}`,
        }),
        killed: { restore: false, line: `stopped at once during pulumi up of stack ${input.stack.name}, which may leave its lock (pulumi cancel --stack ${input.stack.name}); ${pending}` },
    };
}

/**
 * Waits until every instance of every workload written runs its service's target digest, and says
 * so, with the time since the command started; resolves to that time, or null after the timeout.
 */
async function watchRestore(context: Context, input: RestoreFirstInput, writes: readonly RestoreWrite[]): Promise<number | null> {
    const digestOf = (service: string): string => input.set.targets.find((target) => target.service === service)!.digest;
    const landings = await Promise.all(
        writes.map(async (write) => {
            const live = watched(context, write);
            return live === undefined ? { write, live, landed: true, instances: [] } : { write, live, ...(await waitForDigest(context, live, digestOf(write.service), RESTORE_TIMEOUT_SECONDS * 1000, RESTORE_POLL_MS)) };
        }),
    );
    const late = landings.filter((landing) => !landing.landed);
    if (late.length > 0) {
        for (const { write, live, instances } of late) {
            context.stdout.write(`Not restored within ${RESTORE_TIMEOUT_SECONDS} s: ${write.what} (${describeInstances(instances, digestOf(write.service), live!.noun)}).\n`);
        }
        return null;
    }
    const after = seconds(context.deps.elapsed() - input.startedAt);
    context.stdout.write(`Restored stack ${input.stack.name} to ${input.summary}: every instance runs its target, ${after} s after the command started.\n`);
    return after;
}

/** Restores the workloads, pins and holds the set, and records it with pulumi up. */
export async function restoreFirst(context: Context, input: RestoreFirstInput): Promise<{ times: RestoreTimes; changes: PreviewSummary }> {
    const { stack, config, set, current, writes, summary } = input;
    const guard = await UpdateGuard.open(context, stack);
    // The pins record what the args asked in the last update, so that the config is whole from the
    // first moment; the preview below replaces that with what they ask now.
    const pins = pinEdit(stack.name, config, set.targets, askedIn(current));
    await guard.before(`the rollback of stack ${stack.name} stopped before writing any workload; ${stack.configFile} is as it was, and nothing was changed`, () =>
        stack.editConfig({ set: { ...pins.set, ...input.holds.set }, remove: input.holds.remove }),
    );
    const pending = (): string => pendingLine(input);
    context.stdout.write(`Restoring ${summary} first: ${writes.map((write) => write.what).join(", ")}…\n`);
    const written = await guard.during(pending, false, () => Promise.allSettled(writes.map((write) => context.deps.write(write.write, write.connection))));
    const failed = written.flatMap((result, index) => (result.status === "rejected" ? [{ write: writes[index], reason: (result.reason as Error).message.trim() }] : []));
    if (failed.length === writes.length) {
        guard.restore();
        throw new CliError(
            `rollback --restore-first of stack ${stack.name} could not write any workload (${failed.map(({ write, reason }) => `${write.what}: ${reason}`).join("; ")}); ` +
                `${stack.configFile} is as it was, and nothing was changed`,
            ExitCode.Failure,
        );
    }
    for (const { write, reason } of failed) {
        context.stdout.write(`Could not write ${write.what} ahead of the update (${reason}); pulumi up moves it.\n`);
    }
    const restored = watchRestore(context, input, writes.filter((_, index) => written[index].status === "fulfilled"));
    restored.catch(() => undefined);
    const record = async (): Promise<PreviewSummary> => {
        // What the args ask now, read by a preview run with the pins, goes into them before the update.
        const preview = await guard.during(pending, false, () => stack.preview((text) => context.stdout.write(text)));
        await guard.during(pending, false, () => completePins(context, stack, config, set.targets, preview.asked, { states: current, where: "the last update" }));
        context.stdout.write(`Recording the rollback of stack ${stack.name} with pulumi up…\n`);
        await guard.update(recordWords(input), () => stack.up(input.message, (text) => context.stdout.write(text), context.interrupts));
        return preview.changes;
    };
    let changes: PreviewSummary;
    try {
        changes = await record();
    } catch (error) {
        passOnInterrupt(error);
        await restored;
        throw new CliError(`recording the rollback of stack ${stack.name} failed: ${(error as Error).message.trim()}\n${pending()}`, ExitCode.Failure);
    }
    const recordedSeconds = seconds(context.deps.elapsed() - input.startedAt);
    guard.after(() => `the rollback of stack ${stack.name} was recorded, and ${stack.configFile} pins it; commit it: git add ${stack.configFile} && git commit -m "${input.message}"`);
    const restoredSeconds = await restored;
    context.stdout.write(`Recorded the rollback of stack ${stack.name} ${recordedSeconds} s after the command started.\n`);
    return { times: { restoredSeconds, recordedSeconds, workloads: writes.map((write) => write.what) }, changes };
}
