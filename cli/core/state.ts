// Where an update's recorded services come from: the per-update checkpoint copy every DIY backend
// keeps (read through a StateBucket: cli/core/states/ has one per kind of storage), or `pulumi
// stack export --version N` on Pulumi Cloud. Parsing and matching are pure.

import { gunzipSync } from "node:zlib";
import { CliError, ExitCode } from "./exitCodes";
import { type HistoryEntry, updateNumbers } from "./history";
import { type ServiceState, servicesOfState } from "./services";

/** Answers the services each of the given updates recorded; an update it cannot read is left out. */
export interface RecordedStates {
    statesOf(entries: readonly HistoryEntry[], updates: readonly number[]): Promise<Map<number, ServiceState[]>>;
    /**
     * What an update that has not ended left on the stack's backend: its lock and the operations its
     * checkpoint lists as begun. Only a DIY backend keeps these where the command can read them;
     * without this method there is nothing to read.
     */
    unfinished?(): Promise<Unfinished>;
}

/**
 * What the backend says when another update holds the stack: a DIY backend's lock (pulumi
 * pkg/backend/diy/lock.go) or Pulumi Cloud's conflict. Either comes before the engine changes anything.
 */
export const LOCKED = /the stack is currently locked by \d+ lock\(s\)|Another update is currently in progress/;

/** A lock a DIY backend keeps on a stack while an update runs (pulumi pkg/backend/diy/lock.go). */
export interface StackLock {
    /** The object's key below the backend's root: `.pulumi/locks/organization/<project>/<stack>/<id>.json`. */
    readonly key: string;
    /** Who took it and when, as Pulumi's own locked-stack error says it: `user@host (pid N) at <time>`; undefined when unreadable. */
    readonly takenBy?: string;
}

/** An operation an update began and did not see end: the checkpoint's `pending_operations`. */
export interface PendingOperation {
    /** `creating`, `updating`, `deleting`, `reading`, `importing`. */
    readonly type: string;
    readonly urn: string;
}

/** What an update that has not ended left on the stack's backend. */
export interface Unfinished {
    /** Where the state is, for messages: never credentials. */
    readonly where: string;
    readonly locks: readonly StackLock[];
    readonly pending: readonly PendingOperation[];
}

/** A lock's record (`{"pid", "username", "hostname", "timestamp"}`) as Pulumi's error names its taker, or undefined when it is not one. */
export function lockTaker(text: string): string | undefined {
    try {
        const lock = JSON.parse(text) as { pid?: unknown; username?: unknown; hostname?: unknown; timestamp?: unknown };
        if (typeof lock.username !== "string" || typeof lock.hostname !== "string" || typeof lock.pid !== "number" || typeof lock.timestamp !== "string") {
            return undefined;
        }
        // Go marshals the time with nanoseconds; Pulumi's error prints it to the second (RFC 3339).
        return `${lock.username}@${lock.hostname} (pid ${lock.pid}) at ${lock.timestamp.replace(/\.\d+(?=Z|[+-]\d\d:\d\d$)/, "")}`;
    } catch {
        return undefined;
    }
}

/** The operations a checkpoint (`{version, checkpoint: {latest: {pending_operations}}}`) lists as begun and not ended. */
export function pendingOperationsOf(checkpoint: unknown): PendingOperation[] {
    const latest = (checkpoint as { checkpoint?: { latest?: { pending_operations?: unknown } } } | null)?.checkpoint?.latest;
    const operations = Array.isArray(latest?.pending_operations) ? (latest.pending_operations as { type?: unknown; resource?: { urn?: unknown } }[]) : [];
    return operations.map((operation) => ({ type: String(operation.type ?? "unknown"), urn: String(operation.resource?.urn ?? "(no urn)") }));
}

const plural = (count: number, one: string, many = `${one}s`): string => `${count} ${count === 1 ? one : many}`;

function pendingList(pending: readonly PendingOperation[]): string {
    return `${plural(pending.length, "pending operation")} (${pending.map((operation) => `${operation.type} ${operation.urn}`).join(", ")})`;
}

