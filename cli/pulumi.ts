// The thin adapter from `ReleaseStack` to the pulumi CLI: the CLI itself for every read, edit and
// update (the Automation API would show secrets, read more after an update, and take a second to
// load), the Automation API for a preview's step events. Loaded lazily, so --help and `verify
// REF...` work without pulumi installed.

import { execFile, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { copyFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import type { LocalWorkspace, Stack, Workspace } from "@pulumi/pulumi/automation";
import type { ConfigEdit, ConfigValue, StackConfig } from "./core/config";
import type { Asked } from "../components/release/pin";
import type { Preview, ReleaseStack, SavedConfig } from "./core/context";
import type { Interrupts } from "./core/interrupt";
import { CliError, ExitCode, usageError } from "./core/exitCodes";
import { readAllPages, type HistoryEntry } from "./core/history";
import { askedOfStep, type ServiceState, servicesOfState, type StepEvent } from "./core/services";
import { renderCopy } from "./core/rendered";
import type { RecordedStates } from "./core/state";
import { recordedStatesOf } from "./core/states/backends";

/** The longest single argument Linux passes to a program (MAX_ARG_STRLEN, 32 pages), less a margin. */
const MAX_ARGUMENT = 120 * 1024;

/**
 * The `pulumi config set-all --json` arguments for `json`: one, unless it is longer than one
 * argument may be (Linux's MAX_ARG_STRLEN, 128 KiB; the pins and holds of a few hundred services
 * are more), then one per key.
 */
export function setAllBatches<T>(json: Readonly<Record<string, T>>, limit = MAX_ARGUMENT): Record<string, T>[] {
    return JSON.stringify(json).length <= limit ? [{ ...json }] : Object.entries(json).map(([key, entry]) => ({ [key]: entry }));
}

/** The nearest directory upwards holding a Pulumi.yaml, as the pulumi CLI finds its project. */
export function findProjectDir(start: string): string | undefined {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
        if (existsSync(path.join(dir, "Pulumi.yaml")) || existsSync(path.join(dir, "Pulumi.yml"))) {
            return dir;
        }
        if (path.dirname(dir) === dir) {
            return undefined;
        }
    }
}

/**
 * What the user needs from an Automation API failure. Its CommandError message dumps the exit
 * code, stdout and stderr; pulumi's own stderr says what went wrong, and a missing CLI says ENOENT.
 */
export function describePulumiFailure(what: string, error: unknown): CliError {
    const message = (error as Error).message ?? String(error);
    if (/ENOENT/.test(message) && /pulumi/.test(message)) {
        return new CliError(`${what}: the pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)`, ExitCode.Failure);
    }
    const stderr = /\bstderr: ([\s\S]*?)(?:\n err\?:|$)/.exec(message)?.[1]?.trim();
    return new CliError(`${what}: ${stderr || message.trim()}`, ExitCode.Failure);
}

/**
 * Why an update or preview failed, in pulumi's own words: its `error:` diagnostics (the rest of its
 * output was streamed as it ran), else what describePulumiFailure makes of the failure.
 */
export function updateFailure(what: string, error: unknown): Error {
    const message = (error as Error).message ?? String(error);
    // The CLI's own errors start a line of its stdout or stderr; the failure's message prefixes the
    // first line of each with its stream's name. A DIY backend's locked-stack error names each lock
    // on a line of its own (pkg/backend/diy/lock.go: "\n  <url>: created by user@host (pid N) at T").
    const errors = [
        ...new Set(
            message.split("\n").flatMap((line) => {
                if (/^\s*(?:stdout: |stderr: )?error: /.test(line)) {
                    return [line.trim().replace(/^(?:stdout: |stderr: )?error: /, "")];
                }
                return /^ {2}\S+: created by \S+@\S* \(pid \d+\) at \S+$/.test(line) ? [line] : [];
            }),
        ),
    ];
    return errors.length > 0 ? new Error(errors.join("\n")) : new Error(describePulumiFailure(what, error).message);
}

/**
 * Runs the pulumi CLI, streaming its stdout; a failure rejects with what it printed, as the Automation API's does.
 * Pulumi runs in a process group of its own and is passed every interrupt once: a terminal's Ctrl-C
 * reaches only this process, so pulumi never counts it twice (its second ^C ends it at once, lock and all).
 */
function streamed(
    command: string,
    args: readonly string[],
    onOutput: (text: string) => void,
    interrupts?: Interrupts,
    started?: (pid: number) => void,
): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" }, stdio: ["ignore", "pipe", "pipe"], detached: true });
        if (child.pid !== undefined) {
            started?.(child.pid);
        }
        const stopForwarding = interrupts?.listen((signal) => child.kill(signal));
        child.on("exit", () => stopForwarding?.());
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (text: string) => {
            stdout += text;
            onOutput(text);
        });
        child.stderr.setEncoding("utf8").on("data", (text: string) => {
            stderr += text;
        });
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`code: ${code}\n stdout: ${stdout}\n stderr: ${stderr}`))));
    });
}

