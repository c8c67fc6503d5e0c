// `released-service verify`: are the digests a stack ran (or the references given) still in their
// registries? One manifest HEAD per reference, several at a time.

import { checkReferences } from "../../components/registry/client";
import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES_POINTER, flag, positiveInteger, text } from "../core/command";
import { type Context, writeJson } from "../core/context";
import { CliError, ExitCode } from "../core/exitCodes";
import type { UpdateRow } from "../core/history";
import { renderTable } from "../core/output";
import { type DigestReference, parseDigestReference } from "../core/reference";
import { prepareHistory } from "../core/prepare";

export const DEFAULT_VERIFY_LAST = 10;
export const VERIFY_CONCURRENCY = 8;

const HELP = `Usage: released-service verify [--stack S] [--service NAME] [--last N] [--json] [REF...]

Checks that each repo@sha256:... reference is still in its registry, with one
manifest HEAD request per reference, several at a time. Without references it
checks every digest the stack's last N updates ran, for every service (or the
one --service names; default ${DEFAULT_VERIFY_LAST} updates). Credentials
come from the docker config ($DOCKER_CONFIG/config.json or
~/.docker/config.json: auths, credHelpers, credsStore), with the bearer-token
flow registries use. localhost and 127.x registries are spoken to over http,
all others over https. Missing references are listed by digest.

Options:
      --service <name> only the digests this service ran
      --last <N>      how many of the newest updates to check (default ${DEFAULT_VERIFY_LAST})
      --json          print {checked, missing, errors, references: [{reference,
                      digest, state, updates, services, error}]}
${COMMON_HELP}

${EXIT_CODES_POINTER}
`;

/** The references the last `last` updates ran, each once, with the updates that ran it. */
export function referencesOfRows(rows: readonly UpdateRow[]): { references: Map<string, number[]>; skipped: UpdateRow[] } {
    const references = new Map<string, number[]>();
    const skipped: UpdateRow[] = [];
    for (const row of rows) {
        if (!row.digest || !row.image) {
            // A destroy or refresh, or an update whose state could not be read, names no image.
            skipped.push(row);
            continue;
        }
        const text = `${row.image}@${row.digest}`;
        references.set(text, [...(references.get(text) ?? []), row.update]);
    }
    return { references, skipped };
}

/** What `--json` prints. */
export interface VerifyReport {
    readonly checked: number;
    readonly missing: number;
    readonly errors: number;
    readonly references: {
        readonly reference: string;
        readonly digest: string;
        readonly state: string;
        readonly updates: number[];
        readonly services: string[];
        readonly error: string | null;
    }[];
}

export interface VerifyOptions {
    readonly stack?: string;
    readonly service?: string;
    readonly last: number;
    readonly references: readonly string[];
    readonly json: boolean;
}

/** With `json`, `report` gets the result (writeJson prints it, by default) and no table is printed. */
export async function verify(context: Context, options: VerifyOptions, report: (result: VerifyReport) => void = (result) => writeJson(context, result)): Promise<number> {
    let references: DigestReference[];
    const updatesOf = new Map<string, number[]>();
    const servicesOf = new Map<string, string[]>();
    if (options.references.length > 0) {
        // The same image named twice (or with and without a tag) is checked once.
        const unique = new Map<string, DigestReference>();
        for (const reference of options.references.map(parseDigestReference)) {
            const key = `${reference.registry}/${reference.repository}@${reference.digest}`;
            if (!unique.has(key)) {
                unique.set(key, reference);
            }
        }
        references = [...unique.values()];
    } else {
        const { stack, rows } = await prepareHistory(context, { ...options, limit: options.last });
        const found = referencesOfRows(rows);
        for (const row of found.skipped) {
            context.stderr.write(`note: #${row.update} (${row.kind}, ${row.result}) names no image digest; not checked\n`);
        }
        if (found.references.size === 0) {
            throw new CliError(`nothing to verify: the last ${options.last} updates of stack ${stack.name} name no image digest`, ExitCode.Failure);
        }
        references = [...found.references.keys()].map(parseDigestReference);
        found.references.forEach((updates, text) => updatesOf.set(text, updates));
        for (const row of rows) {
            const text = `${row.image}@${row.digest}`;
            if (row.service !== null && found.references.has(text) && !(servicesOf.get(text) ?? []).includes(row.service)) {
                servicesOf.set(text, [...(servicesOf.get(text) ?? []), row.service]);
            }
        }
    }
    const client = await context.deps.registryClient();
    context.progress.update(`Checking ${references.length} reference${references.length === 1 ? "" : "s"}…`);
    const results = await checkReferences(client, references, VERIFY_CONCURRENCY, (done, total) =>
        context.progress.update(`Checking references… ${done}/${total}`),
    );
    context.progress.done();
    const missing = results.filter((result) => result.state === "missing");
    const errors = results.filter((result) => result.state === "error");
    const exitCode = errors.length > 0 ? ExitCode.Failure : missing.length > 0 ? ExitCode.NotOk : ExitCode.Ok;
    if (options.json) {
        report({
            checked: results.length,
            missing: missing.length,
            errors: errors.length,
            references: results.map((result) => ({
                reference: result.reference.text,
                digest: result.reference.digest,
                state: result.state,
                updates: updatesOf.get(result.reference.text) ?? [],
                services: servicesOf.get(result.reference.text) ?? [],
                error: result.error ?? null,
            })),
        });
        return exitCode;
    }
    const { paint } = context;
    const stateText = (state: string): string => (state === "present" ? paint(state, "green") : state === "missing" ? paint("MISSING", "red") : paint("ERROR", "yellow"));
    const withUpdates = updatesOf.size > 0;
    context.stdout.write(
        renderTable(
            [...(withUpdates ? ["UPDATES"] : []), "STATE", "REFERENCE"],
            results.map((result) => [
                ...(withUpdates ? [(updatesOf.get(result.reference.text) ?? []).map((update) => `#${update}`).join(",")] : []),
                stateText(result.state),
                result.reference.text,
            ]),
        ),
    );
    if (missing.length > 0) {
        context.stdout.write(`\n${missing.length} of ${results.length} references are missing from their registry:\n`);
        for (const result of missing) {
            context.stdout.write(`  ${result.reference.digest}  ${result.reference.registry}/${result.reference.repository}\n`);
        }
    }
    if (errors.length > 0) {
        context.stdout.write(`\n${errors.length} of ${results.length} references could not be checked:\n`);
        for (const result of errors) {
            context.stdout.write(`  ${result.reference.text}: ${result.error}\n`);
        }
    }
    if (exitCode === ExitCode.Ok) {
        context.stdout.write(results.length === 1 ? "\nThe reference is present.\n" : `\nAll ${results.length} references are present.\n`);
    }
    return exitCode;
}

export const verifyCommand: Command = {
    name: "verify",
    summary: "check that image digests are still in their registries",
    help: HELP,
    options: { ...COMMON_OPTIONS, service: { type: "string" }, last: { type: "string" }, json: { type: "boolean" } },
    counts: ["last"],
    positionals: true,
    run: (context, values, positionals) =>
        verify(context, {
            stack: text(values, "stack"),
            service: text(values, "service"),
            last: positiveInteger(values, "last") ?? DEFAULT_VERIFY_LAST,
            references: positionals,
            json: flag(values, "json"),
        }),
};
