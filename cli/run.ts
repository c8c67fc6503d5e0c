// The command line: parse, look the command up in the table, run it, and turn every outcome into
// an exit code. Adapters come in through `Deps`, so tests run the real parser and output.

import { parseArgs } from "node:util";
import { COMMANDS } from "./commands/index";
import { checkCount, type Command, EXIT_CODES } from "./core/command";
import type { Context, Deps } from "./core/context";
import { CliError, ExitCode, usageError } from "./core/exitCodes";
import { Interrupted, Interrupts, untilStopped } from "./core/interrupt";
import { nearest } from "../components/config/stackConfig";
import { colourEnabled, type OutputStream, painter, type Progress, progress } from "./core/output";
import { packageVersion } from "./core/version";

export interface Io {
    readonly stdout: OutputStream;
    readonly stderr: OutputStream;
    readonly stdinIsTTY: boolean;
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
    /** SIGINT and SIGTERM as they come; none come when unset. */
    readonly interrupts?: Interrupts;
    /** The progress on stderr, shared with the adapters; made here from stderr and env when unset. */
    readonly progress?: Progress;
}

const MAIN_HELP = `released-service: release history, status, rollback, drills and checks for a released-service stack.

Usage: released-service <command> [options]
       released-service --version

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(14)}${command.summary}`).join("\n")}

Run released-service <command> --help for a command's options.
Every command but verify with explicit references needs the pulumi CLI;
status, drill and up --atomic also need to reach the workload: kubectl and a
cluster, or the docker CLI for a Docker host.
Colour is used only on a terminal, and never when NO_COLOR is set.

${EXIT_CODES}
`;

/** The main help under `main`, and each command's under its name. */
export const HELP: Readonly<Record<string, string>> = { main: MAIN_HELP, ...Object.fromEntries(COMMANDS.map((command) => [command.name, command.help])) };

function lookUp(name: string): Command | undefined {
    return COMMANDS.find((command) => command.name === name);
}

function unknownCommand(name: string): CliError {
    const names = COMMANDS.map((command) => command.name);
    const near = nearest(name, names);
    return usageError(`unknown command ${JSON.stringify(name)}${near ? `; did you mean ${near}?` : ""} (commands: ${names.join(", ")})`);
}

/** node:util's messages explain `--` at length; the first sentence is what the user needs. */
function parse(command: Command, args: string[]): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
    // node:util refuses `--last -3` as an ambiguous argument; say what is wrong with the value instead.
    const countFlags = new Map<string, string>();
    for (const name of command.counts ?? []) {
        countFlags.set(`--${name}`, name);
        const short = command.options[name]?.short;
        if (short !== undefined) {
            countFlags.set(`-${short}`, name);
        }
    }
    args.forEach((arg, index) => {
        const count = countFlags.get(arg);
        const next = args[index + 1];
        if (count !== undefined && next !== undefined && /^-\d/.test(next)) {
            checkCount(count, next);
        }
    });
    try {
        return parseArgs({ args, options: command.options, allowPositionals: true, strict: true });
    } catch (error) {
        throw usageError((error as Error).message.split(/\.\s/)[0].replace(/\.$/, ""));
    }
}

/** `stream`, whose every write first ends the progress line or ticker. */
function endingProgress(stream: OutputStream, status: Progress): OutputStream {
    return {
        isTTY: stream.isTTY,
        write: (text: string) => {
            status.done();
            return stream.write(text);
        },
    };
}

export interface DepsFactory {
    (options: { cwd: string }): Deps;
}

/** Runs one command line and returns its exit code; never throws. */
export async function run(argv: readonly string[], io: Io, makeDeps: DepsFactory): Promise<number> {
    const errorPaint = painter(colourEnabled(io.stderr, io.env));
    const interrupts = io.interrupts ?? new Interrupts();
    const status = io.progress ?? progress(io.stderr, { env: io.env });
    const [first, ...rest] = argv;
    let command: Command | undefined;
    try {
        if (first === undefined || first === "--help" || first === "-h" || first === "help") {
            if (first === undefined) {
                // No command is a usage error: the help goes where errors go.
                io.stderr.write(MAIN_HELP);
                return ExitCode.Usage;
            }
            io.stdout.write((first === "help" && rest[0] !== undefined ? lookUp(rest[0])?.help : undefined) ?? MAIN_HELP);
            return ExitCode.Ok;
        }
        if (first === "--version" || first === "-V") {
            io.stdout.write(`released-service ${packageVersion()}\n`);
            return ExitCode.Ok;
        }
        command = lookUp(first);
        if (command === undefined) {
            throw unknownCommand(first);
        }
        const { values, positionals } = parse(command, rest);
        if (values.help === true) {
            io.stdout.write(command.help);
            return ExitCode.Ok;
        }
        if (!command.positionals && positionals.length > 0) {
            throw usageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
        }
        const context: Context = {
            // Output ends the progress shown before it.
            stdout: endingProgress(io.stdout, status),
            stderr: endingProgress(io.stderr, status),
            stdinIsTTY: io.stdinIsTTY,
            paint: painter(colourEnabled(io.stdout, io.env)),
            progress: status,
            deps: makeDeps({ cwd: typeof values.cwd === "string" ? values.cwd : io.cwd }),
            interrupts,
        };
        const chosen = command;
        return await untilStopped(interrupts, chosen.name, () => chosen.run(context, values, positionals));
    } catch (error) {
        status.done();
        if (error instanceof Interrupted) {
            io.stderr.write(`${errorPaint("interrupted", "yellow")} (${error.signal}): ${error.message}\n`);
            return error.exitCode;
        }
        const cliError = error instanceof CliError ? error : new CliError((error as Error).message ?? String(error), ExitCode.Failure);
        const hint = cliError.seeHelp ? ` (see released-service ${command ? `${command.name} ` : ""}--help)` : "";
        io.stderr.write(`${errorPaint("error", "red")}: ${cliError.message}${hint}\n`);
        return cliError.exitCode;
    } finally {
        status.done();
    }
}
