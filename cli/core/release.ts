// Choosing a release to return to from the history rows, and the config that pins it. Shared by
// rollback, drill and up --atomic, so they agree on what a target runs.

import { type StackConfig, textOf } from "./config";
import { CliError, ExitCode, usageError } from "./exitCodes";
import { configKey, type UpdateRow } from "./history";
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
