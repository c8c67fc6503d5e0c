// Test doubles for the CLI: captured output streams, a stack backed by recorded history and
// checkpoint files (tests/cli-fixtures), and a run() wrapper that returns what the user would see.

import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Deps, ManifestChecker, PreviewSummary, ReleaseStack } from "../cli/commands";
import type { HistoryEntry, RecordedOutputs } from "../cli/history";
import { PodList } from "../cli/status";
import { FileBackendCheckpoints, type RecordedOutputsSource } from "../cli/state";
import { run } from "../cli/run";

export const FIXTURES = path.join(__dirname, "cli-fixtures");
/** A file backend root (`file://<root>`) holding the dev stack's per-update history and checkpoints. */
export const PULUMI_HOME = path.join(FIXTURES, "pulumi-home");

export const IMAGE = "localhost:5000/payment-api";
export const DIGESTS = {
    "v1.0.0": `sha256:${"10".repeat(32)}`,
    "v1.1.0": `sha256:${"a1".repeat(32)}`,
    "v1.2.0": `sha256:${"b2".repeat(32)}`,
    "v1.2.1": `sha256:${"c3".repeat(32)}`,
} as const;

export function readFixture<T>(name: string): T {
    return JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as T;
}

/** `pulumi stack history --json` of the dev stack on the file backend: six updates, newest first. */
export function devHistory(): HistoryEntry[] {
    return readFixture<HistoryEntry[]>("history-dev.json");
}

export class Capture {
    text = "";
    constructor(readonly isTTY = false) {}
    write(text: string): boolean {
        this.text += text;
        return true;
    }
}

export interface FakeStackOptions {
    entries?: HistoryEntry[];
    states?: RecordedOutputsSource;
    outputs?: RecordedOutputs;
    config?: Record<string, string>;
    /** Makes `up` fail with this message after streaming a line. */
    upFails?: string;
    /** Makes `preview` fail with this message after streaming a line. */
    previewFails?: string;
}

/** A stack whose history is the recorded dev stack, and which records every change made to it. */
export class FakeStack implements ReleaseStack {
    readonly name = "dev";
    readonly configFile = path.join("stacks", "Pulumi.dev.yaml");
    readonly changes: string[] = [];
    readonly states: RecordedOutputsSource;
    private readonly entries: HistoryEntry[];
    private readonly currentOutputs: RecordedOutputs;
    private readonly currentConfig: Record<string, string>;
    private readonly upFails?: string;
    private readonly previewFails?: string;

    constructor(options: FakeStackOptions = {}) {
        this.entries = options.entries ?? devHistory();
        this.states = options.states ?? new FileBackendCheckpoints(PULUMI_HOME, "released-service", "dev");
        this.currentOutputs = options.outputs ?? { imageDigest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0" };
        this.currentConfig = options.config ?? {
            "released-service:image": IMAGE,
            "released-service:version": "v1.1.0",
            "released-service:digest": DIGESTS["v1.1.0"],
            "released-service:name": "payment-api",
            "released-service:namespace": "payments",
        };
        this.upFails = options.upFails;
        this.previewFails = options.previewFails;
    }

    async history(): Promise<HistoryEntry[]> {
        return this.entries;
    }
    async outputs(): Promise<RecordedOutputs> {
        return this.currentOutputs;
    }
    async config(): Promise<Record<string, string>> {
        return { ...this.currentConfig };
    }
    async setConfig(key: string, value: string): Promise<void> {
        this.changes.push(`config ${key}=${value}`);
        this.currentConfig[key] = value;
    }
    async removeConfig(key: string): Promise<void> {
        this.changes.push(`config rm ${key}`);
        delete this.currentConfig[key];
    }
    /** The config as the stack holds it now. */
    get configNow(): Record<string, string> {
        return { ...this.currentConfig };
    }
    async preview(onOutput: (text: string) => void): Promise<PreviewSummary> {
        this.changes.push("preview");
        onOutput("Previewing update (dev):\n");
        if (this.previewFails) {
            throw new Error(this.previewFails);
        }
        onOutput("    ~ kubernetes:apps/v1:Deployment app update [diff: ~spec]\n");
        return { same: 3, update: 1 };
    }
    async up(message: string, onOutput: (text: string) => void): Promise<void> {
        this.changes.push(`up: ${message}`);
        onOutput("Updating (dev):\n");
        if (this.upFails) {
            throw new Error(this.upFails);
        }
        onOutput("Resources:\n    ~ 1 updated\n");
    }
}

/** A registry that answers from a table; anything not in it is missing. */
export function tableRegistry(present: readonly string[], asked: string[] = []): ManifestChecker {
    return {
        async manifestState(reference) {
            asked.push(reference.text);
            return present.includes(reference.text) ? "present" : "missing";
        },
    };
}

export interface FakeDeps extends Partial<Deps> {
    stack?: FakeStack;
    pods?: PodList;
    answer?: boolean;
}

export interface Outcome {
    code: number;
    stdout: string;
    stderr: string;
    /** Stacks opened, pod listings and confirmations asked, in order. */
    calls: string[];
}

export interface Terminal {
    env?: NodeJS.ProcessEnv;
    stdoutTTY?: boolean;
    stderrTTY?: boolean;
    stdinTTY?: boolean;
}

/** Runs one command line the way main does, with fakes behind the adapters. */
export async function runCli(argv: string[], fakes: FakeDeps = {}, terminal: Terminal = {}): Promise<Outcome> {
    const stdout = new Capture(terminal.stdoutTTY);
    const stderr = new Capture(terminal.stderrTTY);
    const calls: string[] = [];
    const deps: Deps = {
        openStack:
            fakes.openStack ??
            (async (stack) => {
                calls.push(`open ${stack ?? "(selected)"}`);
                return fakes.stack ?? new FakeStack();
            }),
        listPods:
            fakes.listPods ??
            (async (namespace, selector) => {
                calls.push(`pods -n ${namespace} -l ${selector}`);
                return fakes.pods ?? { items: [] };
            }),
        registryClient: fakes.registryClient ?? (async () => tableRegistry([])),
        confirm:
            fakes.confirm ??
            (async (question) => {
                calls.push(`ask: ${question}`);
                return fakes.answer ?? false;
            }),
    };
    const code = await run(argv, { stdout, stderr, stdinIsTTY: terminal.stdinTTY ?? false, env: terminal.env ?? {}, cwd: "/work" }, () => deps);
    return { code, stdout: stdout.text, stderr: stderr.text, calls };
}
