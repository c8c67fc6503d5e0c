// `released-service history`: one row per update, newest first, as a release log.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES, flag, positiveInteger, text } from "../core/command";
import { type Context, writeJson } from "../core/context";
import { ExitCode } from "../core/exitCodes";
import type { UpdateRow } from "../core/history";
import { type Paint, renderTable, truncate } from "../core/output";
import { shortDigest } from "../core/reference";
import { loadRows } from "../core/steps";

const HELP = `Usage: released-service history [--stack S] [--limit N] [--json]

One row per update, newest first: update number, start time (UTC), kind,
result, version, image digest, git commit (-dirty when the tree had changes),
author, message. The digest is the pinned \`digest\` config when the update had
one, otherwise the imageDigest output that update's state recorded (the file
backend's per-update checkpoint, or pulumi stack export --version N on Pulumi
Cloud). Every page of history is read, not only the last 10 updates.

Options:
  -n, --limit <N>     show only the newest N updates
      --json          print the rows as JSON (full digests, null for unknown)
${COMMON_HELP}

${EXIT_CODES}
`;

function commitText(row: UpdateRow): string {
    return row.commit ? `${row.commit.slice(0, 7)}${row.dirty ? "-dirty" : ""}` : "-";
}

export function renderHistory(rows: readonly UpdateRow[], paint: Paint): string {
    const result = (text: string): string => (text === "succeeded" ? paint(text, "green") : text === "failed" ? paint(text, "red") : text);
    return renderTable(
        ["UPDATE", "TIME", "KIND", "RESULT", "VERSION", "DIGEST", "COMMIT", "AUTHOR", "MESSAGE"],
        rows.map((row) => [
            `#${row.update}`,
            row.time,
            row.kind,
            result(row.result),
            row.version ?? "-",
            row.digest ? shortDigest(row.digest) : "-",
            commitText(row),
            row.author ?? "-",
            truncate(row.message, 60),
        ]),
    );
}

async function history(context: Context, options: { stack?: string; limit?: number; json: boolean }): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    const rows = await loadRows(context, stack, options.limit);
    if (options.json) {
        writeJson(context, rows);
    } else if (rows.length === 0) {
        context.stdout.write(`Stack ${stack.name} has no updates yet.\n`);
    } else {
        context.stdout.write(renderHistory(rows, context.paint));
    }
    return ExitCode.Ok;
}

export const historyCommand: Command = {
    name: "history",
    summary: "one row per update, newest first: version, digest, commit, author",
    help: HELP,
    options: { ...COMMON_OPTIONS, limit: { type: "string", short: "n" }, json: { type: "boolean" } },
    counts: ["limit"],
    run: (context, values) => history(context, { stack: text(values, "stack"), limit: positiveInteger(values, "limit"), json: flag(values, "json") }),
};
