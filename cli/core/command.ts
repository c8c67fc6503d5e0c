// The shape of one command: its name, help, options and run. Each lives in cli/commands/<verb>.ts
// and is registered in cli/commands/index.ts; cli/run.ts only parses and dispatches.

import type { ParseArgsConfig } from "node:util";
import type { Context } from "./context";
import { usageError } from "./exitCodes";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parsed option values by long name, as node:util gives them. */
export type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

export interface Command {
    readonly name: string;
    /** One line for the list of commands in the main help. */
    readonly summary: string;
    readonly help: string;
    readonly options: Options;
    /** Options whose value is a count: `--last -3` is a bad count, not a missing value. */
    readonly counts?: readonly string[];
    /** Whether the command takes arguments besides its options. */
    readonly positionals?: boolean;
    run(context: Context, values: Values, positionals: readonly string[]): Promise<number>;
}

export const COMMON_OPTIONS = {
    stack: { type: "string", short: "s" },
    cwd: { type: "string" },
    help: { type: "boolean", short: "h" },
} as const satisfies Options;

export const COMMON_HELP = `  -s, --stack <name>  stack to read (default: the selected stack)
      --cwd <dir>     Pulumi project directory (default: the nearest directory
                      upwards with a Pulumi.yaml)
  -h, --help          show this help`;

export const EXIT_CODES = `Exit codes:
  0  done; everything checked is fine
  1  the answer is no: a reference is missing (verify), pods drifted or none
     run (status), a rollback was refused because its digest is gone, a drill
     failed, an atomic update failed and was undone, or cancelled
  2  usage error: unknown option, missing argument, no such update, version,
     service or stack; config entries the component would refuse
  3  could not check or act: registry unreachable or refusing access, pulumi
     or kubectl failed, an update failed (and, with --atomic, could not be
     undone) (verify: takes precedence over 1)`;

export function flag(values: Values, name: string): boolean {
    return values[name] === true;
}

export function text(values: Values, name: string): string | undefined {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
}

/** A count option's value: a whole number of at least 1, or undefined when not given. */
export function positiveInteger(values: Values, name: string): number | undefined {
    const value = text(values, name);
    if (value === undefined) {
        return undefined;
    }
    checkCount(name, value);
    return Number(value);
}

export function checkCount(name: string, value: string): void {
    if (!/^[1-9]\d*$/.test(value)) {
        throw usageError(`--${name} must be a whole number of at least 1 (got ${JSON.stringify(value)})`);
    }
}
