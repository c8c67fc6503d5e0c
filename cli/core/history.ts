// Update history as a release log: numbers, what version and digest each update ran, from
// which commit, by whom. Pure: the Automation API and the state files are read elsewhere.

import { CONFIG_NAMESPACE } from "../../components/config/schema";
import { DIGEST_PATTERN } from "./reference";

/** Every key this tool reads is in the project's config namespace: `released-service:<key>`. */
export function configKey(key: string): string {
    return `${CONFIG_NAMESPACE}:${key}`;
}

/**
 * One entry of `pulumi stack history --json` (Automation API `stack.history()`), newest first.
 * The CLI writes times as strings; the Automation API hands them over as Dates.
 */
export interface HistoryEntry {
    readonly version: number;
    readonly kind: string;
    readonly startTime: string | Date;
    readonly endTime?: string | Date;
    readonly message?: string;
    readonly result?: string;
    readonly environment?: Readonly<Record<string, string>>;
    /** Structured values carry their JSON text in `value` and the value itself in `objectValue`. */
    readonly config?: Readonly<Record<string, { readonly value?: string; readonly objectValue?: unknown; readonly secret?: boolean }>>;
}

/** What an update's state recorded as stack outputs (the history itself holds none). */
export interface RecordedOutputs {
    readonly imageDigest?: string;
    readonly imageRef?: string;
    readonly version?: string;
    /** The image the state's Deployment names: what the cluster was last told to run, even by a failed update. */
    readonly deployedImage?: string;
}

export type DigestSource = "config" | "state";

/** One row of `released-service history`, and what rollback and verify choose from. */
export interface UpdateRow {
    readonly update: number;
    readonly time: string;
    readonly kind: string;
    readonly result: string;
    readonly version: string | null;
    readonly digest: string | null;
    /** `config` when the update was pinned, `state` when read from that update's recorded outputs. */
    readonly digestSource: DigestSource | null;
    /** Repository without tag or digest. */
    readonly image: string | null;
    readonly commit: string | null;
    readonly dirty: boolean;
    readonly author: string | null;
    readonly message: string;
}

/**
 * Update numbers, in the entries' order. Pulumi Cloud numbers its updates; the file backend
 * leaves `version` at 0 for every entry (it keeps no counter), so there the number is the
 * position counted from the oldest update, which is what the Cloud would have assigned.
 */
export function updateNumbers(entries: readonly HistoryEntry[]): number[] {
    const numbered = entries.some((entry) => entry.version > 0);
    return entries.map((entry, index) => (numbered ? entry.version : entries.length - index));
}

function plainConfig(entry: HistoryEntry, key: string): string | undefined {
    const value = entry.config?.[configKey(key)];
    return value && !value.secret && value.value ? value.value : undefined;
}

function isoSeconds(time: string | Date): string {
    const date = time instanceof Date ? time : new Date(time);
    return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The pinned digest when config held one, else the digest the update's state recorded. A failed
 * update can leave the previous update's outputs in its state; when the recorded `version` output
 * is not the version the update was asked for, that digest is not this update's and stays unknown.
 */
function digestOf(entry: HistoryEntry, outputs: RecordedOutputs | undefined): { digest: string; source: DigestSource } | undefined {
    const pinned = plainConfig(entry, "digest");
    if (pinned && DIGEST_PATTERN.test(pinned)) {
        return { digest: pinned, source: "config" };
    }
    const asked = plainConfig(entry, "version");
    if (asked !== undefined && outputs?.version !== undefined && outputs.version !== asked) {
        return undefined;
    }
    if (outputs?.imageDigest && DIGEST_PATTERN.test(outputs.imageDigest)) {
        return { digest: outputs.imageDigest, source: "state" };
    }
    return undefined;
}

function repositoryOf(imageRef: string | undefined): string | undefined {
    return imageRef?.includes("@") ? imageRef.slice(0, imageRef.lastIndexOf("@")) : undefined;
}

/** Builds rows, newest first; `outputs` is keyed by update number and may lack any update. */
export function buildRows(entries: readonly HistoryEntry[], outputs: ReadonlyMap<number, RecordedOutputs> = new Map()): UpdateRow[] {
    const numbers = updateNumbers(entries);
    return entries.map((entry, index): UpdateRow => {
        const update = numbers[index];
        const recorded = outputs.get(update);
        const digest = digestOf(entry, recorded);
        const environment = entry.environment ?? {};
        return {
            update,
            time: isoSeconds(entry.startTime),
            kind: entry.kind,
            result: entry.result ?? "",
            version: plainConfig(entry, "version") ?? recorded?.version ?? null,
            digest: digest?.digest ?? null,
            digestSource: digest?.source ?? null,
            image: plainConfig(entry, "image") ?? repositoryOf(recorded?.imageRef) ?? null,
            commit: environment["git.head"] || null,
            dirty: environment["git.dirty"] === "true",
            author: environment["git.author"] || environment["git.committer"] || null,
            message: entry.message ?? "",
        };
    });
}

/** Which updates need their state read: pinned ones already carry their digest in config. */
export function updatesNeedingState(entries: readonly HistoryEntry[]): number[] {
    const numbers = updateNumbers(entries);
    return entries.flatMap((entry, index) => {
        const pinned = plainConfig(entry, "digest");
        const hasVersion = plainConfig(entry, "version") !== undefined;
        return pinned && DIGEST_PATTERN.test(pinned) && hasVersion ? [] : [numbers[index]];
    });
}

/**
 * Reads every page. `pulumi stack history` returns 10 entries unless asked for a page size, and
 * rollback must be able to reach update #1.
 */
export async function readAllPages<T>(fetchPage: (pageSize: number, page: number) => Promise<T[]>, pageSize = 100): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1; ; page++) {
        const entries = await fetchPage(pageSize, page);
        all.push(...entries);
        if (entries.length < pageSize) {
            return all;
        }
    }
}
