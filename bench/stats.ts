// Summaries of repeated timings: the median as the figure, min–max and the interquartile
// range as its spread. Plain functions, so the table and results.json agree by construction.

import * as os from "node:os";

export interface Summary {
    readonly runs: number;
    readonly medianMs: number;
    readonly minMs: number;
    readonly maxMs: number;
    /** First and third quartiles (linear interpolation between closest ranks). */
    readonly q1Ms: number;
    readonly q3Ms: number;
}

/** The q-quantile of ascending `sorted`, interpolating between the two closest ranks. */
export function quantile(sorted: readonly number[], q: number): number {
    if (sorted.length === 0) {
        throw new Error("quantile of no values");
    }
    const rank = (sorted.length - 1) * q;
    const low = Math.floor(rank);
    const high = Math.ceil(rank);
    return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export function summarize(timesMs: readonly number[]): Summary {
    const sorted = [...timesMs].sort((a, b) => a - b);
    return {
        runs: sorted.length,
        medianMs: quantile(sorted, 0.5),
        minMs: sorted[0],
        maxMs: sorted[sorted.length - 1],
        q1Ms: quantile(sorted, 0.25),
        q3Ms: quantile(sorted, 0.75),
    };
}

/** Rounds for results.json: figures to 0.01 ms are more than a wall clock can vouch for. */
export function round(value: number, digits = 2): number {
    const scale = 10 ** digits;
    return Math.round(value * scale) / scale;
}

/** The machine a benchmark ran on, as its results record it. */
export function machineFacts(): { node: string; cpu: string; cores: number; platform: string; memoryGiB: number } {
    return {
        node: process.version,
        cpu: os.cpus()[0]?.model ?? "unknown",
        cores: os.cpus().length,
        platform: `${os.platform()} ${os.arch()}`,
        memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    };
}
