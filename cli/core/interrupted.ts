// What an interrupt leaves a command that changes a stack (contract rule 17). Before its pulumi up
// the config goes back byte for byte and nothing was changed; during it pulumi is asked once to
// cancel, the command waits for it to end and says where the stack is; a second interrupt stops at
// once. The guard does the putting back; each command's words say what it left and what to run.

import type { Context, ReleaseStack, SavedConfig } from "./context";
import { Interrupted, type InterruptSignal, killedByInterrupt } from "./interrupt";

/** How long a step that an interrupt ended waits for this process to see the same interrupt. */
const INTERRUPT_ARRIVAL_MS = 1000;
import { shortDigest } from "./reference";
import type { Target } from "./release";
import type { ServiceState } from "./services";

/** How an interrupted pulumi up ended. */
export interface UpdateEnd {
    /** It succeeded: the update was done before the cancel took hold. */
    readonly completed: boolean;
    /** The digest each service's workload was told to run, as the state records it after the update; undefined when unreadable. */
    readonly deployed: ReadonlyMap<string, string | undefined> | undefined;
}

/** What the command says, and whether the saved config goes back, when an interrupt ends its update. */
export interface UpdateWords {
    /** When the first interrupt's cancel has ended pulumi up. */
    ended(end: UpdateEnd): { readonly line: string; readonly restore: boolean };
    /** When a second interrupt stops the command during pulumi up. */
    readonly killed: { readonly line: string; readonly restore: boolean };
}

/** The digest a service's workload was last told to run (its recorded image), by service. */
export function deployedDigestsOf(services: readonly Pick<ServiceState, "name" | "deployedImage">[]): Map<string, string | undefined> {
    return new Map(services.map((service) => [service.name, service.deployedImage?.includes("@") ? service.deployedImage.slice(service.deployedImage.lastIndexOf("@") + 1) : undefined]));
}

async function deployedDigests(stack: ReleaseStack): Promise<Map<string, string | undefined>> {
    return deployedDigestsOf(await stack.services());
}

/**
 * The phases of one command that changes a stack: steps before its update, the update, and what
 * comes after it, each answering an interrupt as contract rule 17 says.
 */
export class UpdateGuard {
    private constructor(
        private readonly context: Context,
        private readonly stack: ReleaseStack,
        private readonly saved: SavedConfig | undefined,
    ) {}

    /** Saves the stack config as it is now, to put it back; `false` for a command that edits none. */
    static async open(context: Context, stack: ReleaseStack, save = true): Promise<UpdateGuard> {
        return new UpdateGuard(context, stack, save ? await stack.saveConfig() : undefined);
    }

    /** Puts the config back as it was saved. */
    restore(): void {
        this.saved?.restore();
    }

    /**
     * A step before the update (a config edit, the preview, the question). An interrupt lets it end
     * (a config edit is one step), puts the config back and stops the command with `line`.
     */
    async before<T>(line: string, step: (signal: AbortSignal) => Promise<T>): Promise<T> {
        const interrupts = this.context.interrupts;
        const stop = (): string => {
            this.restore();
            return line;
        };
        let result: T;
        try {
            result = await interrupts.within({ waits: true, stop }, () => step(interrupts.signal));
        } catch (error) {
            if (error instanceof Interrupted) {
                throw error;
            }
            // A terminal's Ctrl-C reaches the pulumi the step ran too, which fails it, at times before
            // this process has seen the same signal: a step an interrupt ended waits a moment for it,
            // in a phase that waits, so that it stops here with the config put back.
            if (interrupts.received === undefined && killedByInterrupt(error)) {
                await interrupts.within({ waits: true, stop }, () => interrupts.arrival(INTERRUPT_ARRIVAL_MS));
            }
            if (interrupts.received === undefined) {
                throw error;
            }
            return this.stopped(interrupts.received, stop());
        }
        return interrupts.received === undefined ? result : this.stopped(interrupts.received, stop());
    }

    /**
     * pulumi up. The first interrupt is passed to pulumi, which cancels gracefully (operations in
     * flight finish, the checkpoint is written, the lock is released); when it has ended the command
     * stops, saying where the stack is. A second interrupt ends pulumi and the command at once.
     */
    async update(words: UpdateWords, up: () => Promise<void>): Promise<void> {
        const { interrupts, stderr, progress } = this.context;
        const stack = this.stack.name;
        const first = (signal: InterruptSignal): void => {
            progress.done();
            stderr.write(
                `${signal} received: pulumi is cancelling the update of stack ${stack}: operations in flight finish, its checkpoint is written and its lock released. ` +
                    "Interrupt again to stop at once, which may leave the lock.\n",
            );
        };
        const killed = (): string => {
            if (words.killed.restore) {
                this.restore();
            }
            return words.killed.line;
        };
        let completed = false;
        try {
            await interrupts.within({ waits: true, first, stop: killed }, up);
            completed = true;
        } catch (error) {
            if (error instanceof Interrupted || interrupts.received === undefined) {
                throw error;
            }
        }
        const signal = interrupts.received;
        if (signal === undefined) {
            return;
        }
        // pulumi has ended: reading where it left the stack takes a moment, which a second interrupt cuts short.
        const unread = (): string => {
            if (words.killed.restore) {
                this.restore();
            }
            return `pulumi up of stack ${stack} ended; stopped before reading where it left the stack: released-service status --stack ${stack} shows it`;
        };
        const deployed = await interrupts.within({ waits: true, stop: unread }, () => deployedDigests(this.stack)).catch(() => undefined);
        const { line, restore } = words.ended({ completed, deployed });
        if (restore) {
            this.restore();
        }
        return this.stopped(signal, line);
    }

