// `released-service rollback`: choosing what to return to, the config that runs it (and, with
// --with-config, the config it ran with), the hold it leaves, and the message it records.

import { type Context, describeChanges, loadHistory, manifestPresent, type PreviewSummary, requireConsent } from "./commands";
import { type ConfigEdit, type ConfigValue, describeEdit, effectiveEdit, isEmpty, type StackConfig, textOf, undoEdit } from "./config";
import { CliError, ExitCode, usageError } from "./exitCodes";
import { describeHold, HOLD_KEY, holdOf, newHold } from "./hold";
import { configKey, type HistoryEntry, type UpdateRow } from "./history";
import { type DigestReference, parseDigestReference } from "./reference";

/**
 * `--to 12` or `--to #12` names update 12; anything else names a version, and the newest
 * successful update that ran it is the target. A version that is all digits (a git SHA can be)
 * is reached with `--to version=1234567`.
 */
export function chooseRollbackTarget(rows: readonly UpdateRow[], to: string): UpdateRow {
    const explicitVersion = /^version=(.+)$/.exec(to);
    const number = explicitVersion ? undefined : /^#?(\d+)$/.exec(to);
    let target: UpdateRow | undefined;
    if (number) {
        target = rows.find((row) => row.update === Number(number[1]));
        if (!target) {
            throw usageError(`no update #${number[1]} in this stack's history (it has ${rows.length} update${rows.length === 1 ? "" : "s"})`);
        }
    } else {
        const version = explicitVersion ? explicitVersion[1] : to;
        const candidates = rows.filter((row) => row.version === version);
        if (candidates.length === 0) {
            throw usageError(`no update in this stack's history ran version ${version}`);
        }
        target = candidates.find((row) => row.kind === "update" && row.result === "succeeded" && row.digest !== null);
        if (!target) {
            throw usageError(`version ${version} never ran successfully with a known digest (updates ${candidates.map((row) => `#${row.update}`).join(", ")})`);
        }
    }
    if (target.kind !== "update") {
        throw usageError(`update #${target.update} was a ${target.kind}, not an update; choose an update that deployed a version`);
    }
    if (target.result !== "succeeded") {
        throw usageError(`update #${target.update} ${target.result || "did not succeed"}; choose an update that succeeded`);
    }
    if (target.digest === null || target.version === null) {
        throw new CliError(
            `update #${target.update} has no recorded ${target.digest === null ? "digest" : "version"} (not pinned in config, and its state could not be read); nothing was changed`,
            ExitCode.NotOk,
        );
    }
    return target;
}

/** The message the rollback's `pulumi up` records in history, so `history` shows what it restored. */
export function rollbackMessage(target: UpdateRow): string {
    return `rollback to #${target.update} (${target.version}, ${target.digest})`;
}

/** What returning to `target` runs: the stack's current image (the component runs that) at the target's digest. */
export function targetReference(stack: string, config: StackConfig, target: UpdateRow): DigestReference {
    const image = textOf(config, "image") ?? target.image;
    if (!image) {
        throw new CliError(`stack ${stack} has no \`image\` config and update #${target.update} recorded none; nothing was changed`, ExitCode.Failure);
    }
    return parseDigestReference(`${image}@${target.digest}`);
}

/** The config that runs `target`: its version and exact digest. */
export function pinOf(target: Pick<UpdateRow, "version" | "digest">): Record<string, string> {
    return { [configKey("version")]: target.version ?? "", [configKey("digest")]: target.digest ?? "" };
}

/**
 * What `--with-config` restores from update `update`: every plain value it ran with, set again,
 * and every plain key it did not have, removed. Secrets cannot be restored (history keeps them
 * encrypted) and the hold is the rollback's own, so neither is touched.
 */
export function restoredConfig(entry: HistoryEntry, current: StackConfig): { edit: ConfigEdit; secrets: string[] } {
    const recorded = entry.config ?? {};
    const set: Record<string, ConfigValue> = {};
    const secrets: string[] = [];
    for (const [key, value] of Object.entries(recorded)) {
        if (key === HOLD_KEY) {
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
    const remove = Object.keys(current).filter((key) => key !== HOLD_KEY && recorded[key] === undefined);
    return { edit: effectiveEdit({ set, remove }, current), secrets: secrets.sort() };
}

export interface RollbackOptions {
    readonly stack?: string;
    readonly to: string;
    readonly yes: boolean;
    /** Leave a hold on the target (the default), so another deploy cannot silently undo the rollback. */
    readonly hold: boolean;
    readonly reason?: string;
    readonly withConfig: boolean;
}

export async function rollbackCommand(context: Context, options: RollbackOptions): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    const { rows, entries } = await loadHistory(context, stack);
    const target = chooseRollbackTarget(rows, options.to);
    const [config, outputs] = await Promise.all([stack.config(), stack.outputs()]);
    const reference = targetReference(stack.name, config, target);
    if (!(await manifestPresent(context, reference))) {
        throw new CliError(
            `refusing to roll back to #${target.update}: ${reference.text} is no longer in the registry (manifest ${target.digest} not found); nothing was changed`,
            ExitCode.NotOk,
        );
    }
    const summary = `#${target.update} (${target.version}, ${target.digest})`;
    const restored = options.withConfig ? restoredConfig(entries.get(target.update)!, config) : undefined;
    const release = effectiveEdit({ set: { ...restored?.edit.set, ...pinOf(target) }, remove: restored?.edit.remove ?? [] }, config);
    if (isEmpty(release) && outputs.imageDigest === target.digest) {
        context.stdout.write(`Stack ${stack.name} already runs ${target.version} (${target.digest}); nothing to do.\n`);
        return ExitCode.Ok;
    }
    requireConsent(context, "rollback", options.yes);
    const held = holdOf(config);
    const hold = options.hold
        ? { [HOLD_KEY]: newHold(target.digest!, await context.deps.actor(), context.deps.now(), options.reason ?? rollbackMessage(target)) }
        : {};
    // --no-hold chooses what runs as deliberately as a hold does: a hold on another digest would refuse it.
    const lifted = !options.hold && held !== undefined && held.digest !== target.digest;
    const edit: ConfigEdit = { set: { ...release.set, ...hold }, remove: [...release.remove, ...(lifted ? [HOLD_KEY] : [])] };
    if (restored) {
        const lines = describeEdit(restored.edit, config);
        context.stdout.write(
            lines.length === 0
                ? `The config of update #${target.update} is the config now.\n`
                : `Restoring the config of update #${target.update}:\n${lines.join("\n")}\n`,
        );
        if (restored.secrets.length > 0) {
            context.stdout.write(
                `Not restored, because history keeps secrets encrypted: ${restored.secrets.join(", ")}. They keep their current values; set them by hand if they changed since.\n`,
            );
        }
    }
    if (lifted) {
        context.stdout.write(`--no-hold: lifting the hold on ${describeHold(held)}.\n`);
    }
    // The preview reads the stack config, so the edit goes in first; it comes out again unless the
    // update runs, so a failed preview or a "no" leaves the stack as it was.
    const undo = undoEdit(edit, config);
    await stack.editConfig(edit);
    context.stdout.write(`Previewing the rollback of stack ${stack.name} to ${summary}…\n`);
    let changes: PreviewSummary;
    try {
        changes = await stack.preview((text) => context.stdout.write(text));
    } catch (error) {
        await stack.editConfig(undo);
        throw new CliError(`the preview of the rollback failed: ${(error as Error).message.trim()}\nnothing was changed`, ExitCode.Failure);
    }
    context.stdout.write(`\nThe rollback changes: ${describeChanges(changes)}.\n`);
    if (!options.yes) {
        const question = `Roll back stack ${stack.name} to ${summary}? This pins them in ${stack.configFile} and runs pulumi up. [y/N] `;
        if (!(await context.deps.confirm(question))) {
            await stack.editConfig(undo);
            context.stdout.write("Rollback cancelled; nothing was changed.\n");
            return ExitCode.NotOk;
        }
    }
    context.stdout.write(`Pinned version ${target.version} and digest ${target.digest} in ${stack.configFile}; running pulumi up…\n`);
    try {
        await stack.up(rollbackMessage(target), (text) => context.stdout.write(text));
    } catch (error) {
        throw new CliError(
            `pulumi up failed: ${(error as Error).message.trim()}\n` +
                `${stack.configFile} now pins ${target.version} ${target.digest}: fix the cause and run pulumi up, or restore the file with git`,
            ExitCode.Failure,
        );
    }
    context.stdout.write(`\nRolled back stack ${stack.name} to ${summary}.\n`);
    if (options.hold) {
        context.stdout.write(
            `The stack holds ${target.digest}: an update that would run another digest fails until ` +
                `released-service release-hold --stack ${stack.name}.\n`,
        );
    }
    context.stdout.write(
        `Commit ${stack.configFile} so the pin is in git, or the next pulumi up from a clean checkout undoes this rollback:\n` +
            `  git add ${stack.configFile} && git commit -m "${rollbackMessage(target)}"\n`,
    );
    return ExitCode.Ok;
}
