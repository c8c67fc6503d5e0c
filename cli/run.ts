// The command line: parse, print help, dispatch to a subcommand, and turn every outcome into
// an exit code. Adapters come in through `Deps`, so tests run the real parser and output.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { type Context, DEFAULT_VERIFY_LAST, type Deps, historyCommand, statusCommand, verifyCommand } from "./commands";
import { DEFAULT_DRILL_TIMEOUT_SECONDS, drillCommand } from "./drill";
import { CliError, ExitCode, usageError } from "./exitCodes";
import { releaseHoldCommand } from "./hold";
import { rollbackCommand } from "./rollback";
import { upCommand } from "./up";
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
     run (status), a rollback was refused because its digest is gone, a drill
     failed, an atomic update failed and was undone, or cancelled
  2  usage error: unknown option, missing argument, no such update or version
  3  could not check or act: registry unreachable or refusing access, pulumi
     or kubectl failed, an update failed (and, with --atomic, could not be
     undone) (verify: takes precedence over 1)`;

const COMMON = `  -s, --stack <name>  stack to read (default: the selected stack)
      --cwd <dir>     Pulumi project directory (default: the nearest directory
                      upwards with a Pulumi.yaml)
  -h, --help          show this help`;

export const HELP: Record<string, string> = {
    main: `released-service: release history, status, rollback, drills and checks for a released-service stack.

Usage: released-service <command> [options]

Commands:
  history       one row per update, newest first: version, digest, commit, author
  status        the recorded digest against the digests the live pods run
  rollback      pin an earlier update's version and digest, hold it, pulumi up
  release-hold  lift the hold a rollback left
  up            preview, then update; --atomic undoes a failed rollout
  drill         rehearse a rollback and a roll forward, and time them
  verify        check that image digests are still in their registries

Run released-service <command> --help for a command's options.
Every command but verify with explicit references needs the pulumi CLI;
status, drill and up --atomic also need kubectl and a cluster.
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
                                 [--with-config] [--no-hold] [--reason TEXT]

Pins an earlier update's version and exact digest in the stack config
(stacks/Pulumi.<stack>.yaml), after checking that <image>@<digest> is still in
the registry, runs pulumi preview --diff, asks, then runs pulumi up with the
message "rollback to #N (version, digest)". When the digest is gone from the
registry it refuses and changes nothing; when the preview fails or the answer
is no, the config is put back as it was. Commit the stack config file
afterwards.

It also sets a hold, released-service:hold in the stack config: the held
digest, who, when and why. While it is set, any update that would run another
digest fails in preview, so a pipeline redeploying the bad release cannot undo
the rollback. Lift it with released-service release-hold.

  --to 12, --to #12   update 12 of the stack's history
  --to v2.4.1         the newest successful update that ran v2.4.1
  --to version=1234   a version that is all digits

Options:
      --to <target>   required: the update number or version to return to
      --with-config   also restore every plain config value of that update
                      (replicas, namespace, ...), showing the difference first;
                      secret values cannot be restored and are named
      --no-hold       set no hold (and lift one on another digest)
      --reason <text> why, for the hold (default: the rollback message)
  -y, --yes           do not ask for confirmation (required without a terminal)
${COMMON}

${EXIT_CODES}
`,
    "release-hold": `Usage: released-service release-hold [--stack S]

Removes the hold a rollback set (released-service:hold in the stack config), so
updates may run another digest again. Runs no update. Commit the stack config
file afterwards.

Options:
${COMMON}

${EXIT_CODES}
`,
    up: `Usage: released-service up [--stack S] [--atomic] [--yes]

Runs pulumi preview, shows what would change, asks, then runs pulumi up.

With --atomic, an update that fails after the Deployment changed (its pods never
became ready within the rollout deadline, progressDeadlineSeconds, or anything
else failed after that) is undone: another update pins the version and digest
of the last successful update, waits until every pod runs that digest, and the
command exits 1, naming both updates. An update that failed before the
Deployment changed needs no undo and exits 3.

Options:
      --atomic        undo a failed update (see above)
  -y, --yes           do not ask for confirmation (required without a terminal)
${COMMON}

${EXIT_CODES}
`,
    drill: `Usage: released-service drill [--stack S] [--to <update | version>] [--yes]
                              [--json] [--timeout SECONDS]

Rehearses a rollback on a non-production stack: rolls back to the previous
successful release with another digest (or the one --to names), waits until
every pod runs that exact digest, rolls forward to the release it started
from, waits again, and reports each phase's wall time (split into the config
edit, pulumi up and the pods settling) and digests. The roll forward runs even
when the rollback failed. The stack config ends as it began. Exit 0 only when
both directions landed on their exact digests.

--json prints {stack, from: {version, digest}, to: {update, version, digest},
phases: [{phase, version, digest, result, seconds, configSeconds,
updateSeconds, podsSeconds, error}], passed}; progress goes to stderr.

Options:
      --to <target>   the update number or version to roll back to
      --timeout <s>   how long the pods get to land, per phase (default ${DEFAULT_DRILL_TIMEOUT_SECONDS})
      --json          print the report as JSON
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
    rollback: {
        ...COMMON_OPTIONS,
        to: { type: "string" },
        yes: { type: "boolean", short: "y" },
        "with-config": { type: "boolean" },
        "no-hold": { type: "boolean" },
        reason: { type: "string" },
    },
    "release-hold": { ...COMMON_OPTIONS },
    up: { ...COMMON_OPTIONS, atomic: { type: "boolean" }, yes: { type: "boolean", short: "y" } },
    drill: { ...COMMON_OPTIONS, to: { type: "string" }, yes: { type: "boolean", short: "y" }, json: { type: "boolean" }, timeout: { type: "string" } },
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
    "with-config"?: boolean;
    "no-hold"?: boolean;
    reason?: string;
    atomic?: boolean;
    timeout?: string;
}

/** The flags whose value is a count: a negative one is a bad count, not a missing value. */
const COUNT_FLAGS: Readonly<Record<string, string>> = { "--last": "last", "--limit": "limit", "-n": "limit", "--timeout": "timeout" };

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
            throw usageError(`unknown command ${JSON.stringify(first)} (commands: ${Object.keys(OPTIONS).join(", ")})`);
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
                if (values.reason !== undefined && values["no-hold"]) {
                    throw usageError("--reason is recorded in the hold, and --no-hold sets none: pass one or the other");
                }
                return await rollbackCommand(context, {
                    stack: values.stack,
                    to,
                    yes: values.yes === true,
                    hold: values["no-hold"] !== true,
                    reason: values.reason,
                    withConfig: values["with-config"] === true,
                });
            }
            case "release-hold":
                return await releaseHoldCommand(context, { stack: values.stack });
            case "up":
                return await upCommand(context, { stack: values.stack, atomic: values.atomic === true, yes: values.yes === true });
            case "drill":
                return await drillCommand(context, {
                    stack: values.stack,
                    to: values.to,
                    yes: values.yes === true,
                    json,
                    timeoutSeconds: positiveInteger("timeout", values.timeout) ?? DEFAULT_DRILL_TIMEOUT_SECONDS,
                });
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
