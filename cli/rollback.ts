// Choosing what a rollback returns to, and the message it records. Pure: rows in, decision out.

import { CliError, ExitCode, usageError } from "./exitCodes";
import type { UpdateRow } from "./history";

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
