// Test doubles for the CLI: captured output streams, a stack backed by recorded history and
// checkpoint files (tests/cli/fixtures), and a run() wrapper that returns what the user would see.

import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { Connection } from "../../cli/core/connection";
import type { Deps, ManifestChecker, Preview, ReleaseStack, SavedConfig } from "../../cli/core/context";
import type { InterruptSignal, Interrupts } from "../../cli/core/interrupt";
import { type ObjectReference, type PodList, type PodLister, selectorText } from "../../components/workloads/kubernetes/live";
import { liveOf } from "../../cli/core/workloads";
import type { ContainerInspect } from "../../components/workloads/docker/live";
import { type ConfigEdit, type ConfigValue, show, type StackConfig, textOf } from "../../cli/core/config";
import type { HistoryEntry } from "../../cli/core/history";
import { holdOf, pinOf, type ServiceState } from "../../cli/core/services";
import { type Asked, askedOf, pinOutcome } from "../../components/release/pin";
import { DiyCheckpoints, type RecordedStates } from "../../cli/core/state";
import { FileBucket } from "../../cli/core/states/file";
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

/** The per-update checkpoints a file backend at `root` keeps for one stack. */
export function fileCheckpoints(root: string, project: string, stack: string): DiyCheckpoints {
    return new DiyCheckpoints(new FileBucket(root), project, stack);
}

export function readFixture<T>(name: string): T {
    return JSON.parse(readFileSync(path.join(FIXTURES, name), "utf8")) as T;
}

/** `pulumi stack history --json` of the dev stack on the file backend: six updates, newest first. */
export function devHistory(): HistoryEntry[] {
    return readFixture<HistoryEntry[]>("history-dev.json");
}

/** The two-service shop stack (a user's program: services api and worker), prod, on the file backend. */
export const SHOP = {
    api: "localhost:5000/shop-api",
    worker: "localhost:5000/shop-worker",
    digests: {
        "v1.0.0": `sha256:${"1a".repeat(32)}`,
        "v1.1.0": `sha256:${"2a".repeat(32)}`,
        "v1.2.0": `sha256:${"3a".repeat(32)}`,
        w1: `sha256:${"1b".repeat(32)}`,
        w2: `sha256:${"2b".repeat(32)}`,
    },
} as const;

/** `pulumi stack history --json` of the shop's prod stack: five updates, newest first, the last a rollback of api. */
export function shopHistory(): HistoryEntry[] {
    return readFixture<HistoryEntry[]>("history-shop.json");
}

function shopService(name: "api" | "worker", version: string, digest: string): ServiceState {
    const image = SHOP[name];
    const deployment = `${name}-${name === "api" ? "7f8e9d" : "6c5b4a"}`;
    return {
        name,
        imageDigest: digest,
        imageRef: `${image}@${digest}`,
        version,
        built: false,
        workload: { kind: "kubernetes", namespace: "shop", deployment, service: `${name}-svc`, selector: { "app.kubernetes.io/name": name } },
    };
}