/** The pulumi CLI, as the Automation API finds it: on PATH. */
const PULUMI = "pulumi";

/** Runs `pulumi <args>` where the project is, without its update check; answers its stdout. */
async function runPulumi(args: readonly string[], workDir: string): Promise<string> {
    const { stdout } = await promisify(execFile)(PULUMI, [...args], {
        cwd: workDir,
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
    });
    return stdout;
}

/** What the command reads of a project's Pulumi.yaml (or .yml, .json), found and parsed as the Automation API does. */
interface ProjectSettings {
    readonly name: string;
    readonly stackConfigDir?: string;
    readonly backend?: { readonly url?: string };
}

function projectSettingsOf(workDir: string): ProjectSettings {
    for (const ext of [".yaml", ".yml", ".json"]) {
        const file = path.join(workDir, `Pulumi${ext}`);
        if (existsSync(file)) {
            const text = readFileSync(file, "utf8");
            // The YAML parser of the SDK beside the package, which the pulumi CLI's Node.js programs use too.
            const yaml = createRequire(require.resolve("@pulumi/pulumi/package.json"))("js-yaml") as { load(text: string): unknown };
            return (ext === ".json" ? JSON.parse(text) : yaml.load(text)) as ProjectSettings;
        }
    }
    throw usageError(`no Pulumi.yaml in ${workDir}`);
}

/** The project's stacks as `pulumi stack ls` lists them: each name, and which one is selected. */
async function stacksOf(workDir: string): Promise<{ readonly name: string; readonly current?: boolean }[]> {
    try {
        return JSON.parse(await runPulumi(["stack", "ls", "--json"], workDir)) as { name: string; current?: boolean }[];
    } catch (error) {
        throw describePulumiFailure("cannot list the stacks", error);
    }
}

/** Refuses a stack the project does not have, naming the ones it has. */
async function requireStack(workDir: string, name: string): Promise<void> {
    const stacks = await stacksOf(workDir);
    const short = (stack: string): string => stack.split("/").pop() ?? stack;
    if (!stacks.some((stack) => stack.name === name || short(stack.name) === short(name))) {
        const known = stacks.map((stack) => short(stack.name)).sort();
        throw usageError(`no stack named ${name} in this project; ` + (known.length > 0 ? `its stacks are: ${known.join(", ")}` : "it has no stacks yet"));
    }
}

