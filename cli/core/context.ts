// What every command is given: the stack it acts on, the adapters (pulumi, the workload's cluster,
// the registry, the terminal), and the output streams. Real adapters are wired in cli/main.ts;
// tests pass fakes.

import type { ObjectReference } from "../../components/workloads/kubernetes/live";
import type { LiveIdentity, LiveWorkload } from "../../components/workloads/live";
import type { WorkloadRecord } from "../../components/workloads/workload";
import type { RegistryClient } from "../../components/registry/client";
import type { Asked } from "../../components/release/pin";
import type { ConfigEdit, StackConfig } from "./config";
import type { Connection } from "./connection";
import type { HistoryEntry } from "./history";
import type { Interrupts } from "./interrupt";
import type { OutputStream, Paint, Progress } from "./output";
import type { LiveWrite } from "./workloads";
import type { ServiceState } from "./services";
import type { RecordedStates } from "./state";

/** One stack, as the commands need it. The real one wraps the Automation API (cli/pulumi.ts). */
export interface ReleaseStack {
    readonly name: string;
    /** `stacks/Pulumi.<stack>.yaml`, relative to the project, for the reminder after a rollback. */
    readonly configFile: string;
    /** The render copy of the config (cli/core/rendered.ts) when `npm run up` renders this stack's manifests. */
    readonly rendered?: string;
    /** Every update, newest first. */
    history(): Promise<HistoryEntry[]>;
    /** Where the services each update recorded are read from. */
    readonly states: RecordedStates;
    /** The ReleasedServices the latest state records, by name. */
    services(): Promise<ServiceState[]>;
    /** Plain config values by full key (`released-service:version`); secret keys are left out. */
    config(): Promise<StackConfig>;
    /** Sets and removes config keys, as plain values. */
    editConfig(edit: ConfigEdit): Promise<void>;
    /** The stack config file as it is now, to put back byte for byte when an interrupted command stops. */
    saveConfig(): Promise<SavedConfig>;
    /**
     * Runs `pulumi preview --diff`, streaming its output, and reads what each ReleasedService's args
     * ask as the program evaluates now; rejects when the preview fails or `signal` aborts it.
     */
    preview(onOutput: (text: string) => void, signal?: AbortSignal): Promise<Preview>;
    /**
     * Runs `pulumi up`, streaming its output; rejects when the update fails. Every interrupt is passed
     * to pulumi once: the first cancels the update gracefully, a second ends it at once.
     */
    up(message: string, onOutput: (text: string) => void, interrupts?: Interrupts): Promise<void>;
}

/** A stack config file as it was when saved. */
export interface SavedConfig {
    /** Writes it back whole, replacing the file in one step; synchronous, so a command stopping at once can. */
    restore(): void;
}

/** How many resources a preview would create, update, delete… (`same` included), by operation. */
export type PreviewSummary = Readonly<Record<string, number>>;

/** What a preview found: its changes, and what each ReleasedService's args ask, by service (those it announced a step for). */
export interface Preview {
    readonly changes: PreviewSummary;
    readonly asked: ReadonlyMap<string, Asked>;
}

export type ManifestChecker = Pick<RegistryClient, "manifestState">;

export interface Deps {
    openStack(stack: string | undefined): Promise<ReleaseStack>;
    /** What runs live where a workload record points, reached through `connection` (cli/core/connection.ts). */
    live(record: WorkloadRecord, connection: Connection): LiveWorkload;
    /** A Kubernetes object as the cluster `connection` reaches holds it; null when there is none of that name. */
    object(object: ObjectReference, connection: Connection): Promise<unknown>;
    /** What the cluster `connection` reaches holds under an object's name: its uid, and what answered. */
    identify(object: ObjectReference, connection: Connection): Promise<LiveIdentity>;
    /** Writes a live workload where `connection` reaches: rollback --restore-first's one write per workload. */
    write(write: LiveWrite, connection: Connection): Promise<void>;
    registryClient(): Promise<ManifestChecker>;
    /** Asks on the terminal; only called when stdin is one. Rejects when `signal` aborts the question. */
    confirm(question: string, signal?: AbortSignal): Promise<boolean>;
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
    /** SIGINT and SIGTERM, as the commands that change a stack answer them (cli/core/interrupt.ts). */
    readonly interrupts: Interrupts;
}

/** Writes a `--json` answer: indented, one trailing newline. */
export function writeJson(context: Context, value: unknown): void {
    context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * `--json` of a command that changes a stack: what it prints for people, pulumi's own output
 * included, goes to stderr, and stdout carries one JSON object, the result the command reports as
 * it ends (none when it fails: the exit code and stderr say why).
 */
export async function answering<Result>(context: Context, json: boolean, body: (context: Context, report: (result: Result) => void) => Promise<number>): Promise<number> {
    if (!json) {
        return body(context, () => undefined);
    }
    let result: Result | undefined;
    const code = await body({ ...context, stdout: context.stderr }, (value) => {
        result = value;
    });
    if (result !== undefined) {
        writeJson(context, result);
    }
    return code;
}

/** `1 to update, 2 to create`, or `nothing`, from a preview's counts. */
export function describeChanges(changes: PreviewSummary): string {
    const described = Object.entries(changes)
        .filter(([op, count]) => op !== "same" && count > 0)
        .map(([op, count]) => `${count} to ${op}`)
        .join(", ");
    return described || "nothing";
}
