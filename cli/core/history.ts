// Update history as a release log: numbers, what version and digest each update ran, from
// which commit, by whom. Pure: the Automation API and the state files are read elsewhere.

import { parseImageReference } from "../../components/registry/reference";
import { DIGEST_PATTERN } from "./reference";
import { type Pin, pinIn, PINS_KEY, type ServiceState } from "./services";

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

export type DigestSource = "config" | "state";

/** One row of `released-service history`, and what rollback and verify choose from. */
export interface UpdateRow {
    readonly update: number;
    /** The ReleasedService this row is about, by resource name; null when the update's state named none. */
    readonly service: string | null;
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

/** A service's pin in the config an update ran with. */
export function pinned(entry: HistoryEntry, service: string): Pin | undefined {
    const value = entry.config?.[PINS_KEY];
    if (!value || value.secret) {
        return undefined;
    }
    let pins: unknown = value.objectValue;
    if (pins === undefined && value.value !== undefined) {
        try {
            pins = JSON.parse(value.value);
        } catch {
            return undefined;
        }
    }
    return pinIn(pins, service);
}

function isoSeconds(time: string | Date): string {
    const date = time instanceof Date ? time : new Date(time);
    return Number.isNaN(date.getTime()) ? String(time) : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** What an update asked a service to run: its pin in the config the update ran with, else what its args asked (the component's recorded input). */
function asked(entry: HistoryEntry, service: string | null, recorded: ServiceState | undefined): { version?: string; digest?: string } {
    const pin = service === null ? undefined : pinned(entry, service);
    return { version: pin?.version ?? recorded?.asked?.version, digest: pin?.digest ?? recorded?.asked?.digest };
}

/**
 * The pinned digest when config held one, else the digest the update's state recorded. A failed
 * update can leave the previous update's outputs in its state; when the recorded version is not
 * the version the update was asked for, that digest is not this update's and stays unknown.
 */
function digestOf(wanted: { version?: string; digest?: string }, recorded: ServiceState | undefined): { digest: string; source: DigestSource } | undefined {
    if (wanted.digest && DIGEST_PATTERN.test(wanted.digest)) {
        return { digest: wanted.digest, source: "config" };
    }
    if (wanted.version !== undefined && recorded?.version !== undefined && recorded.version !== wanted.version) {
        return undefined;
    }
    if (recorded?.imageDigest && DIGEST_PATTERN.test(recorded.imageDigest)) {
        return { digest: recorded.imageDigest, source: "state" };
    }
    return undefined;
}

/** The repository of `<repository>@sha256:…`. */
export function repositoryOf(imageRef: string | undefined): string | undefined {
    const reference = imageRef === undefined ? undefined : parseImageReference(imageRef);
    return reference?.digest === undefined ? undefined : reference.repository;
}

/**
 * Builds rows, newest first: one per service an update's state recorded (by name), or a single row
 * with no service when none is known. `states` is keyed by update number and may lack any update.
 */
export function buildRows(entries: readonly HistoryEntry[], states: ReadonlyMap<number, readonly ServiceState[]> = new Map()): UpdateRow[] {
    const numbers = updateNumbers(entries);
    return entries.flatMap((entry, index): UpdateRow[] => {
        const update = numbers[index];
        const recorded = states.get(update) ?? [];
        const environment = entry.environment ?? {};
        const names: (string | null)[] = recorded.length > 0 ? recorded.map((service) => service.name) : [null];
        return names.map((service) => {
            const state = recorded.find((candidate) => candidate.name === service);
            const wanted = asked(entry, service, state);
            const digest = digestOf(wanted, state);
            return {
                update,
                service,
                time: isoSeconds(entry.startTime),
                kind: entry.kind,
                result: entry.result ?? "",
                version: wanted.version ?? state?.version ?? null,
                digest: digest?.digest ?? null,
                digestSource: digest?.source ?? null,
                image: repositoryOf(state?.imageRef) ?? null,
                commit: environment["git.head"] || null,
                dirty: environment["git.dirty"] === "true",
                author: environment["git.author"] || environment["git.committer"] || null,
                message: entry.message ?? "",
            };
        });
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
