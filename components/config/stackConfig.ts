// The stack config of the released-service project, turned into ReleasedService inputs.
// Config values arrive as text; every key is checked, and all problems are reported at once.
import type * as pulumi from "@pulumi/pulumi";

import type { ReleaseArgs } from "../release/resolve";
import type { WorkloadSettings } from "../workloads/pin";
import { CONFIG_NAMESPACE, DEFAULT_NAME, SETTINGS, type Setting, STACK_CONFIG_KEYS } from "./schema";
import { describeProblems, inputProblems } from "./validate";

/** Keys the bundled program reads as plain text; `registryPassword` it reads as a secret. */
export const PLAIN_KEYS: readonly string[] = SETTINGS.filter((s) => (s.scope === "both" || s.scope === "program") && s.type !== "secret").map((s) => s.key);

/** Every key of the namespace: the program's, the secret password, and those the component reads itself. */
export const KNOWN_KEYS: readonly string[] = STACK_CONFIG_KEYS;

export type RawStackConfig = Readonly<Record<string, string | undefined>>;

export interface StackSettings {
    readonly name: string;
    readonly args: ReleaseArgs & WorkloadSettings;
}

/** Thrown for refused stack config; its message lists every problem. */
export class StackConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(describeProblems(problems));
        this.name = "StackConfigError";
    }
}

/**
 * A config text as the type its row names: a number or a boolean where it looks like one, anything
 * else stays text for the checks to name.
 */
function typed(row: Setting, text: string | undefined): unknown {
    if (text === undefined) {
        return undefined;
    }
    switch (row.type) {
        case "integer":
            return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
        case "boolean":
            return text === "true" ? true : text === "false" ? false : text;
        case "object":
            // A structured value in the stack config file reaches the program as its JSON text.
            try {
                return JSON.parse(text) as unknown;
            } catch {
                return text;
            }
        default:
            return text;
    }
}

/** A key of the namespace that nothing reads, named with the known key it is nearest to. */
export function unknownKeyProblems(keys: readonly string[]): string[] {
    return keys
        .filter((key) => !KNOWN_KEYS.includes(key))
        .map((key) => {
            const near = nearest(key, KNOWN_KEYS);
            const hint = near === undefined ? "" : `; did you mean \`${near}\`?`;
            return `\`${key}\` is not a ${CONFIG_NAMESPACE} setting (known: ${KNOWN_KEYS.join(", ")})${hint}`;
        });
}

/** The known name a misspelt one is nearest to, when it is near enough to be what was meant. */
export function nearest(name: string, known: readonly string[]): string | undefined {
    const best = [...known].sort((a, b) => distance(name, a) - distance(name, b))[0];
    return best !== undefined && distance(name, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Edit distance, case-insensitive: how far a misspelt key is from a known one. */
function distance(a: string, b: string): number {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    let row = Array.from({ length: y.length + 1 }, (_, j) => j);
    for (let i = 1; i <= x.length; i++) {
        const next = [i];
        for (let j = 1; j <= y.length; j++) {
            next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
        }
        row = next;
    }
    return row[y.length];
}

/**
 * Checks the stack config and returns the component's name and inputs, or throws StackConfigError.
 * `keys` are all keys set in the namespace; `organization` is the stack's.
 */
export function stackSettings(
    raw: RawStackConfig,
    registryPassword?: pulumi.Input<string>,
    options: { keys?: readonly string[]; organization?: string } = {},
): StackSettings {
    const rows = SETTINGS.filter((s) => s.scope === "both");
    // Only what the stack sets: every other key keeps the component's default.
    const args = Object.fromEntries(
        rows.flatMap((row) => {
            const value = row.type === "secret" ? registryPassword : typed(row, raw[row.key]);
            return value === undefined ? [] : [[row.key, value]];
        }),
    );
    const name = raw.name ?? DEFAULT_NAME;
    const problems = [...unknownKeyProblems(options.keys ?? []), ...inputProblems({ name, ...args }, options.organization)];
    if (problems.length > 0) {
        throw new StackConfigError(problems);
    }
    // Every value has passed the check of its row, so each has the type its key requires.
    return { name, args: args as unknown as ReleaseArgs & WorkloadSettings };
}