/**
 * The one line that says what an unfinished update left on stack `stack` and the one command that
 * recovers, or undefined when it left no lock. A lock cannot tell a running update from a killed
 * one (its pid may be on another machine), so the line says both and when `pulumi cancel` is safe.
 */
export function describeLock(stack: string, unfinished: Unfinished): string | undefined {
    if (unfinished.locks.length === 0) {
        return undefined;
    }
    const locks = unfinished.locks.map((lock) => (lock.takenBy === undefined ? lock.key : `${lock.key}, taken by ${lock.takenBy}`)).join("; ");
    const pending = unfinished.pending.length === 0 ? "" : ` and its checkpoint lists ${pendingList(unfinished.pending)}`;
    return (
        `stack ${stack} is locked by ${plural(unfinished.locks.length, "lock")} in ${unfinished.where}: ${locks}${pending}. ` +
        `Another update of it is running, or one was killed and left this behind: once none is running, pulumi cancel --stack ${stack} deletes the lock`
    );
}

/** The line for operations a checkpoint still lists once no lock is left (after `pulumi cancel`), or undefined when there are none. */
export function describePending(stack: string, unfinished: Unfinished): string | undefined {
    if (unfinished.pending.length === 0 || unfinished.locks.length > 0) {
        return undefined;
    }
    return (
        `The checkpoint of stack ${stack} lists ${pendingList(unfinished.pending)} from an update that did not end: ` +
        `the next pulumi up warns of it, and pulumi refresh clears it.`
    );
}

/** What the file backend wrote for one update: `<stack>-<unixnano>.history.json` and its checkpoint beside it. */
export interface UpdateFiles {
    readonly kind: string;
    /** Unix seconds, as the history file stores them. */
    readonly startTime: number;
    readonly endTime: number;
    readonly checkpointPath: string;
}