/** The shop as update #5 left it: api rolled back to v1.1.0, pinned and held; worker on w2. */
export function shopStack(options: FakeStackOptions = {}): FakeStack {
    return new FakeStack({
        name: "prod",
        entries: shopHistory(),
        states: fileCheckpoints(PULUMI_HOME, "shop", "prod"),
        services: [shopService("api", "v1.1.0", SHOP.digests["v1.1.0"]), shopService("worker", "w2", SHOP.digests.w2)],
        config: {
            "shop:apiVersion": "v1.2.0",
            "shop:workerVersion": "w2",
            "released-service:pins": { api: { version: "v1.1.0", digest: SHOP.digests["v1.1.0"], update: 2, asked: { version: "v1.2.0" } } },
            "released-service:holds": { api: { digest: SHOP.digests["v1.1.0"], by: "Ada Lovelace <ada@example.com>", at: "2025-04-05T09:00:00Z", reason: "rollback to #2" } },
        },
        args: { api: "v1.2.0", worker: "w2" },
        versions: { ...SHOP.digests },
        ...options,
    });
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
    name?: string;
    entries?: HistoryEntry[];
    states?: RecordedStates;
    /** The services the latest state records; by default the dev stack's one service on v1.1.0. */
    services?: ServiceState[];
    config?: Record<string, ConfigValue>;
    /** Makes `up` fail with this message after streaming a line; a function decides from the config. */
    upFails?: string | ((config: StackConfig) => string | undefined);
    /** Whether a failing `up` got as far as changing the workload (its rollout never became ready). */
    failsAfterDeployment?: boolean;
    /**
     * Whether a failing `up` whose args changed leaves each component without outputs, as the engine
     * does (its update step records the new input; its outputs wait for a workload that failed).
     */
    failureLosesOutputs?: boolean;
    /** Makes `preview` fail with this message after streaming a line. */
    previewFails?: string;
    /** `false`: the preview announces no ReleasedService's step, so it says nothing of what their args ask. */
    previewAnnouncesServices?: boolean;
    /** The digest each version's tag names, for updates that do not pin one. */
    versions?: Record<string, string>;
    /** What each service's own args ask for when no pin does (user programs); the bundled one reads its config keys. */
    args?: Record<string, string>;
    /** Pods each workload runs. */
    replicas?: number;
    /** The render copy of the config, when `npm run up` renders this stack's manifests. */
    rendered?: string;
    /** Called in the middle of each config read, config edit, preview and update, where a test sends its interrupts. */
    at?: (moment: "read" | "edit" | "preview" | "up") => void | Promise<void>;
    /**
     * How pulumi answers an interrupt passed to it during `up`: it cancels the update before the
     * workload changed, or after it changed; unset, the update completes before the cancel takes hold.
     */
    cancels?: "before the workload" | "after the workload";
}

