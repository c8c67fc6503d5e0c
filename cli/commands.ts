// The shared interfaces of the subcommands (a stack, a pod lister, a registry client), so they run
// the same against Pulumi and a cluster as against recorded data in tests; history, status, verify.

import { type ConfigEdit, type StackConfig, textOf } from "./config";
import { CliError, ExitCode, usageError } from "./exitCodes";
import { buildRows, type HistoryEntry, type RecordedOutputs, type UpdateRow, updatesNeedingState } from "./history";
import { type OutputStream, type Paint, type Progress, renderTable, truncate } from "./output";
import { type DigestReference, parseDigestReference, shortDigest } from "./reference";
import { checkReferences, type RegistryClient, RegistryError } from "../components/registry/client";
import type { RecordedOutputsSource } from "./state";
import { compareStatus, type PodList } from "./status";

/** One stack, as the commands need it. The real one wraps the Automation API (cli/pulumi.ts). */
export interface ReleaseStack {
    readonly name: string;
    /** `stacks/Pulumi.<stack>.yaml`, relative to the project, for the reminder after a rollback. */
    readonly configFile: string;
    /** Every update, newest first. */
    history(): Promise<HistoryEntry[]>;
    /** Where each update's recorded outputs are read from. */
    readonly states: RecordedOutputsSource;
    /** The outputs of the latest update. */
    outputs(): Promise<RecordedOutputs>;
    /** Plain config values by full key (`released-service:version`); secret keys are left out. */
    config(): Promise<StackConfig>;
    /** Sets and removes config keys, as plain values. */
    editConfig(edit: ConfigEdit): Promise<void>;
    /** Runs `pulumi preview --diff`, streaming its output; rejects when the preview fails. */
    preview(onOutput: (text: string) => void): Promise<PreviewSummary>;
    /** Runs `pulumi up`, streaming its output; rejects when the update fails. */
    up(message: string, onOutput: (text: string) => void): Promise<void>;
}

/** How many resources a preview would create, update, delete… (`same` included), by operation. */
export type PreviewSummary = Readonly<Record<string, number>>;

export type ManifestChecker = Pick<RegistryClient, "manifestState">;

export interface Deps {
    openStack(stack: string | undefined): Promise<ReleaseStack>;
    listPods(namespace: string, selector: string): Promise<PodList>;
    registryClient(): Promise<ManifestChecker>;
    /** Asks on the terminal; only called when stdin is one. */
    confirm(question: string): Promise<boolean>;
    /** Who is acting, for the record a hold keeps: git's user, else the account's name. */
    actor(): Promise<string>;
    now(): Date;
    /** Milliseconds on a clock that only moves forward, for the time each phase takes. */
    elapsed(): number;
    sleep(ms: number): Promise<void>;
}

export interface Context {
    readonly stdout: OutputStream;
    readonly stderr: OutputStream;
    readonly stdinIsTTY: boolean;
    readonly paint: Paint;
    readonly progress: Progress;
    readonly deps: Deps;
}

export const DEFAULT_NAME = "app";
export const DEFAULT_NAMESPACE = "default";
export const DEFAULT_VERIFY_LAST = 10;
export const VERIFY_CONCURRENCY = 8;

function json(context: Context, value: unknown): void {
    context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** History rows, newest first, reading recorded state only for the rows that will be used. */
export async function loadRows(context: Context, stack: ReleaseStack, limit?: number): Promise<UpdateRow[]> {
    return (await loadHistory(context, stack, limit)).rows;
}

/** The rows, and the history entry of each by update number (for the config it ran with). */
export async function loadHistory(
    context: Context,
    stack: ReleaseStack,
    limit?: number,
): Promise<{ rows: UpdateRow[]; entries: ReadonlyMap<number, HistoryEntry> }> {
    context.progress.update(`Reading the history of stack ${stack.name}…`);
    const entries = await stack.history();
    const all = buildRows(entries);
    const shown = new Set(all.slice(0, limit).map((row) => row.update));
    const needed = updatesNeedingState(entries).filter((update) => shown.has(update));
    if (needed.length > 0) {
        context.progress.update(`Reading the recorded state of ${needed.length} update${needed.length === 1 ? "" : "s"}…`);
    }
    const outputs = await stack.states.outputsOf(entries, needed);
    context.progress.done();
    return { rows: buildRows(entries, outputs).slice(0, limit), entries: new Map(all.map((row, index) => [row.update, entries[index]])) };
}

/** Where the service's pods are: the stack's `namespace` and `name` config, or their defaults. */
export function podsOf(config: StackConfig): { namespace: string; selector: string } {
    return { namespace: textOf(config, "namespace") ?? DEFAULT_NAMESPACE, selector: `app.kubernetes.io/name=${textOf(config, "name") ?? DEFAULT_NAME}` };
}

/** Refuses to change a stack without a terminal to ask on, unless --yes says not to ask. */
export function requireConsent(context: Context, command: string, yes: boolean): void {
    if (!yes && !context.stdinIsTTY) {
        throw usageError(`${command} changes the stack: pass --yes to run it without a terminal`);
    }
}

/** `1 to update, 2 to create`, or `nothing`, from a preview's counts. */
export function describeChanges(changes: PreviewSummary): string {
    const described = Object.entries(changes)
        .filter(([op, count]) => op !== "same" && count > 0)
        .map(([op, count]) => `${count} to ${op}`)
        .join(", ");
    return described || "nothing";
}

/**
 * Whether `<image>@<digest>` can still be pulled; a refusing or unreachable registry is an error
 * that says nothing was changed.
 */
export async function manifestPresent(context: Context, reference: DigestReference): Promise<boolean> {
    context.progress.update(`Checking that ${reference.text} is still in its registry…`);
    try {
        return (await (await context.deps.registryClient()).manifestState(reference)) === "present";
    } catch (error) {
        if (error instanceof RegistryError) {
            throw new CliError(`cannot check that ${reference.text} is still pullable: ${error.message}; nothing was changed`, ExitCode.Failure);
        }
        throw error;
    } finally {
        context.progress.done();
    }
}

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

export async function historyCommand(context: Context, options: { stack?: string; limit?: number; json: boolean }): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    const rows = await loadRows(context, stack, options.limit);
    if (options.json) {
        json(context, rows);
    } else if (rows.length === 0) {
        context.stdout.write(`Stack ${stack.name} has no updates yet.\n`);
    } else {
        context.stdout.write(renderHistory(rows, context.paint));
    }
    return ExitCode.Ok;
}

