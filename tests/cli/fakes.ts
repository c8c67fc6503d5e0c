// Test doubles for the CLI: captured output streams, a stack backed by recorded history and
// checkpoint files (tests/cli/fixtures), and a run() wrapper that returns what the user would see.

import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Deps, ManifestChecker, PreviewSummary, ReleaseStack } from "../../cli/core/context";
import { kubernetesLive, type PodList, type PodLister } from "../../components/workloads/kubernetes/live";
import { type ConfigEdit, type ConfigValue, show, type StackConfig, textOf } from "../../cli/core/config";
import type { HistoryEntry, RecordedOutputs } from "../../cli/core/history";
import { FileBackendCheckpoints, type RecordedOutputsSource } from "../../cli/core/state";
import { run } from "../../cli/run";

export const FIXTURES = path.join(__dirname, "fixtures");
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
    config?: Record<string, ConfigValue>;
    /** Makes `up` fail with this message after streaming a line; a function decides from the config. */
    upFails?: string | ((config: StackConfig) => string | undefined);
    /** Whether a failing `up` got as far as changing the Deployment (its rollout never became ready). */
    failsAfterDeployment?: boolean;
    /** Makes `preview` fail with this message after streaming a line. */
    previewFails?: string;
    /** The digest each version's tag names, for updates that do not pin one. */
    versions?: Record<string, string>;
    /** Pods the Deployment runs. */
    replicas?: number;
}

/**
 * A stack whose history is the recorded dev stack, and which records every change made to it. Its
 * updates behave like the engine's: each appends a history entry with the config it ran, a
 * successful one records new outputs, and the Deployment (and so the pods) follows the config.
 */
export class FakeStack implements ReleaseStack {
    readonly name = "dev";
    readonly configFile = path.join("stacks", "Pulumi.dev.yaml");
    readonly changes: string[] = [];
    readonly states: RecordedOutputsSource;
    private readonly entries: HistoryEntry[];
    private currentOutputs: RecordedOutputs;
    private readonly currentConfig: Record<string, ConfigValue>;
    private readonly options: FakeStackOptions;
    /** The digest the Deployment names now. */
    deployed: string | undefined;

    constructor(options: FakeStackOptions = {}) {
        this.options = options;
        this.entries = [...(options.entries ?? devHistory())];
        this.states = options.states ?? new FileBackendCheckpoints(PULUMI_HOME, "released-service", "dev");
        const outputs = options.outputs ?? { imageDigest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`, version: "v1.1.0" };
        this.currentOutputs = { ...outputs, deployedImage: outputs.imageRef };
        this.deployed = outputs.imageDigest;
        this.currentConfig = { ...(options.config ?? {
            "released-service:image": IMAGE,
            "released-service:version": "v1.1.0",
            "released-service:digest": DIGESTS["v1.1.0"],
            "released-service:name": "payment-api",
            "released-service:namespace": "payments",
        }) };
    }

    async history(): Promise<HistoryEntry[]> {
        return [...this.entries];
    }
    async outputs(): Promise<RecordedOutputs> {
        return this.currentOutputs;
    }
    async config(): Promise<StackConfig> {
        return { ...this.currentConfig };
    }
    async editConfig(edit: ConfigEdit): Promise<void> {
        for (const key of edit.remove) {
            this.changes.push(`config rm ${key}`);
            delete this.currentConfig[key];
        }
        for (const [key, value] of Object.entries(edit.set)) {
            this.changes.push(`config ${key}=${show(value)}`);
            this.currentConfig[key] = value;
        }
    }
    /** The config as the stack holds it now. */
    get configNow(): StackConfig {
        return { ...this.currentConfig };
    }
    async preview(onOutput: (text: string) => void): Promise<PreviewSummary> {
        this.changes.push("preview");
        onOutput("Previewing update (dev):\n");
        if (this.options.previewFails) {
            throw new Error(this.options.previewFails);
        }
        onOutput("    ~ kubernetes:apps/v1:Deployment app update [diff: ~spec]\n");
        return { same: 3, update: 1 };
    }
    async up(message: string, onOutput: (text: string) => void): Promise<void> {
        this.changes.push(`up: ${message}`);
        onOutput("Updating (dev):\n");
        const config = this.configNow;
        const version = textOf(config, "version");
        const digest = textOf(config, "digest") ?? (version === undefined ? undefined : this.options.versions?.[version]);
        const failure = typeof this.options.upFails === "function" ? this.options.upFails(config) : this.options.upFails;
        const entry = (result: string): HistoryEntry => ({
            version: 0,
            kind: "update",
            startTime: "2025-03-22T10:00:00.000Z",
            endTime: "2025-03-22T10:00:30.000Z",
            message,
            result,
            config: Object.fromEntries(
                Object.entries(config).map(([key, value]) => [key, typeof value === "string" ? { value, secret: false } : { value: show(value), objectValue: value, secret: false }]),
            ),
        });
        if (failure) {
            if (this.options.failsAfterDeployment) {
                this.deployed = digest;
                this.currentOutputs = { ...this.currentOutputs, deployedImage: `${IMAGE}@${digest}` };
            }
            this.entries.unshift(entry("failed"));
            throw new Error(failure);
        }
        this.deployed = digest;
        this.currentOutputs = { imageDigest: digest, imageRef: `${IMAGE}@${digest}`, version, deployedImage: `${IMAGE}@${digest}` };
        this.entries.unshift(entry("succeeded"));
        onOutput("Resources:\n    ~ 1 updated\n");
    }
    /** What `kubectl get pods` lists: every pod on the Deployment's digest, ready. */
    pods(): PodList {
        return {
            items: Array.from({ length: this.options.replicas ?? 2 }, (_, index) => ({
                metadata: { name: `payment-api-${index}`, labels: {} },
                status: {
                    phase: "Running",
                    containerStatuses: [{ name: "app", image: `${IMAGE}@${this.deployed}`, imageID: `${IMAGE}@${this.deployed}`, ready: true }],
                },
            })),
        };
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
    /** How the Kubernetes workload's pods are listed; by default `pods`, else the stack's. */
    listPods?: PodLister;
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
    let clock = 0;
    const deps: Deps = {
        openStack:
            fakes.openStack ??
            (async (stack) => {
                calls.push(`open ${stack ?? "(selected)"}`);
                return fakes.stack ?? new FakeStack();
            }),
        live:
            fakes.live ??
            ((record) =>
                kubernetesLive(
                    record,
                    fakes.listPods ??
                        (async (namespace, selector) => {
                            calls.push(`pods -n ${namespace} -l ${selector}`);
                            return fakes.pods ?? fakes.stack?.pods() ?? { items: [] };
                        }),
                )),
        registryClient: fakes.registryClient ?? (async () => tableRegistry([])),
        confirm:
            fakes.confirm ??
            (async (question) => {
                calls.push(`ask: ${question}`);
                return fakes.answer ?? false;
            }),
        actor: fakes.actor ?? (async () => "Grace Hopper <grace@example.com>"),
        now: fakes.now ?? (() => new Date("2025-03-22T10:00:00.000Z")),
        // Every reading of the clock is a tenth of a second after the one before.
        elapsed: fakes.elapsed ?? (() => (clock += 100)),
        sleep: fakes.sleep ?? (async () => undefined),
    };
    const code = await run(argv, { stdout, stderr, stdinIsTTY: terminal.stdinTTY ?? false, env: terminal.env ?? {}, cwd: "/work" }, () => deps);
    return { code, stdout: stdout.text, stderr: stderr.text, calls };
}
