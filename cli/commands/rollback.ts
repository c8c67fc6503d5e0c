// `released-service rollback`: pins an earlier update's release (and, with --with-config, the
// config it ran with), leaves a hold on it, previews, asks, and runs pulumi up.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES, flag, text } from "../core/command";
import { type ConfigEdit, type ConfigValue, describeEdit, effectiveEdit, isEmpty, type StackConfig, undoEdit } from "../core/config";
import type { Context, PreviewSummary } from "../core/context";
import { CliError, ExitCode, usageError } from "../core/exitCodes";
import { describeHold, HOLD_KEY, holdOf, newHold } from "../core/hold";
import type { HistoryEntry } from "../core/history";
import { chooseRollbackTarget, pinOf, rollbackMessage, targetReference } from "../core/release";
import { describeChanges, loadHistory, manifestPresent, requireConsent } from "../core/steps";

const HELP = `Usage: released-service rollback --to <update | version> [--stack S] [--yes]
                                 [--with-config] [--no-hold] [--reason TEXT]

Pins an earlier update's version and exact digest in the stack config
(stacks/Pulumi.<stack>.yaml), after checking that <image>@<digest> is still in
the registry, runs pulumi preview --diff, asks, then runs pulumi up with the
message "rollback to #N (version, digest)". When the digest is gone from the
registry it refuses and changes nothing; when the preview fails or the answer
is no, the config is put back as it was. Commit the stack config file
afterwards.

It also sets a hold, released-service:hold in the stack config: the held
digest, who, when and why. While it is set, any update that would run another
digest fails in preview, so a pipeline redeploying the bad release cannot undo
the rollback. Lift it with released-service release-hold.

  --to 12, --to #12   update 12 of the stack's history
  --to v2.4.1         the newest successful update that ran v2.4.1
  --to version=1234   a version that is all digits

Options:
      --to <target>   required: the update number or version to return to
      --with-config   also restore every plain config value of that update
                      (replicas, namespace, ...), showing the difference first;
                      secret values cannot be restored and are named
      --no-hold       set no hold (and lift one on another digest)
      --reason <text> why, for the hold (default: the rollback message)
  -y, --yes           do not ask for confirmation (required without a terminal)
${COMMON_HELP}

${EXIT_CODES}
`;

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

async function rollback(context: Context, options: RollbackOptions): Promise<number> {
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

export const rollbackCommand: Command = {
    name: "rollback",
    summary: "pin an earlier update's version and digest, hold it, pulumi up",
    help: HELP,
    options: {
        ...COMMON_OPTIONS,
        to: { type: "string" },
        yes: { type: "boolean", short: "y" },
        "with-config": { type: "boolean" },
        "no-hold": { type: "boolean" },
        reason: { type: "string" },
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
        return rollback(context, {
            stack: text(values, "stack"),
            to,
            yes: flag(values, "yes"),
            hold: !flag(values, "no-hold"),
            reason,
            withConfig: flag(values, "with-config"),
        });
    },
};