export async function statusCommand(context: Context, options: { stack?: string; json: boolean }): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    context.progress.update(`Reading the outputs of stack ${stack.name}…`);
    const [outputs, config] = await Promise.all([stack.outputs(), stack.config()]);
    if (!outputs.imageDigest) {
        context.progress.done();
        throw new CliError(`stack ${stack.name} records no imageDigest output: it has not been deployed yet (run pulumi up)`, ExitCode.NotOk);
    }
    const { namespace, selector } = podsOf(config);
    context.progress.update(`Listing pods ${selector} in namespace ${namespace}…`);
    const pods = await context.deps.listPods(namespace, selector);
    context.progress.done();
    const report = compareStatus(stack.name, outputs, pods);
    const healthy = !report.drift && report.pods.length > 0;
    if (options.json) {
        json(context, { ...report, namespace, selector });
        return healthy ? ExitCode.Ok : ExitCode.NotOk;
    }
    const { paint } = context;
    context.stdout.write(`Stack ${stack.name} records ${report.recordedVersion ?? "(no version)"} ${report.recordedDigest}\n`);
    if (report.imageRef) {
        context.stdout.write(`  image ${report.imageRef}\n`);
    }
    if (report.pods.length === 0) {
        context.stdout.write(`No pods match ${selector} in namespace ${namespace}.\n`);
        return ExitCode.NotOk;
    }
    context.stdout.write(`\nPods (${selector}, namespace ${namespace}):\n`);
    const state = (text: string): string => (text === "ok" ? paint(text, "green") : text === "drift" ? paint("DRIFT", "red") : paint(text, "yellow"));
    context.stdout.write(
        renderTable(
            ["POD", "PHASE", "READY", "VERSION", "DIGEST", "STATE"],
            report.pods.map((pod) => [pod.pod, pod.phase, pod.ready ? "yes" : "no", pod.version ?? "-", pod.digest ? shortDigest(pod.digest) : "-", state(pod.state)]),
        ),
    );
    if (report.drift) {
        const drifted = report.pods.filter((pod) => pod.state === "drift");
        const digests = [...new Set(drifted.map((pod) => `${pod.digest} (version label ${pod.version ?? "none"})`))];
        context.stdout.write(
            `\n${paint("DRIFT", "red")}: ${drifted.length} of ${report.pods.length} pods run ${digests.join(", ")}, not the recorded ${report.recordedDigest}.\n` +
                "The Deployment was changed outside Pulumi (for example by kubectl rollout undo). " +
                "`pulumi up` restores the recorded digest; `released-service rollback --to <update>` records another one.\n",
        );
    }
    return healthy ? ExitCode.Ok : ExitCode.NotOk;
}

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

export async function verifyCommand(context: Context, options: { stack?: string; last: number; references: readonly string[]; json: boolean }): Promise<number> {
    let references: DigestReference[];
    const updatesOf = new Map<string, number[]>();
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
        const stack = await context.deps.openStack(options.stack);
        const rows = await loadRows(context, stack, options.last);
        const found = referencesOfRows(rows);
        for (const row of found.skipped) {
            context.stderr.write(`note: #${row.update} (${row.kind}, ${row.result}) names no image digest; not checked\n`);
        }
        if (found.references.size === 0) {
            throw new CliError(`nothing to verify: the last ${options.last} updates of stack ${stack.name} name no image digest`, ExitCode.Failure);
        }
        references = [...found.references.keys()].map(parseDigestReference);
        found.references.forEach((updates, text) => updatesOf.set(text, updates));
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
        json(context, {
            checked: results.length,
            missing: missing.length,
            errors: errors.length,
            references: results.map((result) => ({
                reference: result.reference.text,
                digest: result.reference.digest,
                state: result.state,
                updates: updatesOf.get(result.reference.text) ?? [],
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