function unixSeconds(time: string | Date | undefined): number | undefined {
    if (time === undefined) {
        return undefined;
    }
    const ms = (time instanceof Date ? time : new Date(time)).getTime();
    return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * Pairs history entries with checkpoint files. The file backend writes an update's history file
 * and its checkpoint copy under one `<stack>-<unixnano>` prefix (in one call, after the update
 * ends), and `stack history` reads exactly those history files. So the checkpoint of an entry
 * is the one beside the history file with the same kind, start and end time (Unix seconds on
 * both sides). Updates that share all three (within one second) pair up in time order, as their
 * file names sort. Matching by content rather than by position stays right when an update lands
 * between reading the history and listing the directory.
 */
export function matchCheckpoints(entries: readonly HistoryEntry[], files: readonly UpdateFiles[]): Map<number, string> {
    const byKey = new Map<string, string[]>();
    // Newest first, like the entries: file names sort by their nanosecond stamp.
    const newestFirst = [...files].sort((a, b) => b.checkpointPath.localeCompare(a.checkpointPath));
    for (const file of newestFirst) {
        const key = `${file.kind}|${file.startTime}|${file.endTime}`;
        byKey.set(key, [...(byKey.get(key) ?? []), file.checkpointPath]);
    }
    const numbers = updateNumbers(entries);
    const matched = new Map<number, string>();
    entries.forEach((entry, index) => {
        const key = `${entry.kind}|${unixSeconds(entry.startTime)}|${unixSeconds(entry.endTime)}`;
        const candidates = byKey.get(key);
        const checkpoint = candidates?.shift();
        if (checkpoint) {
            matched.set(numbers[index], checkpoint);
        }
    });
    return matched;
}

/**
 * A DIY backend's storage as the reader needs it: a directory on disk, an S3 bucket, a PostgreSQL
 * table. Keys are `/`-separated paths relative to the backend's root (`.pulumi/history/…`).
 */
export interface StateBucket {
    /** Where the state lives, for messages: never credentials. */
    readonly where: string;
    /** Values that must never appear in a message (a password in the URL, a secret key). */
    readonly secrets: readonly string[];
    /** The names of the objects directly under `dir` (a key without its trailing `/`); none when there is nothing. */
    names(dir: string): Promise<string[]>;
    read(key: string): Promise<Uint8Array>;
    /** Lets go of connections; a later read opens them again. */
    close(): Promise<void>;
}

/** The text of a stored file. The backend gzips when PULUMI_DIY_BACKEND_GZIP is set; the magic bytes say so either way. */
export function storedText(bytes: Uint8Array): string {
    return Buffer.from(bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
}

/** `message` with every secret replaced, so no credential reaches the terminal. */
export function withoutSecrets(message: string, secrets: readonly string[]): string {
    return secrets.filter((secret) => secret.length > 0).reduce((text, secret) => text.split(secret).join("[credential]"), message);
}

/** Query parameters whose values are credentials (Pulumi's own list, and libpq's passwords). */
const SECRET_PARAMETERS = new Set([
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "awsaccesskeyid",
    "token",
    "access_token",
    "password",
    "sslpassword",
]);

/** The credentials a backend URL carries: its password, and the values of credential parameters. */
export function urlSecrets(backendUrl: string): string[] {
    let url: URL;
    try {
        url = new URL(backendUrl);
    } catch {
        return [];
    }
    const password = url.password ? [url.password, decodeURIComponent(url.password)] : [];
    const values = [...url.searchParams].filter(([key]) => SECRET_PARAMETERS.has(key.toLowerCase())).map(([, value]) => value);
    return [...password, ...values].filter((secret) => secret.length > 0);
}

/**
 * Reads per-update checkpoints the way every DIY backend (file, s3, postgres…) keeps them: under
 * `.pulumi/history/<project>/<stack>/` (or the pre-project layout `.pulumi/history/<stack>/`), a
 * `<stack>-<unixnano>.history.json` and its `.checkpoint.json` beside it, each maybe `.gz`.
 */
export class DiyCheckpoints implements RecordedStates {
    /** The reads in flight: the bucket's connections are let go when the last one ends, not under another. */
    private reading = 0;

    constructor(
        private readonly bucket: StateBucket,
        private readonly project: string,
        private readonly stack: string,
    ) {}

    /** Runs `read` on the bucket; once no other read of this stack is in flight, lets go of its connections. */
    private async withBucket<T>(read: () => Promise<T>): Promise<T> {
        this.reading++;
        try {
            return await read();
        } finally {
            if (--this.reading === 0) {
                await this.bucket.close();
            }
        }
    }

    /** The history directory's key, or undefined when the stack has none yet. */
    async historyDir(): Promise<string | undefined> {
        const stackName = this.stack.split("/").pop() ?? this.stack;
        for (const dir of [`.pulumi/history/${this.project}/${stackName}`, `.pulumi/history/${stackName}`]) {
            if ((await this.bucket.names(dir)).length > 0) {
                return dir;
            }
        }
        return undefined;
    }

    async updateFiles(): Promise<UpdateFiles[]> {
        const dir = await this.historyDir();
        if (!dir) {
            return [];
        }
        const names = await this.bucket.names(dir);
        const files: UpdateFiles[] = [];
        for (const name of names) {
            const match = /^(.*)\.history\.json(\.gz)?$/.exec(name);
            if (!match) {
                continue;
            }
            const checkpoint = `${match[1]}.checkpoint.json${match[2] ?? ""}`;
            if (!names.includes(checkpoint)) {
                continue;
            }
            const info = JSON.parse(storedText(await this.bucket.read(`${dir}/${name}`))) as { kind: string; startTime: number; endTime: number };
            files.push({ kind: info.kind, startTime: info.startTime, endTime: info.endTime, checkpointPath: `${dir}/${checkpoint}` });
        }
        return files;
    }

    /**
     * The stack's lock objects and its current checkpoint's pending operations. Pulumi keeps the
     * lock under `.pulumi/locks/organization/<project>/<stack>/` (a stack of the pre-project layout:
     * `.pulumi/locks/<stack>/`) and the checkpoint at `.pulumi/stacks/<project>/<stack>.json` (or
     * `.json.gz`; `.pulumi/stacks/<stack>.json`): pkg/backend/diy/lock.go and store.go.
     */
    unfinished(): Promise<Unfinished> {
        return this.withBucket(() => this.readUnfinished());
    }

    private async readUnfinished(): Promise<Unfinished> {
        const stackName = this.stack.split("/").pop() ?? this.stack;
        try {
            const locks: StackLock[] = [];
            for (const dir of [`.pulumi/locks/organization/${this.project}/${stackName}`, `.pulumi/locks/${stackName}`]) {
                // A lock is `<id>.json`; the file backend keeps a `<id>.json.attrs` of metadata beside each object.
                for (const name of (await this.bucket.names(dir)).filter((name) => name.endsWith(".json")).sort()) {
                    const key = `${dir}/${name}`;
                    // A lock deleted between the listing and the read was released: it is not left over.
                    const text = await this.bucket.read(key).then(storedText, () => undefined);
                    if (text !== undefined) {
                        locks.push({ key, takenBy: lockTaker(text) });
                    }
                }
            }
            let pending: PendingOperation[] = [];
            for (const dir of [`.pulumi/stacks/${this.project}`, ".pulumi/stacks"]) {
                const names = await this.bucket.names(dir);
                const checkpoint = [`${stackName}.json`, `${stackName}.json.gz`].find((name) => names.includes(name));
                if (checkpoint !== undefined) {
                    pending = pendingOperationsOf(JSON.parse(storedText(await this.bucket.read(`${dir}/${checkpoint}`))));
                    break;
                }
            }
            return { where: this.bucket.where, locks, pending };
        } catch (error) {
            const reason = withoutSecrets((error as Error).message ?? String(error), this.bucket.secrets);
            throw new CliError(`cannot read the locks of stack ${this.stack} from ${this.bucket.where}: ${reason}`, ExitCode.Failure);
        }
    }

    statesOf(entries: readonly HistoryEntry[], updates: readonly number[]): Promise<Map<number, ServiceState[]>> {
        return this.withBucket(() => this.readStates(entries, updates));
    }

    private async readStates(entries: readonly HistoryEntry[], updates: readonly number[]): Promise<Map<number, ServiceState[]>> {
        try {
            const checkpoints = matchCheckpoints(entries, await this.updateFiles());
            const states = new Map<number, ServiceState[]>();
            for (const update of updates) {
                const checkpoint = checkpoints.get(update);
                if (checkpoint) {
                    states.set(update, servicesOfState(JSON.parse(storedText(await this.bucket.read(checkpoint)))));
                }
            }
            return states;
        } catch (error) {
            const reason = withoutSecrets((error as Error).message ?? String(error), this.bucket.secrets);
            throw new CliError(`cannot read the recorded state of stack ${this.stack} from ${this.bucket.where}: ${reason}`, ExitCode.Failure);
        }
    }
}

/** A backend whose recorded states are not read yet: says so, naming it, rather than answering nothing. */
export class UnsupportedBackend implements RecordedStates {
    constructor(private readonly scheme: string) {}

    async statesOf(): Promise<Map<number, ServiceState[]>> {
        throw new CliError(
            `the ${this.scheme}:// state backend is not supported yet: released-service reads each update's state from file://, s3://, postgres:// and Pulumi Cloud backends`,
            ExitCode.Failure,
        );
    }
}

/** Pulumi Cloud keeps every update's state; `pulumi stack export --version N` returns it. */
export class ExportedStates implements RecordedStates {
    constructor(
        private readonly exportVersion: (update: number) => Promise<unknown>,
        private readonly onProgress: (done: number, total: number) => void = () => undefined,
        private readonly concurrency = 4,
    ) {}

    async statesOf(_entries: readonly HistoryEntry[], updates: readonly number[]): Promise<Map<number, ServiceState[]>> {
        const outputs = new Map<number, ServiceState[]>();
        const queue = [...updates];
        let done = 0;
        const worker = async (): Promise<void> => {
            for (let update = queue.shift(); update !== undefined; update = queue.shift()) {
                outputs.set(update, servicesOfState(await this.exportVersion(update)));
                this.onProgress(++done, updates.length);
            }
        };
        await Promise.all(Array.from({ length: Math.min(this.concurrency, updates.length) }, worker));
        return outputs;
    }
}
