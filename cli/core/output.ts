// Terminal output: aligned tables, colour only for a terminal without NO_COLOR, and a progress
// line on stderr for anything slow (only on a terminal, so logs and pipes stay clean).

export interface OutputStream {
    write(text: string): unknown;
    readonly isTTY?: boolean;
}

/** no-color.org: any non-empty NO_COLOR turns colour off; so does output that is not a terminal. */
export function colourEnabled(stream: OutputStream, env: NodeJS.ProcessEnv): boolean {
    return stream.isTTY === true && !env.NO_COLOR;
}

export type Paint = (text: string, style: "red" | "green" | "yellow" | "bold" | "dim") => string;

const CODES = { red: [31, 39], green: [32, 39], yellow: [33, 39], bold: [1, 22], dim: [2, 22] } as const;

export function painter(enabled: boolean): Paint {
    return (text, style) => (enabled ? `\u001b[${CODES[style][0]}m${text}\u001b[${CODES[style][1]}m` : text);
}

const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
    return text.replace(ANSI, "").length;
}

/** Left-aligned columns two spaces apart; the last column is not padded (no trailing blanks). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
    const widths = header.map((title, column) => Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column] ?? ""))));
    const line = (cells: readonly string[]): string =>
        cells
            .map((cell, column) => (column === cells.length - 1 ? cell : cell + " ".repeat(widths[column] - visibleLength(cell))))
            .join("  ")
            .trimEnd();
    return [line(header), ...rows.map(line)].join("\n") + "\n";
}

export function truncate(text: string, max: number): string {
    const oneLine = text.replace(/\s+/g, " ").trim();
    return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

export interface Progress {
    /** Replaces the progress line. */
    update(message: string): void;
    /** Clears it before real output is written. */
    done(): void;
}

/** How often a CI log hears from a phase that is still waiting. */
export const PROGRESS_EVERY_MS = 10_000;

/** Whether the environment is a CI job's: the `CI` variable every CI system sets, unless it says false. */
export function inCi(env: NodeJS.ProcessEnv): boolean {
    const value = (env.CI ?? "").trim().toLowerCase();
    return value !== "" && value !== "false" && value !== "0";
}

/**
 * Progress on `stream`. On a terminal, one line that each message replaces. In a CI job (no
 * terminal, `CI` set), a timestamped line per phase — a message that differs from the last in
 * more than the count it ends with — and, while a phase waits, the same again every 10 s with how long it has
 * waited: a job's log never goes quiet for minutes. Elsewhere (a pipe, a script's capture) nothing.
 */
export function progress(stream: OutputStream, options: { env?: NodeJS.ProcessEnv; now?: () => Date; every?: number } = {}): Progress {
    if (stream.isTTY === true) {
        let shown = false;
        return {
            update(message) {
                stream.write(`\r\u001b[2K${message}`);
                shown = true;
            },
            done() {
                if (shown) {
                    stream.write("\r\u001b[2K");
                    shown = false;
                }
            },
        };
    }
    if (!inCi(options.env ?? {})) {
        return { update: () => undefined, done: () => undefined };
    }
    const now = options.now ?? (() => new Date());
    const every = options.every ?? PROGRESS_EVERY_MS;
    const stamp = (): string => now().toISOString().slice(11, 19);
    // A count going up (`… 3/10`) is the same phase.
    const phaseOf = (message: string): string => message.replace(/\s*\d+\/\d+$/, "");
    let current: { message: string; phase: string; since: number } | undefined;
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
        clearInterval(timer);
        timer = undefined;
    };
    return {
        update(message) {
            if (current !== undefined && phaseOf(message) === current.phase) {
                current = { ...current, message };
                return;
            }
            stop();
            current = { message, phase: phaseOf(message), since: now().getTime() };
            stream.write(`[${stamp()}] ${message}\n`);
            timer = setInterval(() => {
                if (current !== undefined) {
                    stream.write(`[${stamp()}] ${current.message} (${Math.round((now().getTime() - current.since) / 1000)} s)\n`);
                }
            }, every);
            timer.unref();
        },
        done() {
            stop();
            current = undefined;
        },
    };
}
