// What every command does before it acts, as kubectl's Complete and Validate: open the stack, read
// what it records, refuse a --service it does not declare and entries the component would refuse,
// and, for a command that changes workloads, check that they can be reached, before anything is
// changed or asked of a registry or the user.

import type { Context, ReleaseStack } from "./context";
import { CliError, ExitCode } from "./exitCodes";
import { describeLock, type Unfinished } from "./state";
import type { StackConfig } from "./config";
import { buildRows, type HistoryEntry, type UpdateRow, updateNumbers } from "./history";
import { serviceNames } from "./release";
import { refuseUnreachable, workloadsToReach } from "./reach";
import { type ClusterCommand, refuseRendered } from "./rendered";
import { checkEntries, checkService, checkUniqueNames, holdsOf, pinsOf, type ServiceState } from "./services";

/** A stack ready to act on: its config and the services its latest state records. */
export interface Prepared {
    readonly stack: ReleaseStack;
    readonly config: StackConfig;
    readonly services: ServiceState[];
    /** The services' resource names. */
    readonly known: string[];
}

export interface PrepareOptions {
    readonly stack?: string;
    readonly service?: string;
    /**
     * `entries`: refuse pins and holds the component would refuse (a command that updates);
     * `lift`: a --service may also name a service the program no longer declares but a pin or hold does.
     */
    readonly check: "entries" | "lift" | "service";
    /** A command that applies to a cluster or reads from one: refused while the stack renders its manifests. */
    readonly cluster?: ClusterCommand;
}

/** Opens the stack and reads its config and services, refusing what the command must not act on. */
export async function prepare(context: Context, options: PrepareOptions): Promise<Prepared> {
    return (await prepareAlongside(context, options, async () => undefined)).prepared;
}

/**
 * `prepare`, with `alongside` run on the opened stack at the same time (what the command reads next,
 * such as its history and locks): its answer, once prepare's refusals, which come first, have passed.
 */
export async function prepareAlongside<T>(context: Context, options: PrepareOptions, alongside: (stack: ReleaseStack) => Promise<T>): Promise<{ prepared: Prepared; alongside: T }> {
    const stack = await context.deps.openStack(options.stack);
    const read = alongside(stack);
    read.catch(() => undefined);
    const prepared = await prepareOpened(context, stack, options);
    return { prepared, alongside: await read };
}

async function prepareOpened(context: Context, stack: ReleaseStack, options: PrepareOptions): Promise<Prepared> {
    if (options.cluster !== undefined) {
        refuseRendered(stack, options.cluster);
    }
    context.progress.update(`Reading the config and state of stack ${stack.name}…`);
    const [config, services] = await Promise.all([stack.config(), servicesOf(stack)]);
    context.progress.done();
    checkUniqueNames(stack.name, services);
    const known = services.map((service) => service.name);
    const named = options.check === "lift" ? [...new Set([...known, ...Object.keys(holdsOf(config)), ...Object.keys(pinsOf(config))])] : known;
    checkService(stack.name, options.service, named);
    if (options.check === "entries") {
        checkEntries(stack.name, config, known);
    }
    if (options.cluster !== undefined && options.cluster !== "status") {
        await refuseUnreachable(context, stack.name, options.cluster, workloadsToReach(stack.name, options.cluster, config, services, options.service));
    }
    return { stack, config, services, known };
}

/** How many updates back a service's last recorded outputs are looked for. */
const OUTPUTS_LOOKBACK = 10;

/**
 * The services the stack's latest state records, each with the outputs it last registered. An
 * update that fails after a service's args changed records the component's new input (what the
 * args asked) but not its outputs: the engine keeps a component's outputs only from a same step or
 * from the outputs the component registers, which wait for its workload. Those services' outputs
 * are the newest earlier state's that has them; what they asked, what their workload was last
 * told to run and where it was deployed stay the latest.
 */
export async function servicesOf(stack: ReleaseStack): Promise<ServiceState[]> {
    const services = await stack.services();
    if (services.every((service) => service.imageDigest !== undefined)) {
        return services;
    }
    const entries = await stack.history();
    const numbers = updateNumbers(entries).slice(0, OUTPUTS_LOOKBACK);
    const states = await stack.states.statesOf(entries, numbers);
    return services.map((service) => {
        if (service.imageDigest !== undefined) {
            return service;
        }
        const recorded = numbers.map((update) => states.get(update)?.find((old) => old.name === service.name && old.imageDigest !== undefined)).find((old) => old !== undefined);
        return recorded === undefined
            ? service
            : {
                  ...recorded,
                  ...(service.asked !== undefined ? { asked: service.asked } : {}),
                  ...(service.deployedImage !== undefined ? { deployedImage: service.deployedImage } : {}),
                  ...(service.origin !== undefined ? { origin: service.origin } : {}),
              };
    });
}

/** Opens the stack and reads `limit` rows of its history, refusing a --service no row names. */
export async function prepareHistory(context: Context, options: { readonly stack?: string; readonly service?: string; readonly limit?: number }): Promise<{ stack: ReleaseStack; rows: UpdateRow[] }> {
    const stack = await context.deps.openStack(options.stack);
    const all = (await loadHistory(context, stack, options.limit)).rows;
    if (options.service !== undefined) {
        checkService(stack.name, options.service, serviceNames(all));
    }
    return { stack, rows: all.filter((row) => options.service === undefined || row.service === options.service) };
}

/** The rows, newest first, the history entry of each by update number (for the config it ran with), and the state each recorded. */
export async function loadHistory(
    context: Context,
    stack: ReleaseStack,
    limit?: number,
): Promise<{ rows: UpdateRow[]; entries: ReadonlyMap<number, HistoryEntry>; states: ReadonlyMap<number, readonly ServiceState[]> }> {
    context.progress.update(`Reading the history of stack ${stack.name}…`);
    const entries = await stack.history();
    // Every shown update's state is read: it names the services that update ran.
    const numbers = updateNumbers(entries);
    const shown = numbers.slice(0, limit);
    if (shown.length > 0) {
        context.progress.update(`Reading the recorded state of ${shown.length} update${shown.length === 1 ? "" : "s"}…`);
    }
    const states = await stack.states.statesOf(entries, shown);
    context.progress.done();
    const rows = buildRows(entries, states).filter((row) => shown.includes(row.update));
    return { rows, entries: new Map(numbers.map((update, index) => [update, entries[index]])), states };
}

/** What an update that has not ended left on the stack's backend: nothing on a backend that keeps no lock where the command can read it. */
export async function unfinishedOf(context: Context, stack: ReleaseStack): Promise<Unfinished> {
    context.progress.update(`Looking for a lock on stack ${stack.name}…`);
    const unfinished = (await stack.states.unfinished?.()) ?? { where: "", locks: [], pending: [] };
    context.progress.done();
    return unfinished;
}

/**
 * Refuses to change a stack an update has locked, or a killed one left locked, naming the lock and
 * `pulumi cancel`, before anything is changed: the command's own pulumi up would only fail later
 * on the same lock.
 */
export async function refuseLocked(context: Context, stack: ReleaseStack): Promise<Unfinished> {
    const unfinished = await unfinishedOf(context, stack);
    const locked = describeLock(stack.name, unfinished);
    if (locked !== undefined) {
        throw new CliError(`${locked}\nnothing was changed`, ExitCode.Failure);
    }
    return unfinished;
}
