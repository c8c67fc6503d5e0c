// The library API, `released-service/api`: the command's verbs as typed functions, for a team's own
// tooling (a chat bot that rolls back, a release portal, a nightly drill in CI). Each runs the very
// code the command runs, on the same adapters, and resolves to the object the command's --json
// prints. A verb that cannot do what it is asked rejects with a ReleasedServiceError carrying the
// command's exit code; an AbortSignal stops a call as Ctrl-C stops the command.

import { drill as drillVerb, DEFAULT_DRILL_TIMEOUT_SECONDS, type DrillReport } from "./commands/drill";
import { history as historyVerb } from "./commands/history";
import { releaseHold as releaseHoldVerb, type ReleaseHoldResult } from "./commands/releaseHold";
import { rollback as rollbackVerb, type RollbackResult } from "./commands/rollback";
import { status as statusVerb, type StatusReport } from "./commands/status";
import { up as upVerb, type UpResult } from "./commands/up";
import { DEFAULT_VERIFY_LAST, verify as verifyVerb, type VerifyReport } from "./commands/verify";
import type { Context, Deps } from "./core/context";
import { CliError, EXIT_MEANINGS, ExitCode } from "./core/exitCodes";
import type { UpdateRow } from "./core/history";
import { Interrupts, untilStopped } from "./core/interrupt";
import { painter, type Progress } from "./core/output";
import { realDeps } from "./core/realDeps";

export type { DrillReport, ReleaseHoldResult, RollbackResult, StatusReport, UpdateRow, UpResult, VerifyReport };

/** What every call takes. */
export interface CallOptions {
    /** The stack (as `pulumi stack select` names it); the project's selected stack when unset. */
    readonly stack?: string;
    /** The Pulumi project's directory, or one below it; the process's working directory when unset. */
    readonly cwd?: string;
    /**
     * Stops the call as the command's Ctrl-C does: before pulumi up, the stack config is put back as
     * it was; during it, pulumi is cancelled once, gracefully (its lock let go). The call then
     * rejects with exit code 130 and a message that says what was left.
     */
    readonly signal?: AbortSignal;
    /** Each progress message (opening the stack, waiting for instances), as a terminal shows it. */
    readonly onProgress?: (message: string) => void;
    /** What the command prints for people, pulumi's own output included; dropped when unset. */
    readonly onOutput?: (text: string) => void;
}

/** A call that could not do what it was asked: the command's message and exit code. */
export class ReleasedServiceError extends Error {
    /** What the command's exit code means (the table in `released-service --help`). */
    readonly meaning: string;

    constructor(
        message: string,
        /** 1: the answer is no; 2: a wrong argument; 3: could not check or act; 130: stopped by the signal. */
        readonly exitCode: number,
    ) {
        super(message);
        this.name = "ReleasedServiceError";
        this.meaning = EXIT_MEANINGS.find(([code]) => code === exitCode)?.[1] ?? "";
    }
}

/** Refuses a count that is not a whole number of at least 1, naming its field. */
function checkCount(field: string, value: number | undefined): void {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
        throw new ReleasedServiceError(`${field} must be a whole number of at least 1 (got ${JSON.stringify(value)}); nothing was done`, ExitCode.Usage);
    }
}

/** How a call gets its adapters: the real ones, or a test's. */
export type DepsFor = (where: { cwd: string }, interrupts: Interrupts, progress: Progress) => Deps;

/**
 * Runs one verb with a context of its own and resolves to what it reported. A verb whose answer is
 * no (drift, a missing reference, a failed drill, an undone update) still reports: the object says so.
 */
async function call<Result>(
    name: string,
    options: CallOptions,
    depsFor: DepsFor,
    verb: (context: Context, report: (result: Result) => void) => Promise<number>,
): Promise<Result> {
    const interrupts = new Interrupts();
    const output = { write: (text: string) => options.onOutput?.(text) };
    const progress: Progress = { update: (message) => options.onProgress?.(message), done: () => undefined };
    const context: Context = {
        stdout: output,
        stderr: output,
        stdinIsTTY: false,
        paint: painter(false),
        progress,
        deps: depsFor({ cwd: options.cwd ?? process.cwd() }, interrupts, progress),
        interrupts,
    };
    const abort = (): void => interrupts.receive("SIGINT");
    options.signal?.addEventListener("abort", abort, { once: true });
    let result: Result | undefined;
    try {
        if (options.signal?.aborted) {
            throw new ReleasedServiceError(`released-service ${name} was aborted before it started; nothing was changed`, ExitCode.Interrupted);
        }
        const code = await untilStopped(interrupts, name, () =>
            verb(context, (reported) => {
                result = reported;
            }),
        );
        if (result === undefined) {
            throw new ReleasedServiceError(`released-service ${name} ended with exit code ${code} and reported nothing`, code);
        }
        return result;
    } catch (error) {
        if (error instanceof CliError) {
            throw new ReleasedServiceError(error.message, error.exitCode);
        }
        throw error;
    } finally {
        options.signal?.removeEventListener("abort", abort);
    }
}

