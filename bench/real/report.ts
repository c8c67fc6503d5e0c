// What the real-engine benchmark prints, as plain functions: a pair of timings with its ratio and
// registry requests per service, and where a program's time goes from a V8 CPU profile.

/** One operation measured on both programs (or on the component's alone). */
export interface PairRow {
    readonly operation: string;
    readonly componentMs: number;
    readonly handWrittenMs?: number;
    readonly componentRequestsPerService: number;
    readonly handWrittenRequestsPerService?: number;
    /** The runs each median is taken from. */
    readonly runs: number;
}

export function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(1)} s`;
}

/** `component / hand-written`, two decimals; a dash where there is no counterpart. */
export function ratio(componentMs: number, handWrittenMs: number | undefined): string {
    return handWrittenMs === undefined ? "-" : (componentMs / handWrittenMs).toFixed(2);
}

/** Rows as a table with right-aligned columns: the operation, both medians, the ratio, requests per service. */
export function pairTable(rows: readonly PairRow[]): string[] {
    const header = ["operation", "runs", "ReleasedService", "hand-written", "ratio", "requests/svc (component / hand-written)"];
    const cells = rows.map((row) => [
        row.operation,
        String(row.runs),
        seconds(row.componentMs),
        row.handWrittenMs === undefined ? "-" : seconds(row.handWrittenMs),
        ratio(row.componentMs, row.handWrittenMs),
        `${row.componentRequestsPerService.toFixed(2)} / ${row.handWrittenRequestsPerService === undefined ? "-" : row.handWrittenRequestsPerService.toFixed(2)}`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]): string => c.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ");
    return [line(header), ...cells.map(line)];
}

/** The parts of a V8 `.cpuprofile` this summary reads. */
export interface CpuProfile {
    readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string }; readonly children?: readonly number[] }[];
    readonly startTime: number;
    readonly endTime: number;
    readonly samples: readonly number[];
    readonly timeDeltas: readonly number[];
}

/** Where a process's time went: its lifetime, and the sampled time by who was on the CPU. */
export interface ProfileSummary {
    readonly lifetimeMs: number;
    /** Milliseconds per part, largest first; `idle` is time spent waiting (for the engine, the registry). */
    readonly parts: readonly { readonly part: string; readonly ms: number }[];
}

/** Which part of a program a stack frame belongs to, from its script's URL. */
export function partOf(frame: { readonly functionName: string; readonly url: string }, packageRoot: string): string {
    const { functionName, url } = frame;
    if (functionName === "(idle)") {
        return "idle";
    }
    if (functionName === "(garbage collector)") {
        return "garbage collection";
    }
    if (url === "") {
        return functionName === "(program)" ? "V8 and native code" : "Node.js internals";
    }
    if (url.startsWith("node:")) {
        return "Node.js internals";
    }
    const file = url.replace(/^file:\/\//, "");
    for (const [marker, part] of [
        ["/node_modules/@pulumi/pulumi/", "Pulumi SDK"],
        ["/node_modules/@pulumi/kubernetes/", "Kubernetes SDK"],
        ["/node_modules/@grpc/", "gRPC"],
        ["/node_modules/google-protobuf/", "protobuf"],
        ["/node_modules/", "other packages"],
    ] as const) {
        if (file.includes(marker)) {
            return part;
        }
    }
    return file.startsWith(`${packageRoot}/`) ? "released-service" : "the program";
}

/** Node.js's CommonJS loader: every `require` goes through it, reading and compiling the module. */
const LOADER = "node:internal/modules/cjs/loader";
/** The loader's entry for one `require`: `wrapModuleLoad` since Node.js 22.?, `Module._load` before. */
const LOAD_FUNCTIONS = ["wrapModuleLoad", "Module._load"];
export const LOADING = "loading modules";

/**
 * Sums each sample's interval into the part its top frame belongs to, except that anything under a
 * `require` (the loader's `wrapModuleLoad`) counts as loading modules, whoever's code it runs.
 */
export function summarizeProfile(profile: CpuProfile, packageRoot: string): ProfileSummary {
    const parents = new Map<number, number>();
    for (const node of profile.nodes) {
        for (const child of node.children ?? []) {
            parents.set(child, node.id);
        }
    }
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const loading = (id: number): boolean => {
        for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
            const frame = byId.get(at)?.callFrame;
            if (frame?.url === LOADER && LOAD_FUNCTIONS.includes(frame.functionName)) {
                return true;
            }
        }
        return false;
    };
    const parts = new Map<number, string>(profile.nodes.map((node) => [node.id, loading(node.id) ? LOADING : partOf(node.callFrame, packageRoot)]));
    const totals = new Map<string, number>();
    profile.samples.forEach((id, i) => {
        const part = parts.get(id) ?? "unknown";
        totals.set(part, (totals.get(part) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
    return {
        lifetimeMs: (profile.endTime - profile.startTime) / 1000,
        parts: [...totals].map(([part, ms]) => ({ part, ms })).sort((a, b) => b.ms - a.ms),
    };
}
