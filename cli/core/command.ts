// The shape of one command: its name, help, options and run. Each lives in cli/commands/<verb>.ts
// and is registered in cli/commands/index.ts; cli/run.ts only parses and dispatches.

import type { ParseArgsConfig } from "node:util";
import type { Context } from "./context";
import { EXIT_MEANINGS, usageError } from "./exitCodes";

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

/** The exit codes as the main help shows them, wrapped to 78 columns. */
export const EXIT_CODES = ["Exit codes:", ...EXIT_MEANINGS.map(([code, meaning]) => `  ${code}  ${wrap(meaning, 73).join("\n     ")}`)].join("\n");

/** The last line of each command's help: the exit codes are shown once, in the main help. */
export const EXIT_CODES_POINTER = "Exit codes: released-service --help";

function wrap(text: string, width: number): string[] {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
        if (line !== "" && line.length + 1 + word.length > width) {
            lines.push(line);
            line = word;
        } else {
            line = line === "" ? word : `${line} ${word}`;
        }
    }
    return [...lines, line];
}

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

/** Refuses to change a stack without a terminal to ask on, unless --yes says not to ask. */
export function requireConsent(context: Context, command: string, yes: boolean): void {
    if (!yes && !context.stdinIsTTY) {
        throw usageError(`${command} changes the stack: pass --yes to run it without a terminal`);
    }
}