/** The API's rollback: a reason without a hold, or restoreFirst with withConfig, is refused before `rollback --yes` runs. */
function rollbackCall(depsFor: DepsFor) {
    return async (
        options: CallOptions & {
            readonly to: string | number;
            readonly service?: string;
            readonly hold?: boolean;
            readonly reason?: string;
            readonly withConfig?: boolean;
            /** Write every workload first, then pin, hold and record it (`--restore-first`). */
            readonly restoreFirst?: boolean;
        },
    ): Promise<RollbackResult> => {
        if (options.reason !== undefined && options.hold === false) {
            throw new ReleasedServiceError("reason is recorded in the hold, and hold: false sets none: pass one or the other; nothing was done", ExitCode.Usage);
        }
        if (options.restoreFirst === true && options.withConfig === true) {
            throw new ReleasedServiceError(
                "restoreFirst writes the release alone to each workload, ahead of the update, and withConfig restores config that only the update applies: pass one or the other; nothing was done",
                ExitCode.Usage,
            );
        }
        return call("rollback", options, depsFor, (context, report) =>
            rollbackVerb(
                context,
                {
                    stack: options.stack,
                    to: String(options.to),
                    service: options.service,
                    yes: true,
                    hold: options.hold ?? true,
                    reason: options.reason,
                    withConfig: options.withConfig ?? false,
                    restoreFirst: options.restoreFirst ?? false,
                },
                report,
            ),
        );
    };
}

/** The API's drill: a timeoutSeconds that is not a count is refused before `drill --yes` runs. */
function drillCall(depsFor: DepsFor) {
    return async (options: CallOptions & { readonly service?: string; readonly to?: string | number; readonly timeoutSeconds?: number } = {}): Promise<DrillReport> => {
        checkCount("timeoutSeconds", options.timeoutSeconds);
        return call("drill", options, depsFor, (context, report) =>
            drillVerb(
                context,
                {
                    stack: options.stack,
                    service: options.service,
                    to: options.to === undefined ? undefined : String(options.to),
                    yes: true,
                    json: true,
                    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_DRILL_TIMEOUT_SECONDS,
                },
                report,
            ),
        );
    };
}

/** The verbs on the adapters `depsFor` gives: `createApi(realDeps)` is the package's own. */
export function createApi(depsFor: DepsFor) {
    return {
        /** One row per update and service, newest first: what `history --json` prints. */
        history: async (options: CallOptions & { readonly service?: string; readonly limit?: number } = {}): Promise<UpdateRow[]> => {
            checkCount("limit", options.limit);
            return call("history", options, depsFor, (context, report) => historyVerb(context, { ...options, json: true }, report));
        },
        /** The recorded digests against what runs live: what `status --json` prints. */
        status: (options: CallOptions & { readonly service?: string } = {}): Promise<StatusReport> =>
            call("status", options, depsFor, (context, report) => statusVerb(context, { ...options, json: true }, report)),
        /** Whether the digests the last updates ran (or `references`) are still in their registries. */
        verify: async (options: CallOptions & { readonly service?: string; readonly last?: number; readonly references?: readonly string[] } = {}): Promise<VerifyReport> => {
            checkCount("last", options.last);
            return call("verify", options, depsFor, (context, report) =>
                verifyVerb(context, { ...options, last: options.last ?? DEFAULT_VERIFY_LAST, references: options.references ?? [], json: true }, report),
            );
        },
        /** Pins, holds and runs an earlier update's releases (`to`: an update number or a version), as `rollback --yes`. */
        rollback: rollbackCall(depsFor),
        /** Rehearses a rollback and a roll forward, timed, as `drill --yes`. */
        drill: drillCall(depsFor),
        /** Lifts the holds and pins a rollback left (one service's, or all). */
        releaseHold: (options: CallOptions & { readonly service?: string } = {}): Promise<ReleaseHoldResult> =>
            call("release-hold", options, depsFor, (context, report) => releaseHoldVerb(context, options, report)),
        /** A preview, then the update, as `up --yes`; with `atomic`, a failed rollout is undone. */
        up: (options: CallOptions & { readonly atomic?: boolean; readonly service?: string } = {}): Promise<UpResult> =>
            call("up", options, depsFor, (context, report) => upVerb(context, { stack: options.stack, service: options.service, atomic: options.atomic ?? false, yes: true }, report)),
    };
}

export const { history, status, verify, rollback, drill, releaseHold, up } = createApi(realDeps);
