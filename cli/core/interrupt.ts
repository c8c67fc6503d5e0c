// Interrupts (SIGINT, SIGTERM) as state the commands read. The first is a request to stop that the
// command's current phase answers its own way (a step that changes the stack ends first); a second
// stops at once. cli/main.ts turns the process's signals into calls of `receive`; tests call it.

import { CliError, ExitCode } from "./exitCodes";

export type InterruptSignal = "SIGINT" | "SIGTERM";

export const INTERRUPT_SIGNALS: readonly InterruptSignal[] = ["SIGINT", "SIGTERM"];

/** The shells' exit code for a process a signal ended: 128 + its number. */
export function interruptExitCode(signal: InterruptSignal): ExitCode {
    return signal === "SIGINT" ? ExitCode.Interrupted : ExitCode.Terminated;
}

/** An interrupted command's last line: run() prints it as `interrupted (SIGINT): <message>`. */
export class Interrupted extends CliError {
    constructor(
        readonly signal: InterruptSignal,
        message: string,
    ) {
        super(message, interruptExitCode(signal));
        this.name = "Interrupted";
    }
}

/** What an interrupt does during one phase of a command. */
export interface Phase {
    /**
     * Whether the first interrupt lets the phase's step end, the command answering it then (a config
     * edit, a preview, pulumi up); otherwise the command stops at once.
     */
    readonly waits: boolean;
    /** At the first interrupt of a phase that waits: says what the command waits for. */
    first?(signal: InterruptSignal): void;
    /**
     * When the command stops at once (the first interrupt of a phase that does not wait, or a second
     * one): puts back what can be put back synchronously, and returns the command's last line.
     */
    stop(signal: InterruptSignal): string;
}

/** Where a command stopped at once: the line run() prints, and the exit code. */
export interface Stop {
    readonly signal: InterruptSignal;
    readonly line: string;
}

/** Until a command says otherwise, an interrupt stops it at once: nothing has been changed yet. */
const NOTHING_CHANGED: Phase = { waits: false, stop: () => "stopped; nothing was changed" };

export class Interrupts {
    private readonly controller = new AbortController();
    private readonly listeners = new Set<(signal: InterruptSignal, count: number) => void>();
    private readonly phases: Phase[] = [];
    private outside: Phase = NOTHING_CHANGED;
    private settle: (stop: Stop) => void = () => undefined;
    private stop: Stop | undefined;
    /** Resolves when the command must stop at once, with its last line. */
    readonly stopped: Promise<Stop>;
    /** The first interrupt's signal, once one came. */
    received: InterruptSignal | undefined;
    /** How many interrupts came. */
    count = 0;

    constructor() {
        this.stopped = new Promise((resolve) => {
            this.settle = resolve;
        });
    }

    /** Aborted at the first interrupt, for what takes an AbortSignal (a preview, a question). */
    get signal(): AbortSignal {
        return this.controller.signal;
    }

    /** The phase outside any other: run() names the command in its line. */
    setOutside(phase: Phase): void {
        this.outside = phase;
    }

    /** Calls `listener` at every interrupt from now until the returned function is called. */
    listen(listener: (signal: InterruptSignal, count: number) => void): () => void {
        this.listeners.add(listener);
        return () => {
            this.listeners.delete(listener);
        };
    }

    receive(signal: InterruptSignal): void {
        if (this.stop !== undefined) {
            return;
        }
        this.count += 1;
        const first = this.count === 1;
        this.received ??= signal;
        for (const listener of [...this.listeners]) {
            listener(signal, this.count);
        }
        const phase = this.phases.at(-1) ?? this.outside;
        if (first) {
            this.controller.abort();
            if (phase.waits) {
                phase.first?.(signal);
                return;
            }
        }
        this.stop = { signal: this.received, line: phase.stop(this.received) };
        this.settle(this.stop);
    }

    /** The first interrupt, once it has arrived, or undefined when none has within `ms`. */
    arrival(ms: number): Promise<InterruptSignal | undefined> {
        if (this.received !== undefined) {
            return Promise.resolve(this.received);
        }
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                stop();
                resolve(this.received);
            }, ms);
            const stop = this.listen((signal) => {
                clearTimeout(timer);
                stop();
                resolve(signal);
            });
        });
    }

    /** Whether the command stopped at once (it is being abandoned). */
    get hasStopped(): boolean {
        return this.stop !== undefined;
    }

    /** Enters `phase` until the returned function is called (or the command ends). */
    enter(phase: Phase): () => void {
        if (this.stop !== undefined) {
            throw new Interrupted(this.stop.signal, this.stop.line);
        }
        this.phases.push(phase);
        return () => {
            const index = this.phases.lastIndexOf(phase);
            if (index >= 0) {
                this.phases.splice(index, 1);
            }
        };
    }

    /**
     * Runs `step` in `phase`. Refuses to start it once the command stopped: a command abandoned at
     * an interrupt must not go on to change anything.
     */
    async within<T>(phase: Phase, step: () => Promise<T>): Promise<T> {
        const leave = this.enter(phase);
        try {
            return await step();
        } finally {
            leave();
        }
    }
}

/** Whether a child process was ended by an interrupt: the Automation API says "Command was killed with SIGINT". */
export function killedByInterrupt(error: unknown): boolean {
    const signal = (error as { signal?: unknown } | undefined)?.signal;
    return (typeof signal === "string" && (INTERRUPT_SIGNALS as readonly string[]).includes(signal)) || /\bkilled with SIG(INT|TERM)\b/.test(String((error as Error | undefined)?.message ?? error));
}

/** Turns the process's SIGINT and SIGTERM into `interrupts`, instead of Node's default of dying; returns the function that stops. */
export function listenForSignals(interrupts: Interrupts, target: Pick<NodeJS.Process, "on" | "removeListener"> = process): () => void {
    const handlers = INTERRUPT_SIGNALS.map((signal) => [signal, () => interrupts.receive(signal)] as const);
    for (const [signal, handler] of handlers) {
        target.on(signal, handler);
    }
    return () => {
        for (const [signal, handler] of handlers) {
            target.removeListener(signal, handler);
        }
    };
}

/**
 * Runs one verb until it ends or an interrupt stops it at once (thrown as Interrupted, with the
 * line that says what it left). Before the verb takes over a phase, an interrupt changes nothing.
 */
export async function untilStopped<T>(interrupts: Interrupts, verb: string, body: () => Promise<T>): Promise<T> {
    interrupts.setOutside({ waits: false, stop: () => `released-service ${verb} stopped; nothing was changed` });
    // A verb stopped at once is abandoned where it is; the process that ran it exits.
    const running = body();
    const stopped = interrupts.stopped.then((stop): never => {
        throw new Interrupted(stop.signal, stop.line);
    });
    running.catch(() => undefined);
    stopped.catch(() => undefined);
    return Promise.race([running, stopped]);
}
