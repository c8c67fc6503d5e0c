// `released-service up`: a preview, then the update; with --atomic, an update that fails after the
// workload changed is undone by another update pinned to the last successful release.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES, flag, text } from "../core/command";
import { effectiveEdit } from "../core/config";
import type { Context, ReleaseStack } from "../core/context";
import { CliError, ExitCode, usageError } from "../core/exitCodes";
import { type HistoryEntry, updateNumbers, type UpdateRow } from "../core/history";
import { pinOf } from "../core/release";
import { describeInstances, waitForDigest } from "../core/rollout";
import { describeChanges, loadHistory, requireConsent, workloadOf } from "../core/steps";

const HELP = `Usage: released-service up [--stack S] [--atomic] [--yes]

Runs pulumi preview, shows what would change, asks, then runs pulumi up.

With --atomic, an update that fails after the Deployment changed (its pods never
became ready within the rollout deadline, progressDeadlineSeconds, or anything
else failed after that) is undone: another update pins the version and digest
of the last successful update, waits until every pod runs that digest, and the
command exits 1, naming both updates. An update that failed before the
Deployment changed needs no undo and exits 3.

Options:
      --atomic        undo a failed update (see above)
  -y, --yes           do not ask for confirmation (required without a terminal)
${COMMON_HELP}

${EXIT_CODES}
`;

export const UP_MESSAGE = "released-service up";
/** How long the undo's pods get to settle after its update reports the Deployment ready. */
export const UNDO_SETTLE_MS = 120_000;

/** The newest update that succeeded with a known version and digest: what ran last time it worked. */
export function lastRelease(rows: readonly UpdateRow[]): UpdateRow | undefined {
    return rows.find((row) => row.kind === "update" && row.result === "succeeded" && row.digest !== null && row.version !== null);
}

export function undoMessage(release: UpdateRow): string {
    return `undo a failed update: back to #${release.update} (${release.version}, ${release.digest})`;
}

function newestNumbers(entries: readonly HistoryEntry[], count: number): number[] {
    return updateNumbers(entries).slice(0, count);
}

async function up(context: Context, options: { stack?: string; atomic: boolean; yes: boolean }): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    requireConsent(context, "up", options.yes);
    const release = options.atomic ? lastRelease((await loadHistory(context, stack)).rows) : undefined;
    if (options.atomic && !release) {
        throw usageError(`stack ${stack.name} has no successful update with a known digest to return to: run its first update without --atomic`);
    }
    const before = await stack.outputs();
    context.stdout.write(`Previewing the update of stack ${stack.name}…\n`);
    let changes;
    try {
        changes = await stack.preview((text) => context.stdout.write(text));
    } catch (error) {
        throw new CliError(`the preview failed: ${(error as Error).message.trim()}\nnothing was changed`, ExitCode.Failure);
    }
    context.stdout.write(`\nThe update changes: ${describeChanges(changes)}.\n`);
    if (!options.yes && !(await context.deps.confirm(`Update stack ${stack.name}? [y/N] `))) {
        context.stdout.write("Update cancelled; nothing was changed.\n");
        return ExitCode.NotOk;
    }
    try {
        await stack.up(options.atomic ? `${UP_MESSAGE} --atomic` : UP_MESSAGE, (text) => context.stdout.write(text));
    } catch (error) {
        const failure = (error as Error).message.trim();
        if (!release) {
            throw new CliError(`pulumi up failed: ${failure}`, ExitCode.Failure);
        }
        return undo(context, stack, release, before.deployedImage, failure);
    }
    const after = await stack.outputs();
    context.stdout.write(`\nUpdated stack ${stack.name}: it runs ${after.version ?? "(no version)"} ${after.imageDigest ?? "(no digest)"}.\n`);
    return ExitCode.Ok;
}

/** The second update of --atomic: back to `release`, unless the failed one never reached the Deployment. */
async function undo(
    context: Context,
    stack: ReleaseStack,
    release: UpdateRow,
    deployedBefore: string | undefined,
    failure: string,
): Promise<number> {
    const after = await stack.outputs();
    const [failed] = newestNumbers(await stack.history(), 1);
    if (after.deployedImage === deployedBefore) {
        throw new CliError(
            `update #${failed} failed before the Deployment changed (it still runs ${deployedBefore ?? "nothing"}), so there is nothing to undo:\n${failure}`,
            ExitCode.Failure,
        );
    }
    const summary = `#${release.update} (${release.version}, ${release.digest})`;
    context.stdout.write(
        `\nUpdate #${failed} failed after the Deployment changed to ${after.deployedImage ?? "(unknown image)"}:\n${failure}\n` +
            `--atomic: returning stack ${stack.name} to the last successful release, ${summary}…\n`,
    );
    const config = await stack.config();
    await stack.editConfig(effectiveEdit({ set: pinOf(release), remove: [] }, config));
    try {
        await stack.up(undoMessage(release), (text) => context.stdout.write(text));
    } catch (error) {
        throw new CliError(
            `update #${failed} failed, and so did the update that was to undo it: ${(error as Error).message.trim()}\n` +
                `${stack.configFile} now pins ${release.version} ${release.digest}; check the cluster with released-service status`,
            ExitCode.Failure,
        );
    }
    const [undone] = newestNumbers(await stack.history(), 1);
    const live = context.deps.live(workloadOf(config));
    const landing = await waitForDigest(context, live, release.digest!, UNDO_SETTLE_MS);
    context.progress.done();
    context.stdout.write(
        `\nUpdate #${failed} failed; update #${undone} returned stack ${stack.name} to ${summary}` +
            (landing.landed
                ? `, and every ${live.noun.one} runs ${release.digest}.\n`
                : `, but not every ${live.noun.one} runs it yet: ${describeInstances(landing.instances, release.digest!, live.noun)}.\n`) +
            `${stack.configFile} now pins ${release.version} ${release.digest}. Fix the release, then set its version again and rerun.\n`,
    );
    return landing.landed ? ExitCode.NotOk : ExitCode.Failure;
}

export const upCommand: Command = {
    name: "up",
    summary: "preview, then update; --atomic undoes a failed rollout",
    help: HELP,
    options: { ...COMMON_OPTIONS, atomic: { type: "boolean" }, yes: { type: "boolean", short: "y" } },
    run: (context, values) => up(context, { stack: text(values, "stack"), atomic: flag(values, "atomic"), yes: flag(values, "yes") }),
};
