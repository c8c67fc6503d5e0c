// `released-service verify`: are the digests a stack ran (or the references given) still in their
// registries? One manifest HEAD per reference, several at a time.

import { type CheckResult, checkReferences } from "../../components/registry/client";
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

/** What verify checks: each reference once, with the updates and services that ran it (none for references given). */
interface ToCheck {
    readonly references: DigestReference[];
    readonly updatesOf: ReadonlyMap<string, number[]>;
    readonly servicesOf: ReadonlyMap<string, string[]>;
}

/** The references given, each image once however it was named. */
function givenReferences(texts: readonly string[]): ToCheck {
    // The same image named twice (or with and without a tag) is checked once.
    const unique = new Map<string, DigestReference>();
    for (const reference of texts.map(parseDigestReference)) {
        const key = `${reference.registry}/${reference.repository}@${reference.digest}`;
        if (!unique.has(key)) {
            unique.set(key, reference);
        }
    }
    return { references: [...unique.values()], updatesOf: new Map(), servicesOf: new Map() };
}

/** The services that ran each of `references`, in the order the rows name them. */
function servicesOfReferences(rows: readonly UpdateRow[], references: ReadonlyMap<string, number[]>): Map<string, string[]> {
    const servicesOf = new Map<string, string[]>();
    for (const row of rows) {
        const text = `${row.image}@${row.digest}`;
        if (row.service !== null && references.has(text) && !(servicesOf.get(text) ?? []).includes(row.service)) {
            servicesOf.set(text, [...(servicesOf.get(text) ?? []), row.service]);
        }
    }
    return servicesOf;
}

/** The digests the stack's last updates ran; the updates that name none are noted on stderr, and a stack with none is refused. */
async function stackReferences(context: Context, options: VerifyOptions): Promise<ToCheck> {
    const { stack, rows } = await prepareHistory(context, { ...options, limit: options.last });
    const found = referencesOfRows(rows);
    for (const row of found.skipped) {
        context.stderr.write(`note: #${row.update} (${row.kind}, ${row.result}) names no image digest; not checked\n`);
    }
    if (found.references.size === 0) {
        throw new CliError(`nothing to verify: the last ${options.last} updates of stack ${stack.name} name no image digest`, ExitCode.Failure);
    }
    return {
        references: [...found.references.keys()].map(parseDigestReference),
        updatesOf: new Map(found.references),
        servicesOf: servicesOfReferences(rows, found.references),
    };
}

/** Asks each reference's registry whether it still holds it, several at a time. */
async function checkAll(context: Context, references: readonly DigestReference[]): Promise<CheckResult[]> {
    const client = await context.deps.registryClient();
    context.progress.update(`Checking ${references.length} reference${references.length === 1 ? "" : "s"}…`);
    const results = await checkReferences(client, references, VERIFY_CONCURRENCY, (done, total) =>
        context.progress.update(`Checking references… ${done}/${total}`),
    );
    context.progress.done();
    return results;
}

/** The exit code: a failure when any reference could not be checked, else not ok when any is missing. */
function verifyExitCode(results: readonly CheckResult[]): number {
    return results.some((result) => result.state === "error") ? ExitCode.Failure : results.some((result) => result.state === "missing") ? ExitCode.NotOk : ExitCode.Ok;
}

/** What `--json` prints for the results. */
function verifyReport(results: readonly CheckResult[], checked: ToCheck): VerifyReport {
    return {
        checked: results.length,
        missing: results.filter((result) => result.state === "missing").length,
        errors: results.filter((result) => result.state === "error").length,
        references: results.map((result) => ({
            reference: result.reference.text,
            digest: result.reference.digest,
            state: result.state,
            updates: checked.updatesOf.get(result.reference.text) ?? [],
            services: checked.servicesOf.get(result.reference.text) ?? [],
            error: result.error ?? null,
        })),
    };
}

/** The table of results, then the references missing, those that could not be checked, or that all are present. */
function writeResults(context: Context, results: readonly CheckResult[], updatesOf: ReadonlyMap<string, number[]>, exitCode: number): void {
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
    const missing = results.filter((result) => result.state === "missing");
    const errors = results.filter((result) => result.state === "error");
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
}

/** With `json`, `report` gets the result (writeJson prints it, by default) and no table is printed. */
export async function verify(context: Context, options: VerifyOptions, report: (result: VerifyReport) => void = (result) => writeJson(context, result)): Promise<number> {
    const checked = options.references.length > 0 ? givenReferences(options.references) : await stackReferences(context, options);
    const results = await checkAll(context, checked.references);
    const exitCode = verifyExitCode(results);
    if (options.json) {
        report(verifyReport(results, checked));
    } else {
        writeResults(context, results, checked.updatesOf, exitCode);
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
