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

export function progress(stream: OutputStream): Progress {
    if (stream.isTTY !== true) {
        return { update: () => undefined, done: () => undefined };
    }
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
