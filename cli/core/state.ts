// Where an update's recorded services come from: the file backend's per-update checkpoint copy,
// or `pulumi stack export --version N` on Pulumi Cloud. Parsing and matching are pure.

import { readdir, readFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { gunzipSync } from "node:zlib";
import { type HistoryEntry, updateNumbers } from "./history";
import { type ServiceState, servicesOfState } from "./services";

/** Answers the services each of the given updates recorded; an update it cannot read is left out. */
export interface RecordedStates {
    statesOf(entries: readonly HistoryEntry[], updates: readonly number[]): Promise<Map<number, ServiceState[]>>;
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
 * The state root of a file backend URL (`file://~`, `file:///abs`, `file://./rel`), or undefined
 * for any other backend. Query options such as `?no_tmp_dir=true` are not part of the path.
 */
/**
 * Where a `file://` backend keeps its state. Pulumi expands `~` to the account's home directory
 * from the user database, not $HOME, and so does this.
 */
export function fileBackendRoot(backendUrl: string, workDir: string, home: string = accountHome()): string | undefined {
    if (!backendUrl.startsWith("file://")) {
        return undefined;
    }
    const location = backendUrl.slice("file://".length).replace(/\?.*$/, "");
    if (location === "~" || location.startsWith("~/")) {
        return path.join(home, location.slice(1));
    }
    return path.resolve(workDir, location);
}

function accountHome(): string {
    try {
        return os.userInfo().homedir;
    } catch {
        return os.homedir();
    }
}

async function readMaybeGzipped(file: string): Promise<string> {
    const bytes = await readFile(file);
    // The backend gzips when PULUMI_DIY_BACKEND_GZIP is set; the magic bytes say so either way.
    return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
}

/** Reads per-update checkpoints under `<root>/.pulumi/history/<project>/<stack>/` (or the pre-project layout). */
export class FileBackendCheckpoints implements RecordedStates {
    constructor(
        private readonly root: string,
        private readonly project: string,
        private readonly stack: string,
    ) {}

    /** The history directory, or undefined when the stack has none yet. */
    async historyDir(): Promise<string | undefined> {
        const stackName = this.stack.split("/").pop() ?? this.stack;
        for (const dir of [
            path.join(this.root, ".pulumi", "history", this.project, stackName),
            path.join(this.root, ".pulumi", "history", stackName),
        ]) {
            try {
                await readdir(dir);
                return dir;
            } catch {
                // Try the next layout.
            }
        }
        return undefined;
    }

    async updateFiles(): Promise<UpdateFiles[]> {
        const dir = await this.historyDir();
        if (!dir) {
            return [];
        }
        const names = await readdir(dir);
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
            const info = JSON.parse(await readMaybeGzipped(path.join(dir, name))) as { kind: string; startTime: number; endTime: number };
            files.push({ kind: info.kind, startTime: info.startTime, endTime: info.endTime, checkpointPath: path.join(dir, checkpoint) });
        }
        return files;
    }

    async statesOf(entries: readonly HistoryEntry[], updates: readonly number[]): Promise<Map<number, ServiceState[]>> {
        const checkpoints = matchCheckpoints(entries, await this.updateFiles());
        const states = new Map<number, ServiceState[]>();
        for (const update of updates) {
            const checkpoint = checkpoints.get(update);
            if (checkpoint) {
                states.set(update, servicesOfState(JSON.parse(await readMaybeGzipped(checkpoint))));
            }
        }
        return states;
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
