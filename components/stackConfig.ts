// The stack config of the released-service project, turned into ReleasedService inputs.
// Config values arrive as text; every key is checked, and all problems are reported at once.
import type * as pulumi from "@pulumi/pulumi";

import type { ReleasedServiceArgs } from "./releasedService";
import { describeProblems, inputProblems } from "./validate";

/** The config namespace: keys are `released-service:<key>`. */
export const CONFIG_NAMESPACE = "released-service";
/** The workload's name when the stack does not set `name`. */
export const DEFAULT_NAME = "app";

/** Keys read as plain text; `registryPassword` is read as a secret by the program. */
export const PLAIN_KEYS = [
    "image",
    "version",
    "digest",
    "build",
    "sourceVersion",
    "context",
    "revisionHistoryLimit",
    "promoteFrom",
    "name",
    "namespace",
    "replicas",
    "port",
    "registryUsername",
] as const;

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

function asBoolean(text: string | undefined): boolean | string | undefined {
    return text === "true" ? true : text === "false" ? false : text;
}

/** Checks the stack config and returns the component's name and inputs, or throws StackConfigError. */
export function stackSettings(raw: RawStackConfig, registryPassword?: pulumi.Input<string>): StackSettings {
    const inputs = {
        ...raw,
        name: raw.name ?? DEFAULT_NAME,
        build: asBoolean(raw.build),
        revisionHistoryLimit: asNumber(raw.revisionHistoryLimit),
        replicas: asNumber(raw.replicas),
        port: asNumber(raw.port),
        registryPassword,
    };
    const problems = inputProblems(inputs);
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
            namespace: raw.namespace,
            replicas: inputs.replicas as number | undefined,
            port: inputs.port as number | undefined,
            registryUsername: raw.registryUsername,
            registryPassword,
        },
    };
}
