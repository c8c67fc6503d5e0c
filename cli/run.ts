// The command line: parse, print help, dispatch to a subcommand, and turn every outcome into
// an exit code. Adapters come in through `Deps`, so tests run the real parser and output.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { type Context, DEFAULT_VERIFY_LAST, type Deps, historyCommand, rollbackCommand, statusCommand, verifyCommand } from "./commands";
import { CliError, ExitCode, usageError } from "./exitCodes";
import { colourEnabled, type OutputStream, painter, progress } from "./output";

export interface Io {
    readonly stdout: OutputStream;
    readonly stderr: OutputStream;
    readonly stdinIsTTY: boolean;
    readonly env: NodeJS.ProcessEnv;
    readonly cwd: string;
}

const EXIT_CODES = `Exit codes:
  0  done; everything checked is fine
  1  the answer is no: a reference is missing (verify), pods drifted or none
     run (status), a rollback was refused because its digest is gone, or cancelled
  2  usage error: unknown option, missing argument, no such update or version
  3  could not check or act: registry unreachable or refusing access, pulumi
     or kubectl failed (verify: takes precedence over 1)`;

const COMMON = `  -s, --stack <name>  stack to read (default: the selected stack)
      --cwd <dir>     Pulumi project directory (default: the nearest directory
                      upwards with a Pulumi.yaml)
  -h, --help          show this help`;

export const HELP: Record<string, string> = {
    main: `released-service: history, status, rollback and verify for a released-service stack.

Usage: released-service <command> [options]

Commands:
  history   one row per update, newest first: version, digest, commit, author
  status    the recorded digest against the digests the live pods run
  rollback  pin an earlier update's version and digest, then pulumi up
  verify    check that image digests are still in their registries

Run released-service <command> --help for a command's options.
history, status and rollback need the pulumi CLI; status needs kubectl and a
cluster; verify with explicit references needs only the registries.
Colour is used only on a terminal, and never when NO_COLOR is set.

${EXIT_CODES}
`,
    history: `Usage: released-service history [--stack S] [--limit N] [--json]

One row per update, newest first: update number, start time (UTC), kind,
result, version, image digest, git commit (-dirty when the tree had changes),
author, message. The digest is the pinned \`digest\` config when the update had
one, otherwise the imageDigest output that update's state recorded (the file
backend's per-update checkpoint, or pulumi stack export --version N on Pulumi
Cloud). Every page of history is read, not only the last 10 updates.

Options:
  -n, --limit <N>     show only the newest N updates
      --json          print the rows as JSON (full digests, null for unknown)
${COMMON}

${EXIT_CODES}
`,
    status: `Usage: released-service status [--stack S] [--json]

Compares the stack's recorded imageDigest output with the digest each live pod
pulled (its containers' imageID), for pods labelled
app.kubernetes.io/name=<name> in <namespace> (stack config; defaults app and
default). A pod running another digest is DRIFT: the Deployment was changed
outside Pulumi, for example by kubectl rollout undo. Uses kubectl and its
current context.

Options:
      --json          print the comparison as JSON
${COMMON}

${EXIT_CODES}
`,
    rollback: `Usage: released-service rollback --to <update | version> [--stack S] [--yes]

Pins an earlier update's version and exact digest in the stack config
(stacks/Pulumi.<stack>.yaml), after checking that <image>@<digest> is still in
the registry, then runs pulumi up with the message
"rollback to #N (version, digest)" and streams its progress. When the digest is
gone from the registry it refuses and changes nothing. Commit the stack config
file afterwards.

  --to 12, --to #12   update 12 of the stack's history
  --to v2.4.1         the newest successful update that ran v2.4.1
  --to version=1234   a version that is all digits

Options:
      --to <target>   required: the update number or version to return to
  -y, --yes           do not ask for confirmation (required without a terminal)
${COMMON}

${EXIT_CODES}
`,
    verify: `Usage: released-service verify [--stack S] [--last N] [--json] [REF...]

Checks that each repo@sha256:... reference is still in its registry, with one
manifest HEAD request per reference, several at a time. Without references it
checks every digest the stack's last N updates ran (default ${DEFAULT_VERIFY_LAST}). Credentials
come from the docker config ($DOCKER_CONFIG/config.json or
~/.docker/config.json: auths, credHelpers, credsStore), with the bearer-token
flow registries use. localhost and 127.x registries are spoken to over http,
all others over https. Missing references are listed by digest.

Options:
      --last <N>      how many of the newest updates to check (default ${DEFAULT_VERIFY_LAST})
      --json          print the results as JSON
${COMMON}

${EXIT_CODES}
`,
};

