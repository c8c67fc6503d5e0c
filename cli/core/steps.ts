// Steps several commands take: reading the history as rows, asking before a change, and checking that a release is still pullable before anything is changed.

import { CliError, ExitCode, usageError } from "./exitCodes";
import type { Context, PreviewSummary, ReleaseStack } from "./context";
import { buildRows, type HistoryEntry, type UpdateRow, updateNumbers } from "./history";
import type { DigestReference } from "./reference";
import { RegistryError } from "../../components/registry/client";
import type { ServiceState } from "./services";

/** History rows, newest first, reading recorded state only for the rows that will be used. */
export async function loadRows(context: Context, stack: ReleaseStack, limit?: number): Promise<UpdateRow[]> {
    return (await loadHistory(context, stack, limit)).rows;
}

/** The rows, and the history entry of each by update number (for the config it ran with). */
export async function loadHistory(
    context: Context,
    stack: ReleaseStack,
    limit?: number,
): Promise<{ rows: UpdateRow[]; entries: ReadonlyMap<number, HistoryEntry>; states: ReadonlyMap<number, readonly ServiceState[]> }> {
    context.progress.update(`Reading the history of stack ${stack.name}…`);
    const entries = await stack.history();
    // Every shown update's state is read: it names the services that update ran.
    const numbers = updateNumbers(entries);
    const shown = numbers.slice(0, limit);
    if (shown.length > 0) {
        context.progress.update(`Reading the recorded state of ${shown.length} update${shown.length === 1 ? "" : "s"}…`);
    }
    const states = await stack.states.statesOf(entries, shown);
    context.progress.done();
    const rows = buildRows(entries, states).filter((row) => shown.includes(row.update));
    return { rows, entries: new Map(numbers.map((update, index) => [update, entries[index]])), states };
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
