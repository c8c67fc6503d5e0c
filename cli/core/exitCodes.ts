// The exit codes every subcommand shares, and the error type that carries one to main.
// Scripts branch on these numbers, so they are part of the user contract (see --help).

// 130 and 143 are the shells' 128 + signal number, for SIGINT (Ctrl-C) and SIGTERM.
export const ExitCode = { Ok: 0, NotOk: 1, Usage: 2, Failure: 3, Interrupted: 130, Terminated: 143 } as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means: the one text the help and docs/command.md both show. */
export const EXIT_MEANINGS: readonly (readonly [ExitCode, string])[] = [
    [ExitCode.Ok, "done; everything checked is fine"],
    [
        ExitCode.NotOk,
        "the answer is no: a reference is missing (verify), instances drifted or none run, or a lock is left on the stack (status), a rollback was refused because its " +
            "digest is gone, a drill failed, an up --atomic failed and was undone, or cancelled",
    ],
    [ExitCode.Usage, "usage error: unknown option, missing argument, no such update, version, service or stack; config entries the component would refuse"],
    [
        ExitCode.Failure,
        "could not check or act: a registry unreachable or refusing access, pulumi, kubectl or docker failed, the cluster reached is not the stack's, pulumi up failed (with " +
            "--atomic: before the workload changed, or the undo failed too), another update holds the stack or left its lock; for verify it takes precedence over 1",
    ],
    [ExitCode.Interrupted, "interrupted by SIGINT (Ctrl-C); its last line says what it left"],
    [ExitCode.Terminated, "interrupted by SIGTERM; its last line says what it left"],
];

/**
 * An error whose message is meant for the user as it stands, with the exit code it ends in. A usage
 * error points at the command's --help, unless its message already names what to run.
 */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: ExitCode,
        readonly seeHelp = exitCode === ExitCode.Usage,
    ) {
        super(message);
        this.name = "CliError";
    }
}

export function usageError(message: string): CliError {
    return new CliError(message, ExitCode.Usage);
}
