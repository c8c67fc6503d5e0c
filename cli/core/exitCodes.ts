// The exit codes every subcommand shares, and the error type that carries one to main.
// Scripts branch on these numbers, so they are part of the user contract (see --help).

export const ExitCode = {
    /** Everything checked is fine; the command did what was asked. */
    Ok: 0,
    /** The answer is "no": a reference is missing, pods drifted, a rollback was refused. */
    NotOk: 1,
    /** The command line is wrong: unknown flag, missing argument, no such update. */
    Usage: 2,
    /** The check could not be made: registry unreachable, pulumi or kubectl failed. */
    Failure: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the user as it stands, with the exit code it ends in. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: ExitCode,
    ) {
        super(message);
        this.name = "CliError";
    }
}

export function usageError(message: string): CliError {
    return new CliError(message, ExitCode.Usage);
}