    /** What comes after the update (waiting for instances, reading, printing): an interrupt stops at once with `line`. */
    after(line: () => string, restore = false): void {
        this.context.interrupts.enter({
            waits: false,
            stop: () => {
                if (restore) {
                    this.restore();
                }
                return line();
            },
        });
    }

    /** Like `after`, for one step only. */
    async during<T>(line: () => string, restore: boolean, step: () => Promise<T>): Promise<T> {
        return this.context.interrupts.within(
            {
                waits: false,
                stop: () => {
                    if (restore) {
                        this.restore();
                    }
                    return line();
                },
            },
            step,
        );
    }

    private stopped(signal: InterruptSignal, line: string): never {
        throw new Interrupted(signal, line);
    }
}

/** Rethrows an interrupt, so a command's own handling of a failed step does not take it for one. */
export function passOnInterrupt(error: unknown): void {
    if (error instanceof Interrupted) {
        throw error;
    }
}

/** `api v1.0.0 (sha256:…), worker w1 (sha256:…)` */
function releases(targets: readonly Pick<Target, "service" | "version" | "digest">[]): string {
    return targets.map((target) => `${target.service} ${target.version} (${shortDigest(target.digest)})`).join(", ");
}

/** Which targets' workloads run their target digest after an update, and which do not (unknown when unreadable). */
function arrived(targets: readonly Target[], deployed: UpdateEnd["deployed"]): { on: Target[]; off: Target[] } | undefined {
    if (deployed === undefined) {
        return undefined;
    }
    return { on: targets.filter((target) => deployed.get(target.service) === target.digest), off: targets.filter((target) => deployed.get(target.service) !== target.digest) };
}

/**
 * An update that pins `targets` (a rollback, --atomic's undo): cancelled before any workload moved,
 * the config goes back and nothing was changed; once one moved, the pins stay (as the command
 * writes them) and running the command again finishes it.
 */
export function pinningWords(options: {
    readonly stack: string;
    readonly configFile: string;
    /** `the rollback of stack dev` */
    readonly subject: string;
    readonly targets: readonly Target[];
    /** The command that does it again: `released-service rollback --to 1 --stack dev`. */
    readonly again: string;
    /** What to do once it completed: commit the file, lift the pin. */
    readonly completedNext: string;
    /** The line when the update was cancelled before any workload moved, when "nothing was changed" is not so. */
    readonly unmoved?: string;
}): UpdateWords {
    const { stack, configFile, subject, targets, again } = options;
    return {
        ended({ completed, deployed }) {
            if (completed) {
                return { restore: false, line: `${subject} completed before pulumi could cancel it: stack ${stack} runs ${releases(targets)}, and ${configFile} pins it; ${options.completedNext}` };
            }
            const where = arrived(targets, deployed);
            if (where === undefined) {
                return {
                    restore: false,
                    line:
                        `pulumi up of stack ${stack} was cancelled, and where it left the workloads could not be read; ${configFile} pins ${releases(targets)}. ` +
                        `released-service status --stack ${stack} shows what runs; ${again} --yes finishes ${subject}`,
                };
            }
            if (where.on.length === 0) {
                return {
                    restore: true,
                    line: options.unmoved ?? `pulumi up of stack ${stack} was cancelled before any workload changed: it runs what it ran before, ${configFile} is as it was, and nothing was changed; to do it after all: ${again}`,
                };
            }
            const moved = where.off.length === 0 ? `every workload moved to ${releases(where.on)}` : `${releases(where.on)} moved, while ${where.off.map((target) => target.service).join(", ")} did not`;
            return { restore: false, line: `pulumi up of stack ${stack} was cancelled after ${moved}; ${configFile} pins ${releases(targets)}: finish ${subject} with ${again} --yes` };
        },
        killed: {
            restore: false,
            line:
                `stopped at once during pulumi up of stack ${stack}, and pulumi with it: the stack's lock may be left, and each workload may run its old release or ${releases(targets)}, which ${configFile} pins. ` +
                `released-service status --stack ${stack} shows what every instance runs and names any lock left; once no update runs: pulumi cancel --stack ${stack} --yes, then ${again} --yes`,
        },
    };
}

/** What an interrupt says during one phase of a drill: before its pulumi up, during it, while its instances land. */
export interface DrillPhaseWords {
    readonly before: string;
    readonly update: UpdateWords;
    readonly landing: () => string;
}

