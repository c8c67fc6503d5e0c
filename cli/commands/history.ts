// `released-service history`: one row per update, newest first, as a release log.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES_POINTER, flag, positiveInteger, text } from "../core/command";
import { type Context, writeJson } from "../core/context";
import { ExitCode } from "../core/exitCodes";
import type { UpdateRow } from "../core/history";
import { type Paint, renderTable, truncate } from "../core/output";
import { shortDigest } from "../core/reference";
import { prepareHistory } from "../core/prepare";
import { serviceNames } from "../core/release";

const HELP = `Usage: released-service history [--stack S] [--service NAME] [--limit N] [--json]

One row per update and service, newest first: update number, start time (UTC),
kind, result, service (when the stack has several), version, image digest, git
commit (-dirty when the tree had changes), author, message. Services are the
ReleasedServices that update's state recorded, found by type whatever the
program. The digest is the service's pin (released-service:pins) when the
update had one, otherwise the imageDigest output the service registered in
that update's state (the file backend's per-update checkpoint, or pulumi stack
export --version N on Pulumi Cloud). Every page of history is read, not only
the last 10 updates.

--json prints one object per row: {update, service, time, kind, result,
version, digest, digestSource: "config"|"state"|null, image, commit, dirty,
author, message}, full digests, null for unknown.

Options:
      --service <name> only this service
  -n, --limit <N>     show only the newest N updates
      --json          print the rows as JSON (full digests, null for unknown)
${COMMON_HELP}

${EXIT_CODES_POINTER}
`;

function commitText(row: UpdateRow): string {
    return row.commit ? `${row.commit.slice(0, 7)}${row.dirty ? "-dirty" : ""}` : "-";
}

/** The table; a SERVICE column only when the rows name more than one service. */
export function renderHistory(rows: readonly UpdateRow[], paint: Paint): string {
    const result = (text: string): string => (text === "succeeded" ? paint(text, "green") : text === "failed" ? paint(text, "red") : text);
    const named = serviceNames(rows).length > 1;
    return renderTable(
        ["UPDATE", "TIME", "KIND", "RESULT", ...(named ? ["SERVICE"] : []), "VERSION", "DIGEST", "COMMIT", "AUTHOR", "MESSAGE"],
        rows.map((row) => [
            `#${row.update}`,
            row.time,
            row.kind,
            result(row.result),
            ...(named ? [row.service ?? "-"] : []),
            row.version ?? "-",
            row.digest ? shortDigest(row.digest) : "-",
            commitText(row),
            row.author ?? "-",
            truncate(row.message, 60),
        ]),
    );
}

export interface HistoryOptions {
    readonly stack?: string;
    readonly service?: string;
    readonly limit?: number;
    readonly json: boolean;
}

/** With `json`, `report` gets the rows (writeJson prints them, by default) and no table is printed. */
export async function history(context: Context, options: HistoryOptions, report: (rows: UpdateRow[]) => void = (rows) => writeJson(context, rows)): Promise<number> {
    const { stack, rows } = await prepareHistory(context, options);
    if (options.json) {
        report(rows);
    } else if (rows.length === 0) {
        context.stdout.write(`Stack ${stack.name} has no updates yet.\n`);
    } else {
        context.stdout.write(renderHistory(rows, context.paint));
    }
    return ExitCode.Ok;
}

export const historyCommand: Command = {
    name: "history",
    summary: "one row per update and service, newest first: version, digest, commit",
    help: HELP,
    options: { ...COMMON_OPTIONS, service: { type: "string" }, limit: { type: "string", short: "n" }, json: { type: "boolean" } },
    counts: ["limit"],
    run: (context, values) =>
        history(context, { stack: text(values, "stack"), service: text(values, "service"), limit: positiveInteger(values, "limit"), json: flag(values, "json") }),
};