/** The backend's URL as `pulumi whoami` names it (the Pulumi.yaml's or the login's). */
async function backendOf(workDir: string): Promise<string | undefined> {
    try {
        const url = (JSON.parse(await runPulumi(["whoami", "--json"], workDir)) as { url?: unknown }).url;
        return typeof url === "string" ? url : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Opens a stack of the project at or above `cwd`: its reads are pulumi runs of their own, started
 * at once. The Automation API, a second to load, is loaded only for a preview.
 */
export async function openPulumiStack(stackName: string | undefined, cwd: string, onProgress: (message: string) => void): Promise<ReleaseStack> {
    const workDir = findProjectDir(cwd);
    if (!workDir) {
        throw usageError(`no Pulumi.yaml in ${cwd} or any directory above it; run from the project or pass --cwd`);
    }
    onProgress("Starting pulumi…");
    // Which backend is asked at once, and only the reads of the backend wait for it.
    const who = backendOf(workDir);
    who.catch(() => undefined);
    const name = stackName ?? (await stacksOf(workDir)).find((stack) => stack.current)?.name;
    if (!name) {
        throw usageError("no stack is selected: pass --stack <name>");
    }
    const settings = projectSettingsOf(workDir);
    const backendUrl = who.then((url) => url ?? process.env.PULUMI_BACKEND_URL ?? settings.backend?.url ?? "");
    return new PulumiStack({ name, workDir, project: settings.name, backendUrl, onProgress }, settings.stackConfigDir);
}

/** Where one stack is: its name, its project and where that is, and its backend. */
interface StackPlace {
    readonly name: string;
    readonly workDir: string;
    readonly project: string;
    /** The backend's URL, once `pulumi whoami` has answered. */
    readonly backendUrl: Promise<string>;
    readonly onProgress: (message: string) => void;
}

/**
 * The Automation API's stack, for a preview that reports each step: nothing is selected, since
 * its Stack.select runs `pulumi stack select`, which changes the stack a plain `pulumi up` updates
 * next; every pulumi run names its stack with --stack instead.
 */
async function automationStack(place: StackPlace): Promise<Stack> {
    const { LocalWorkspace, Stack } = await import("@pulumi/pulumi/automation");
    let workspace: LocalWorkspace;
    try {
        workspace = await LocalWorkspace.create({ workDir: place.workDir });
    } catch (error) {
        throw describePulumiFailure("cannot start pulumi", error);
    }
    const view = Object.create(workspace) as LocalWorkspace;
    view.selectStack = async (): Promise<void> => undefined;
    return Stack.select(place.name, view as Workspace);
}

/** What the backend recorded of each update, read once the backend is known: the reads that need it wait, the others do not. */
function statesOn(place: StackPlace): RecordedStates {
    const { name, workDir } = place;
    const backend = place.backendUrl.then((backendUrl) =>
        recordedStatesOf({
            backendUrl,
            workDir,
            project: place.project,
            stack: name,
            exportVersion: async (update) => JSON.parse(await runPulumi(["stack", "export", "--version", String(update), "--stack", name], workDir)) as unknown,
            onProgress: place.onProgress,
        }),
    );
    // A backend the command cannot read fails the reads that need it, not the others.
    backend.catch(() => undefined);
    return {
        statesOf: async (entries, updates) => (await backend).statesOf(entries, updates),
        unfinished: async () => {
            const states = await backend;
            return states.unfinished === undefined ? { where: "", locks: [], pending: [] } : states.unfinished();
        },
    };
}

/** A stack of a project, read and changed through the pulumi CLI, every run naming it with --stack. */
class PulumiStack implements ReleaseStack {
    readonly name: string;
    readonly configFile: string;
    readonly rendered?: string;
    readonly states: RecordedStates;
    private readonly configPath: string;
    private exists?: Promise<void>;
    private automation?: Promise<Stack>;

    constructor(
        private readonly place: StackPlace,
        stackConfigDir: string | undefined,
    ) {
        this.name = place.name;
        const shortName = place.name.split("/").pop() ?? place.name;
        this.configFile = path.join(stackConfigDir ?? ".", `Pulumi.${shortName}.yaml`);
        this.configPath = path.resolve(place.workDir, this.configFile);
        this.rendered = existsSync(path.join(place.workDir, renderCopy(shortName))) ? renderCopy(shortName) : undefined;
        this.states = statesOn(place);
    }

    /** A read's failure, unless the stack is not there: then that, naming the stacks there are. */
    private async failure(error: unknown): Promise<never> {
        await (this.exists ??= requireStack(this.place.workDir, this.name));
        throw error;
    }

    /**
     * Runs the pulumi CLI itself where the Automation API would add `--show-secrets`: reading
     * outputs and plain config needs no secret, and so never the stack's passphrase.
     */
    private async pulumi(what: string, args: string[]): Promise<string> {
        try {
            return await runPulumi([...args, "--stack", this.name], this.place.workDir);
        } catch (error) {
            return this.failure(describePulumiFailure(`cannot ${what} of stack ${this.name}`, error));
        }
    }

    private async pulumiJson(what: string, args: string[]): Promise<unknown> {
        return JSON.parse(await this.pulumi(`read the ${what}`, args)) as unknown;
    }

    /**
     * A pulumi up that an interrupt cancels at its very start can end without letting go of the DIY
     * lock it took (seen with CLI 3.274.1: SIGINT right after `Updating (<stack>):`). A lock taken by
     * that very process on this host, and no other, is its own and stale once it has ended: `pulumi
     * cancel` removes it, as the operator would. Any other lock is left alone, for its owner.
     */
    private async releaseOwnLock(pid: number): Promise<void> {
        const unfinished = await this.states.unfinished!().catch(() => undefined);
        const own = `@${hostname()} (pid ${pid})`;
        if (unfinished !== undefined && unfinished.locks.length > 0 && unfinished.locks.every((lock) => lock.takenBy?.includes(own) === true)) {
            await this.pulumi("let go of the lock its cancelled update left", ["cancel", "--yes"]).catch(() => undefined);
        }
    }

    async history(): Promise<HistoryEntry[]> {
        try {
            // No --show-secrets: decrypting would need the stack's passphrase, and no secret is shown.
            return await readAllPages(
                async (pageSize, page) =>
                    JSON.parse(await runPulumi(["stack", "history", "--json", "--page-size", String(pageSize), "--page", String(page), "--stack", this.name], this.place.workDir)) as HistoryEntry[],
            );
        } catch (error) {
            return this.failure(describePulumiFailure(`cannot read the history of stack ${this.name}`, error));
        }
    }

    async services(): Promise<ServiceState[]> {
        // The exported state holds each component's outputs as recorded; secrets stay encrypted and unread.
        return servicesOfState(await this.pulumiJson("state", ["stack", "export"]));
    }

    async config(): Promise<StackConfig> {
        const config = (await this.pulumiJson("config", ["config", "--json"])) as Record<string, { value?: unknown; objectValue?: unknown; secret?: boolean }>;
        return Object.fromEntries(
            Object.entries(config).flatMap(([key, entry]): [string, ConfigValue][] => {
                if (entry.secret || typeof entry.value !== "string") {
                    return [];
                }
                const object = entry.objectValue;
                return [[key, object !== null && typeof object === "object" && !Array.isArray(object) ? (object as Record<string, unknown>) : entry.value]];
            }),
        );
    }

    async editConfig(edit: ConfigEdit): Promise<void> {
        // Pulumi truncates and rewrites the file it edits (sdk/go/common/workspace/project.go
        // save), and removals and values take a run each: the edit goes into a copy beside the
        // file, renamed over it at the end, so a run killed at any moment leaves the file as it
        // was or as edited. Pulumi picks the format by extension, so the copy keeps it.
        const copy = this.besideConfig("edit");
        try {
            await copyFile(this.configPath, copy).catch((error: NodeJS.ErrnoException) => {
                if (error.code !== "ENOENT") {
                    throw error;
                }
            });
            // One pulumi run for all removals and one for all values, structured ones included.
            if (edit.remove.length > 0) {
                await this.pulumi(`remove ${edit.remove.join(", ")} from the config`, ["config", "rm-all", ...edit.remove, "--config-file", copy]);
            }
            const entries = Object.entries(edit.set);
            if (entries.length > 0) {
                const json = Object.fromEntries(
                    entries.map(([key, value]) =>
                        typeof value === "string" ? [key, { value, secret: false }] : [key, { value: JSON.stringify(value), objectValue: value, secret: false }],
                    ),
                );
                for (const batch of setAllBatches(json)) {
                    await this.pulumi(`set ${Object.keys(batch).join(", ")} in the config`, ["config", "set-all", "--json", JSON.stringify(batch), "--config-file", copy]);
                }
            }
            await rename(copy, this.configPath);
        } finally {
            await rm(copy, { force: true });
        }
    }

    /** A file beside the stack config, of the same extension (pulumi picks the format by it), for this process's `purpose`. */
    private besideConfig(purpose: string): string {
        const ext = path.extname(this.configPath);
        return path.join(path.dirname(this.configPath), `.${path.basename(this.configPath, ext)}.${process.pid}.${purpose}${ext}`);
    }

    async saveConfig(): Promise<SavedConfig> {
        const configPath = this.configPath;
        const saved = existsSync(configPath) ? readFileSync(configPath) : undefined;
        // As editConfig: a copy beside the file, renamed over it.
        const copy = this.besideConfig("restore");
        return {
            restore(): void {
                if (saved === undefined) {
                    rmSync(configPath, { force: true });
                    return;
                }
                writeFileSync(copy, saved);
                renameSync(copy, configPath);
            },
        };
    }

    async preview(onOutput: (text: string) => void, signal?: AbortSignal): Promise<Preview> {
        const asked = new Map<string, Asked>();
        const onEvent = (event: StepEvent): void => {
            const step = askedOfStep(event);
            if (step !== undefined) {
                asked.set(step.service, step.asked);
            }
        };
        try {
            const stack = await (this.automation ??= automationStack(this.place));
            return { changes: (await stack.preview({ diff: true, onOutput, onEvent, signal })).changeSummary, asked };
        } catch (error) {
            throw updateFailure(`pulumi preview of stack ${this.name} failed`, error);
        }
    }

    async up(message: string, onOutput: (text: string) => void, interrupts?: Interrupts): Promise<void> {
        // The CLI itself: the Automation API's up() then runs `pulumi stack output` and `pulumi
        // stack history` for a summary nobody reads here, about a second of every rollback.
        let pid: number | undefined;
        try {
            await streamed(
                PULUMI,
                ["up", "--yes", "--skip-preview", "--message", message, "--stack", this.name, "--cwd", this.place.workDir],
                onOutput,
                interrupts,
                (started) => (pid = started),
            );
        } catch (error) {
            if (interrupts?.received !== undefined && pid !== undefined) {
                await this.releaseOwnLock(pid);
            }
            throw updateFailure(`pulumi up of stack ${this.name} failed`, error);
        }
    }
}