/**
 * A drill stops at an interrupt: no other update starts. Whatever the phase, the stack config ends
 * as it began (the saved file goes back), so when the workload was moved the next update rolls it
 * forward, and the drill says so.
 */
export function drillWords(options: {
    readonly stack: string;
    readonly configFile: string;
    readonly phase: "rollback" | "roll forward";
    readonly services: readonly { readonly service: string; readonly from: Pick<Target, "version" | "digest">; readonly to: Pick<Target, "version" | "digest"> }[];
}): DrillPhaseWords {
    const { stack, configFile, phase, services } = options;
    const subject = `the drill of stack ${stack}`;
    const began = `${configFile} is as it began`;
    const forward = `released-service up --stack ${stack} --yes`;
    const on = (pick: "from" | "to", which = services): string => releases(which.map((service) => ({ service: service.service, ...service[pick] })));
    const status = `released-service status --stack ${stack}`;
    return {
        before:
            phase === "rollback"
                ? `${subject} stopped before its rollback's pulumi up; ${began}, and nothing was changed`
                : `${subject} stopped before its roll forward's pulumi up, after its rollback; ${began}, so the next update rolls forward: ${forward}`,
        update: {
            ended({ completed, deployed }) {
                const ended = `pulumi up of its ${phase} ${completed ? "completed" : "was cancelled"}`;
                if (deployed === undefined && !completed) {
                    return { restore: true, line: `${subject} stopped after ${ended}, and where it left the workloads could not be read; ${began}: ${status} shows what runs, and ${forward} rolls forward` };
                }
                // The services not on the release the drill began on, after this update.
                const away = completed ? (phase === "rollback" ? services : []) : services.filter((service) => deployed?.get(service.service) !== service.from.digest);
                if (away.length === 0) {
                    return {
                        restore: true,
                        line:
                            phase === "rollback"
                                ? `${subject} stopped: ${ended} before any workload changed; ${began}, and nothing was changed`
                                : `${subject} stopped after ${ended}: every service runs the release it began on (${on("from")}), and ${began}`,
                    };
                }
                return { restore: true, line: `${subject} stopped after ${ended}: ${on("to", away)} still run${away.length === 1 ? "s" : ""} the drill's rollback; ${began}, so the next update rolls forward: ${forward}` };
            },
            killed: {
                restore: true,
                line:
                    `stopped at once during pulumi up of the ${phase} of ${subject}, and pulumi with it: the stack's lock may be left, and each workload may run ${on("from")} or ${on("to")}; ${began}. ` +
                    `${status} shows what every instance runs and names any lock left; once no update runs: pulumi cancel --stack ${stack} --yes, then ${forward} rolls forward`,
            },
        },
        landing: () =>
            phase === "rollback"
                ? `${subject} stopped while its rollback landed: pulumi up had moved ${on("to")}; ${began}, so the next update rolls forward: ${forward}`
                : `${subject} stopped while its roll forward landed: pulumi up had returned ${on("from")}, and ${began}; ${status} shows whether every instance runs it`,
    };
}

/**
 * `released-service up`, with or without --atomic: it edits no config. An interrupt starts no
 * other update, --atomic's undo included; a workload the cancelled update changed is named with
 * the one command that finishes or reverses it.
 */
export function upWords(options: {
    readonly stack: string;
    /** Each service's recorded digest before the update. */
    readonly before: ReadonlyMap<string, string | undefined>;
    /** With --atomic, the rollback that returns to the last successful release; without, undefined. */
    readonly undo?: string;
}): UpdateWords {
    const { stack, before, undo } = options;
    const status = `released-service status --stack ${stack}`;
    const next = undo === undefined ? `to finish the update: released-service up --stack ${stack} --yes` : `--atomic starts no undo after an interrupt; to return to the last successful release: ${undo} --yes`;
    return {
        ended({ completed, deployed }) {
            if (completed) {
                return { restore: false, line: `the update of stack ${stack} completed before pulumi could cancel it; ${status} shows what runs` };
            }
            if (deployed === undefined) {
                return { restore: false, line: `pulumi up of stack ${stack} was cancelled, and where it left the workloads could not be read: ${status} shows what runs` };
            }
            const changed = [...deployed].filter(([service, digest]) => before.get(service) !== digest).map(([service]) => service);
            if (changed.length === 0) {
                return {
                    restore: false,
                    line: `pulumi up of stack ${stack} was cancelled before any workload changed: it runs what it ran before, and nothing was changed; to update after all: released-service up${undo === undefined ? "" : " --atomic"} --stack ${stack}`,
                };
            }
            return { restore: false, line: `pulumi up of stack ${stack} was cancelled after the workload of ${changed.join(", ")} changed; ${next}` };
        },
        killed: {
            restore: false,
            line:
                `stopped at once during pulumi up of stack ${stack}, and pulumi with it: the stack's lock may be left, and a workload may be half changed. ` +
                `${status} shows what every instance runs and names any lock left; once no update runs: pulumi cancel --stack ${stack} --yes, then ${undo === undefined ? `released-service up --stack ${stack}` : undo} --yes`,
        },
    };
}