const DEV_SERVICE: ServiceState = {
    name: "payment-api",
    imageDigest: DIGESTS["v1.1.0"],
    imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}`,
    version: "v1.1.0",
    workload: { kind: "kubernetes", namespace: "payments", deployment: "payment-api", service: "payment-api", selector: { "app.kubernetes.io/name": "payment-api" } },
};

/**
 * A stack whose history is recorded, and which records every change made to it. Its updates
 * behave like the engine's with the component: each service runs its pin (released-service:pins),
 * else its args (for the bundled program, its version and digest config), refused when a hold
 * names another digest; each update appends a history entry with the config it ran and a state of
 * its services, and the workloads (and so the pods) follow.
 */
export class FakeStack implements ReleaseStack {
    readonly name: string;
    readonly configFile: string;
    readonly rendered?: string;
    readonly changes: string[] = [];
    /** How many times the command read the stack config (each a `pulumi config` run for real). */
    configReads = 0;
    readonly states: RecordedStates;
    private readonly entries: HistoryEntry[];
    private current: ServiceState[];
    private readonly currentConfig: Record<string, ConfigValue>;
    private readonly options: FakeStackOptions;
    /** States of the updates this fake ran, by update number. */
    private readonly ran = new Map<number, ServiceState[]>();

    constructor(options: FakeStackOptions = {}) {
        this.options = options;
        this.name = options.name ?? "dev";
        this.configFile = path.join("stacks", `Pulumi.${this.name}.yaml`);
        this.rendered = options.rendered;
        this.entries = [...(options.entries ?? devHistory())];
        const recorded = options.states ?? fileCheckpoints(PULUMI_HOME, "released-service", "dev");
        this.states = {
            statesOf: async (entries, updates) => {
                const found = await recorded.statesOf(entries, updates.filter((update) => !this.ran.has(update)));
                for (const update of updates.filter((update) => this.ran.has(update))) {
                    found.set(update, this.ran.get(update)!);
                }
                return found;
            },
            ...(recorded.unfinished !== undefined ? { unfinished: () => recorded.unfinished!() } : {}),
        };
        this.current = (options.services ?? [DEV_SERVICE]).map((service) => ({ ...service, deployedImage: service.deployedImage ?? service.imageRef }));
        this.currentConfig = {
            ...(options.config ?? {
                "released-service:image": IMAGE,
                "released-service:version": "v1.1.0",
                "released-service:digest": DIGESTS["v1.1.0"],
                "released-service:name": "payment-api",
                "released-service:namespace": "payments",
            }),
        };
        // The latest update ran the config as it is, unless a test says what its args asked.
        this.current = this.current.map((service) => ({ ...service, asked: service.asked ?? this.askedOf(service, this.currentConfig) }));
    }

    async history(): Promise<HistoryEntry[]> {
        return [...this.entries];
    }
    async services(): Promise<ServiceState[]> {
        return this.current.map((service) => ({ ...service }));
    }
    async config(): Promise<StackConfig> {
        this.configReads++;
        await this.options.at?.("read");
        return { ...this.currentConfig };
    }
    async editConfig(edit: ConfigEdit): Promise<void> {
        await this.options.at?.("edit");
        for (const key of edit.remove) {
            this.changes.push(`config rm ${key}`);
            delete this.currentConfig[key];
        }
        for (const [key, value] of Object.entries(edit.set)) {
            this.changes.push(`config ${key}=${show(value)}`);
            this.currentConfig[key] = value;
        }
    }
    async saveConfig(): Promise<SavedConfig> {
        const saved = { ...this.currentConfig };
        return {
            restore: () => {
                this.changes.push("config restored");
                for (const key of Object.keys(this.currentConfig)) {
                    delete this.currentConfig[key];
                }
                Object.assign(this.currentConfig, saved);
            },
        };
    }
    /** The config as the stack holds it now. */
    get configNow(): StackConfig {
        return { ...this.currentConfig };
    }
    /** The digest a service's workload names now (the only service's, by default). */
    deployedOf(service?: string): string | undefined {
        const state = service === undefined ? this.current[0] : this.current.find((candidate) => candidate.name === service);
        return state?.deployedImage?.slice(state.deployedImage.lastIndexOf("@") + 1);
    }
    get deployed(): string | undefined {
        return this.deployedOf();
    }
    async preview(onOutput: (text: string) => void, signal?: AbortSignal): Promise<Preview> {
        this.changes.push("preview");
        onOutput(`Previewing update (${this.name}):\n`);
        await this.options.at?.("preview");
        if (signal?.aborted) {
            throw new Error("preview canceled");
        }
        if (this.options.previewFails) {
            throw new Error(this.options.previewFails);
        }
        onOutput("    ~ kubernetes:apps/v1:Deployment app update [diff: ~spec]\n");
        // As the engine's step events: each component's new input, what its args ask under the config now.
        const config = this.configNow;
        const asked = new Map(this.options.previewAnnouncesServices === false ? [] : this.current.map((service) => [service.name, this.askedOf(service, config)] as const));
        return { changes: { same: 3, update: 1 }, asked };
    }
    /** What a service's args ask under `config`: the bundled program's version and digest keys, or a user program's own. */
    private askedOf(service: ServiceState, config: StackConfig): Asked {
        const alone = this.current.length === 1 && this.options.args === undefined;
        return askedOf(alone ? { version: textOf(config, "version"), digest: textOf(config, "digest") } : { version: this.options.args?.[service.name] });
    }
    /** What a service runs under `config`, as the component decides it. */
    private release(service: ServiceState, config: StackConfig): { version?: string; digest?: string; asked: Asked; refusal?: string } {
        const pin = pinOf(config, service.name);
        const asked = this.askedOf(service, config);
        const version = pin?.version ?? asked.version;
        const digest = pin?.digest ?? asked.digest ?? (version === undefined ? undefined : this.options.versions?.[version]);
        const outcome = pin === undefined ? undefined : pinOutcome(this.name, service.name, pin, asked, false);
        const hold = holdOf(config, service.name);
        const refusal =
            outcome !== undefined && "refusal" in outcome ? outcome.refusal : hold !== undefined && hold.digest !== digest ? `${service.name} is held on ${hold.digest}` : undefined;
        return { version, digest, asked, refusal };
    }
    async up(message: string, onOutput: (text: string) => void, interrupts?: Interrupts): Promise<void> {
        this.changes.push(`up: ${message}`);
        // As pulumi: the first interrupt passed on cancels gracefully, a second ends it at once.
        const passed: InterruptSignal[] = [];
        const stopListening = interrupts?.listen((signal) => {
            passed.push(signal);
            this.changes.push(`pulumi got ${signal}`);
        });
        onOutput(`Updating (${this.name}):\n`);
        await this.options.at?.("up");
        stopListening?.();
        if (passed.length > 1) {
            // Ended at once; the command stopped without waiting for it.
            return new Promise(() => undefined);
        }
        const cancelled = passed.length === 1 && this.options.cancels !== undefined;
        const config = this.configNow;
        const releases = this.current.map((service) => ({ service, ...this.release(service, config) }));
        const refusal = releases.find((release) => release.refusal !== undefined)?.refusal;
        const failure = refusal ?? (cancelled ? "update canceled" : typeof this.options.upFails === "function" ? this.options.upFails(config) : this.options.upFails);
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
        const image = (service: ServiceState): string => service.imageRef?.slice(0, service.imageRef.lastIndexOf("@")) ?? IMAGE;
        if (failure) {
            // The component's input, what its args ask, is recorded even by an update that fails.
            this.current = releases.map(({ service, digest, asked }) => {
                const kept: ServiceState = this.options.failureLosesOutputs ? { name: service.name, deployedImage: service.deployedImage } : service;
                return {
                    ...kept,
                    asked,
                    ...((cancelled ? this.options.cancels === "after the workload" : this.options.failsAfterDeployment) && refusal === undefined
                        ? { deployedImage: `${image(service)}@${digest}` }
                        : {}),
                };
            });
            this.entries.unshift(entry("failed"));
            this.ran.set(this.entries.length, this.current);
            throw new Error(failure);
        }
        this.current = releases.map(({ service, version, digest, asked }) => ({
            ...service,
            asked,
            imageDigest: digest,
            imageRef: `${image(service)}@${digest}`,
            version,
            deployedImage: `${image(service)}@${digest}`,
        }));
        this.entries.unshift(entry("succeeded"));
        this.ran.set(this.entries.length, this.current);
        onOutput("Resources:\n    ~ 1 updated\n");
    }
    /** The uid the latest state records for the Deployment of a name, as on the stack's own cluster. */
    recordedUid(namespace: string, name: string): string | null {
        const state = this.current.find((service) => service.workload?.kind === "kubernetes" && service.workload.namespace === namespace && service.workload.deployment === name);
        return state?.origin?.uid ?? null;
    }
    /** What `kubectl get pods` lists for a selector: every pod on its workload's digest, ready. */
    pods(namespace?: string, selector?: string): PodList {
        const kubernetes = (service: ServiceState) => (service.workload?.kind === "kubernetes" ? service.workload : undefined);
        const state =
            this.current.find((service) => selectorText(kubernetes(service)?.selector ?? {}) === selector && kubernetes(service)?.namespace === namespace) ?? this.current[0];
        const prefix = kubernetes(state)?.deployment ?? state.name;
        return {
            items: Array.from({ length: this.options.replicas ?? 2 }, (_, index) => ({
                metadata: { name: `${prefix}-${index}`, labels: {} },
                status: {
                    phase: "Running",
                    containerStatuses: [{ name: "app", image: state.deployedImage ?? "", imageID: state.deployedImage ?? "", ready: true }],
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
    /** What `docker inspect` says of a Docker workload's containers, by name. */
    containers?: (name: string) => ContainerInspect[];
    /** Sees every docker CLI run the command makes (the drill's docker compose). */
    docker?: (args: readonly string[]) => void;
    pods?: PodList;
    answer?: boolean;
    /** The interrupts the command is given; a test sends them with `receive`. */
    interrupts?: Interrupts;
    /** The uid of the Deployment of a name where `connection` reaches (null: none); by default the uid the stack records, as on its own cluster. */
    deployments?: (namespace: string, name: string, connection: Connection) => string | null;
    /** The kube context kubectl uses when the connection names none; by default `kind-dev`. */
    currentContext?: string;
    /** Kubernetes objects as the cluster holds them (null: none of that name). */
    objects?: (object: ObjectReference) => unknown;
}

/** kubectl's flags for a connection, as the fake listings note them (` --context prod`), or nothing for the current context. */
function kubectlFlagsOf(connection: Connection): string {
    const flags = [
        ...(connection.kubeconfig !== undefined ? [`--kubeconfig ${connection.kubeconfig}`] : []),
        ...(connection.context !== undefined ? [`--context ${connection.context}`] : []),
        ...(connection.cluster !== undefined ? [`--cluster ${connection.cluster}`] : []),
    ];
    return flags.map((flag) => ` ${flag}`).join("");
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
/** The adapters with fakes behind them; what they are asked is noted in `calls`. */
export function fakeDeps(fakes: FakeDeps, calls: string[]): Deps {
    let clock = 0;
    return {
        openStack:
            fakes.openStack ??
            (async (stack) => {
                calls.push(`open ${stack ?? "(selected)"}`);
                return fakes.stack ?? new FakeStack();
            }),
        live:
            fakes.live ??
            ((record, connection) =>
                liveOf(record, {
                    inspectContainer: async (name) => fakes.containers?.(name) ?? [],
                    inspectComposeService: async (service) => fakes.containers?.(service) ?? [],
                    inspectTasks: async () => ({ tasks: [], specs: [] }),
                    docker: async (args) => {
                        calls.push(`docker ${args.join(" ")}`);
                        fakes.docker?.(args);
                    },
                    listPods:
                        fakes.listPods ??
                        (async (namespace, selector) => {
                            calls.push(`pods${kubectlFlagsOf(connection)} -n ${namespace} -l ${selector}`);
                            return fakes.pods ?? fakes.stack?.pods(namespace, selector) ?? { items: [] };
                        }),
                    identifyDeployment: async (namespace, name) => {
                        const context = connection.context ?? fakes.currentContext ?? "kind-dev";
                        const recorded = fakes.stack?.recordedUid(namespace, name) ?? null;
                        return { uid: fakes.deployments === undefined ? recorded : fakes.deployments(namespace, name, connection), reached: `kube context ${context} (server https://${context}.example:6443)` };
                    },
                    getObject: async () => null,
                    identifyObject: async () => ({ uid: null, reached: "" }),
                    applyObject: async () => undefined,
                }, "/work/shop")),
        write:
            fakes.write ??
            (async (write, connection) => {
                calls.push(
                    write.kind === "apply"
                        ? `apply${kubectlFlagsOf(connection)} --field-manager=${write.fieldManager} ${write.reference.kind} ${write.reference.name} -n ${write.reference.namespace}`
                        : `docker ${write.args.join(" ")}`,
                );
            }),
        object:
            fakes.object ??
            (async (object, connection) => {
                calls.push(`get${kubectlFlagsOf(connection)} ${object.kind} ${object.name} -n ${object.namespace}`);
                return fakes.objects?.(object) ?? null;
            }),
        identify:
            fakes.identify ??
            (async (object, connection) => {
                const context = connection.context ?? fakes.currentContext ?? "kind-dev";
                const found = fakes.objects?.(object) as { metadata?: { uid?: string } } | null | undefined;
                return { uid: found?.metadata?.uid ?? null, reached: `kube context ${context} (server https://${context}.example:6443)` };
            }),
        registryClient: fakes.registryClient ?? (async () => tableRegistry([])),
        confirm:
            fakes.confirm ??
            (async (question, signal) => {
                calls.push(`ask: ${question}`);
                if (signal?.aborted) {
                    throw new Error("question aborted");
                }
                return fakes.answer ?? false;
            }),
        actor: fakes.actor ?? (async () => "Grace Hopper <grace@example.com>"),
        now: fakes.now ?? (() => new Date("2025-03-22T10:00:00.000Z")),
        // Every reading of the clock is a tenth of a second after the one before.
        elapsed: fakes.elapsed ?? (() => (clock += 100)),
        sleep: fakes.sleep ?? (async () => undefined),
    };
}

export async function runCli(argv: string[], fakes: FakeDeps = {}, terminal: Terminal = {}): Promise<Outcome> {
    const stdout = new Capture(terminal.stdoutTTY);
    const stderr = new Capture(terminal.stderrTTY);
    const calls: string[] = [];
    const deps = fakeDeps(fakes, calls);
    const io = { stdout, stderr, stdinIsTTY: terminal.stdinTTY ?? false, env: terminal.env ?? {}, cwd: "/work", interrupts: fakes.interrupts };
    const code = await run(argv, io, () => deps);
    return { code, stdout: stdout.text, stderr: stderr.text, calls };
}