const COMMON_OPTIONS = {
    stack: { type: "string", short: "s" },
    cwd: { type: "string" },
    help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

const OPTIONS = {
    history: { ...COMMON_OPTIONS, limit: { type: "string", short: "n" }, json: { type: "boolean" } },
    status: { ...COMMON_OPTIONS, json: { type: "boolean" } },
    rollback: { ...COMMON_OPTIONS, to: { type: "string" }, yes: { type: "boolean", short: "y" } },
    verify: { ...COMMON_OPTIONS, last: { type: "string" }, json: { type: "boolean" } },
} as const satisfies Record<string, ParseArgsConfig["options"]>;

type Command = keyof typeof OPTIONS;

function isCommand(name: string): name is Command {
    return Object.prototype.hasOwnProperty.call(OPTIONS, name);
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
    if (value === undefined) {
        return undefined;
    }
    if (!/^[1-9]\d*$/.test(value)) {
        throw usageError(`--${flag} must be a whole number of at least 1 (got ${JSON.stringify(value)})`);
    }
    return Number(value);
}

/** Every flag any command takes; strict parsing admits only the command's own. */
interface Flags {
    stack?: string;
    cwd?: string;
    help?: boolean;
    limit?: string;
    json?: boolean;
    to?: string;
    yes?: boolean;
    last?: string;
}

/** The flags whose value is a count: a negative one is a bad count, not a missing value. */
const COUNT_FLAGS: Readonly<Record<string, string>> = { "--last": "last", "--limit": "limit", "-n": "limit" };

/** node:util's messages explain `--` at length; the first sentence is what the user needs. */
function parse(command: Command, args: string[]): { values: Flags; positionals: string[] } {
    // node:util refuses `--last -3` as an ambiguous argument; say what is wrong with the value instead.
    args.forEach((arg, index) => {
        const next = args[index + 1];
        if (COUNT_FLAGS[arg] !== undefined && next !== undefined && /^-\d/.test(next)) {
            positiveInteger(COUNT_FLAGS[arg], next);
        }
    });
    try {
        const { values, positionals } = parseArgs({ args, options: OPTIONS[command], allowPositionals: true, strict: true });
        return { values: values as Flags, positionals };
    } catch (error) {
        throw usageError((error as Error).message.split(/\.\s/)[0].replace(/\.$/, ""));
    }
}

export interface DepsFactory {
    (options: { cwd: string }): Deps;
}

/** Runs one command line and returns its exit code; never throws. */
export async function run(argv: readonly string[], io: Io, makeDeps: DepsFactory): Promise<number> {
    const errorPaint = painter(colourEnabled(io.stderr, io.env));
    const [first, ...rest] = argv;
    let command: Command | undefined;
    try {
        if (first === undefined || first === "--help" || first === "-h" || first === "help") {
            if (first === undefined) {
                // No command is a usage error: the help goes where errors go.
                io.stderr.write(HELP.main);
                return ExitCode.Usage;
            }
            const topic = first === "help" && rest[0] !== undefined && isCommand(rest[0]) ? rest[0] : "main";
            io.stdout.write(HELP[topic]);
            return ExitCode.Ok;
        }
        if (!isCommand(first)) {
            throw usageError(`unknown command ${JSON.stringify(first)} (commands: history, status, rollback, verify)`);
        }
        command = first;
        const { values, positionals } = parse(command, rest);
        if (values.help) {
            io.stdout.write(HELP[command]);
            return ExitCode.Ok;
        }
        if (command !== "verify" && positionals.length > 0) {
            throw usageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
        }
        const context: Context = {
            stdout: io.stdout,
            stderr: io.stderr,
            stdinIsTTY: io.stdinIsTTY,
            paint: painter(colourEnabled(io.stdout, io.env)),
            progress: progress(io.stderr),
            deps: makeDeps({ cwd: values.cwd ?? io.cwd }),
        };
        const json = values.json === true;
        switch (command) {
            case "history":
                return await historyCommand(context, { stack: values.stack, limit: positiveInteger("limit", values.limit), json });
            case "status":
                return await statusCommand(context, { stack: values.stack, json });
            case "rollback": {
                const to = values.to;
                if (!to) {
                    throw usageError("--to is required: an update number (--to 12) or a version (--to v2.4.1)");
                }
                return await rollbackCommand(context, { stack: values.stack, to, yes: values.yes === true });
            }
            case "verify":
                return await verifyCommand(context, {
                    stack: values.stack,
                    last: positiveInteger("last", values.last) ?? DEFAULT_VERIFY_LAST,
                    references: positionals,
                    json,
                });
        }
    } catch (error) {
        const cliError = error instanceof CliError ? error : new CliError((error as Error).message ?? String(error), ExitCode.Failure);
        const hint = cliError.exitCode === ExitCode.Usage ? ` (see released-service ${command ?? ""}${command ? " " : ""}--help)` : "";
        io.stderr.write(`${errorPaint("error", "red")}: ${cliError.message}${hint}\n`);
        return cliError.exitCode;
    }
}
