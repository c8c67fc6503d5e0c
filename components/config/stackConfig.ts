// The stack config of the released-service project, turned into ReleasedService inputs.
// Config values arrive as text; every key is checked, and all problems are reported at once.
import type * as pulumi from "@pulumi/pulumi";

import type { ReleaseHold } from "../release/plan";
import type { ReleasedServiceArgs } from "../releasedService";
import { describeProblems, inputProblems } from "./validate";

/** The config namespace: keys are `released-service:<key>`. */
export const CONFIG_NAMESPACE = "released-service";
/** The workload's name when the stack does not set `name`. */
export const DEFAULT_NAME = "app";

/**
 * Keys read as plain text; `registryPassword` is read as a secret by the program. `hold` is an
 * object in the stack config file, which the program receives as its JSON text.
 */
export const PLAIN_KEYS = [
    "image",
    "version",
    "digest",
    "build",
    "sourceVersion",
    "context",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "promoteFrom",
    "name",
    "namespace",
    "replicas",
    "port",
    "registryUsername",
    "insecureRegistry",
    "builder",
    "hold",
] as const;

/** Every key of the namespace: the plain ones and the secret password. */
export const KNOWN_KEYS: readonly string[] = [...PLAIN_KEYS, "registryPassword"];

export type RawStackConfig = Partial<Record<(typeof PLAIN_KEYS)[number], string>>;

export interface StackSettings {
    readonly name: string;
    readonly args: ReleasedServiceArgs;
}

/** Thrown for refused stack config; its message lists every problem. */
export class StackConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(describeProblems(problems));
        this.name = "StackConfigError";
    }
}

/** Text that looks like a number or a boolean becomes one; anything else stays text for the checks to name. */
function asNumber(text: string | undefined): number | string | undefined {
    return text !== undefined && /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

/** JSON text becomes the value it writes; text that is not JSON stays text for the checks to name. */
function asObject(text: string | undefined): unknown {
    try {
        return text === undefined ? undefined : JSON.parse(text);
    } catch {
        return text;
    }
}

function asBoolean(text: string | undefined): boolean | string | undefined {
    return text === "true" ? true : text === "false" ? false : text;
}

/** A key of the namespace that nothing reads, named with the known key it is nearest to. */
export function unknownKeyProblems(keys: readonly string[]): string[] {
    return keys
        .filter((key) => !KNOWN_KEYS.includes(key))
        .map((key) => {
            const nearest = [...KNOWN_KEYS].sort((a, b) => distance(key, a) - distance(key, b))[0];
            const hint = distance(key, nearest) <= Math.max(2, Math.floor(nearest.length / 3)) ? `; did you mean \`${nearest}\`?` : "";
            return `\`${key}\` is not a ${CONFIG_NAMESPACE} setting (known: ${KNOWN_KEYS.join(", ")})${hint}`;
        });
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
    const inputs = {
        ...raw,
        name: raw.name ?? DEFAULT_NAME,
        build: asBoolean(raw.build),
        insecureRegistry: asBoolean(raw.insecureRegistry),
        revisionHistoryLimit: asNumber(raw.revisionHistoryLimit),
        progressDeadlineSeconds: asNumber(raw.progressDeadlineSeconds),
        replicas: asNumber(raw.replicas),
        port: asNumber(raw.port),
        hold: asObject(raw.hold),
        registryPassword,
    };
    const problems = [...unknownKeyProblems(options.keys ?? []), ...inputProblems(inputs, options.organization)];
    if (problems.length > 0) {
        throw new StackConfigError(problems);
    }
    // Every value below has passed its check, so each has the type its key requires.
    return {
        name: inputs.name,
        args: {
            image: raw.image!,
            version: raw.version,
            digest: raw.digest,
            promoteFrom: raw.promoteFrom,
            build: inputs.build as boolean | undefined,
            sourceVersion: raw.sourceVersion,
            context: raw.context,
            revisionHistoryLimit: inputs.revisionHistoryLimit as number | undefined,
            progressDeadlineSeconds: inputs.progressDeadlineSeconds as number | undefined,
            namespace: raw.namespace,
            replicas: inputs.replicas as number | undefined,
            port: inputs.port as number | undefined,
            registryUsername: raw.registryUsername,
            registryPassword,
            insecureRegistry: inputs.insecureRegistry as boolean | undefined,
            builder: raw.builder,
            hold: inputs.hold as ReleaseHold | undefined,
        },
    };
}
