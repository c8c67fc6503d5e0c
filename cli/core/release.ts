// Choosing a release to return to from the history rows, and the config that pins it. Shared by
// rollback, drill and up --atomic, so they agree on what a target runs.

import type { ConfigEdit, StackConfig } from "./config";
import { RegistryError } from "../../components/registry/client";
import type { Context, ReleaseStack } from "./context";
import { CliError, ExitCode, usageError } from "./exitCodes";
import { repositoryOf, type UpdateRow } from "./history";
import { type DigestReference, parseDigestReference } from "./reference";
import { type Asked, describeAsked } from "../../components/release/pin";
import { type Pin, PINS_KEY, pinsOf, type ServiceState, withEntry } from "./services";

/**
 * `--to 12` or `--to #12` names update 12; anything else names a version, and the newest
 * successful update that ran it is the target. A version that is all digits (a git SHA can be)
 * is reached with `--to version=1234567`. A refusal of an update that did not succeed names the
 * history of `stack`, where the updates that did are.
 */
export function chooseRollbackTarget(stack: string, rows: readonly UpdateRow[], to: string): UpdateRow {
    const explicitVersion = /^version=(.+)$/.exec(to);
    const number = explicitVersion ? undefined : /^#?(\d+)$/.exec(to);
    let target: UpdateRow | undefined;
    if (number) {
        target = rows.find((row) => row.update === Number(number[1]));
        if (!target) {
            const count = new Set(rows.map((row) => row.update)).size;
            throw usageError(`no update #${number[1]} in this stack's history (it has ${count} update${count === 1 ? "" : "s"})`);
        }
    } else {
        const version = explicitVersion ? explicitVersion[1] : to;
        const candidates = rows.filter((row) => row.version === version);
        if (candidates.length === 0) {
            throw usageError(`no update in this stack's history ran version ${version}`);
        }
        target = candidates.find((row) => row.kind === "update" && row.result === "succeeded" && row.digest !== null);
        if (!target) {
            throw usageError(`version ${version} never ran successfully with a known digest (updates ${candidates.map((row) => `#${row.update}`).join(", ")})`);
        }
    }
    if (target.kind !== "update") {
        throw usageError(`update #${target.update} was a ${target.kind}, not an update; choose an update that deployed a version`);
    }
    if (target.result !== "succeeded") {
        const outcome = target.result === "failed" ? "failed" : `did not succeed (${target.result || "no result recorded"})`;
        throw new CliError(
            `update #${target.update} ${outcome}: roll back to an update that succeeded; \`released-service history --stack ${stack}\` lists them`,
            ExitCode.Usage,
            false,
        );
    }
    if (target.digest === null || target.version === null) {
        throw new CliError(
            `update #${target.update} has no recorded ${target.digest === null ? "digest" : "version"} (not pinned in config, and its state could not be read); nothing was changed`,
            ExitCode.NotOk,
        );
    }
    return target;
}

/** A row whose service and release are known: what a rollback can pin. */
export type Target = UpdateRow & { readonly service: string; readonly version: string; readonly digest: string };

/** What one update ran, for every service it is asked for: a release set comes back together. */
export interface ReleaseSet {
    readonly update: number;
    readonly targets: readonly Target[];
}

/** The row as a target, or undefined when its service, version or digest is unknown. */
export function asTarget(row: UpdateRow): Target | undefined {
    const { service, version, digest } = row;
    return service !== null && version !== null && digest !== null ? { ...row, service, version, digest } : undefined;
}

/** A chosen row as a target; a pin is keyed by the service's name, so an unknown one is refused. */
function target(row: UpdateRow): Target {
    const known = asTarget(row);
    if (known === undefined) {
        throw new CliError(`update #${row.update}'s state could not be read, so which service ran it is unknown; nothing was changed`, ExitCode.NotOk);
    }
    return known;
}

/**
 * Rows whose update's state could not be read name no service; in a stack of one service they can
 * only be that one's.
 */
export function attribute(rows: readonly UpdateRow[], known: readonly string[]): UpdateRow[] {
    return rows.map((row) => (row.service === null && known.length === 1 ? { ...row, service: known[0] } : row));
}

/** The services the rows name, in order. */
export function serviceNames(rows: readonly UpdateRow[]): string[] {
    return [...new Set(rows.flatMap((row) => (row.service === null ? [] : [row.service])))].sort();
}

/**
 * The release set `--to` names: update N's release of every service it ran (or of `service`
 * alone), or the newest successful update of a version, which belongs to one service.
 */
export function chooseReleaseSet(stack: string, rows: readonly UpdateRow[], to: string, service?: string): ReleaseSet {
    const mine = service === undefined ? rows : rows.filter((row) => row.service === service);
    const number = /^version=/.test(to) ? undefined : /^#?(\d+)$/.exec(to);
    if (number && service !== undefined && mine.every((row) => row.update !== Number(number[1])) && rows.some((row) => row.update === Number(number[1]))) {
        throw usageError(`update #${number[1]} ran no service ${service} (it ran ${serviceNames(rows.filter((row) => row.update === Number(number[1]))).join(", ")})`);
    }
    const byService = new Map<string | null, UpdateRow[]>();
    for (const row of mine) {
        byService.set(row.service, [...(byService.get(row.service) ?? []), row]);
    }
    if (number) {
        // Every service the update ran comes back; each must be a release it can return to.
        const ran = [...byService.values()].filter((own) => own.some((row) => row.update === Number(number[1])));
        const targets = (ran.length > 0 ? ran : [mine]).map((own) => target(chooseRollbackTarget(stack, own, to)));
        return { update: targets[0].update, targets };
    }
    const version = /^version=(.+)$/.exec(to)?.[1] ?? to;
    const ranIt = [...byService.entries()].filter(([, own]) => own.some((row) => row.version === version));
    if (ranIt.length > 1) {
        throw usageError(`version ${version} ran in several services (${ranIt.map(([name]) => name).join(", ")}): name one with --service`);
    }
    const chosen = target(chooseRollbackTarget(stack, ranIt[0]?.[1] ?? mine, to));
    return { update: chosen.update, targets: [chosen] };
}

/**
 * The services the stack declares that its update `set.update` did not run (declared since, for
 * one): a rollback of that update's whole release set leaves them as they are. None when --service
 * names the one to roll back.
 */
export function leftAsTheyAre(rows: readonly UpdateRow[], set: ReleaseSet, known: readonly string[], service: string | undefined): string[] {
    return service !== undefined ? [] : known.filter((name) => !rows.some((row) => row.update === set.update && row.service === name)).sort();
}

/** `service web, which update #4 did not run, is left as it is`, or the same of several. */
export function describeLeft(update: number, services: readonly string[]): string {
    const names = services.length === 1 ? services[0] : `${services.slice(0, -1).join(", ")} and ${services[services.length - 1]}`;
    return services.length === 1
        ? `service ${names}, which update #${update} did not run, is left as it is`
        : `services ${names}, which update #${update} did not run, are left as they are`;
}

/** `#4 (api v1.2.1 sha256:…, worker …)`. */
export function describeSet(set: ReleaseSet): string {
    return `#${set.update} (${set.targets.map((target) => `${target.service} ${target.version} ${target.digest}`).join(", ")})`;
}

/** The message the rollback's `pulumi up` records in history, so `history` shows what it restored. */
export function rollbackMessage(set: ReleaseSet): string {
    return `rollback to ${describeSet(set)}`;
}

/** What returning to `target` runs: the repository the service last recorded (else the target's) at the target's digest. */
export function targetReference(stack: string, current: readonly ServiceState[], target: Target): DigestReference {
    const image = repositoryOf(current.find((service) => service.name === target.service)?.imageRef) ?? target.image;
    if (!image) {
        throw new CliError(`stack ${stack} records no image for ${target.service} at update #${target.update} or now; nothing was changed`, ExitCode.Failure);
    }
    return parseDigestReference(`${image}@${target.digest}`);
}

/**
 * The config that runs the targets, other pins kept: a pin for each service, its version and exact
 * digest, the update they came from, and what the service's args ask (`asked`), so a later change of
 * those args is refused instead of hidden by the pin.
 */
export function pinEdit(stack: string, config: StackConfig, targets: readonly Target[], asked: (service: string) => Asked | undefined): ConfigEdit {
    let pins: Record<string, unknown> = { ...pinsOf(config) };
    for (const target of targets) {
        const args = asked(target.service);
        if (args === undefined) {
            throw new CliError(
                `the state of stack ${stack} does not record what service ${target.service}'s args ask (the input \`asked\` of its component; ` +
                    "is PULUMI_NODEJS_SKIP_COMPONENT_INPUTS set where it runs?), so a pin could not tell a change of them; nothing was changed",
                ExitCode.Failure,
            );
        }
        const pin: Pin = { version: target.version, digest: target.digest, update: target.update, asked: args };
        pins = withEntry(pins, target.service, { ...pin });
    }
    return { set: { [PINS_KEY]: pins }, remove: [] };
}

/**
 * The pins being set, other pins kept: as pinEdit's, without `asked` yet. The preview run with them
 * says what each service's args ask as the program evaluates now; completePins then records it.
 */
export function pendingPinEdit(config: StackConfig, targets: readonly Target[]): ConfigEdit {
    let pins: Record<string, unknown> = { ...pinsOf(config) };
    for (const target of targets) {
        const pin: Pin = { version: target.version, digest: target.digest, update: target.update };
        pins = withEntry(pins, target.service, { ...pin });
    }
    return { set: { [PINS_KEY]: pins }, remove: [] };
}

/** What each service's args ask, by name, as `states` recorded it. */
export function askedIn(states: readonly ServiceState[]): (service: string) => Asked | undefined {
    return (service) => states.find((state) => state.name === service)?.asked;
}

/**
 * What each target's args ask now: what the preview read from the program (`previewed`), else, for a
 * service it announced no step for, what `recorded` says they asked; those services are `fallback`.
 */
export function askedNow(
    previewed: ReadonlyMap<string, Asked>,
    recorded: readonly ServiceState[],
    targets: readonly Target[],
): { readonly asked: (service: string) => Asked | undefined; readonly fallback: readonly string[] } {
    const before = askedIn(recorded);
    return {
        asked: (service) => previewed.get(service) ?? before(service),
        fallback: targets.filter((target) => !previewed.has(target.service)).map((target) => target.service),
    };
}

/**
 * Completes the pins pendingPinEdit wrote, after the preview run with them: each records what its
 * service's args ask now, so the update runs with, and the config keeps, the intent of the moment
 * the pin was set, never an earlier update's. A service the preview said nothing of falls back to
 * what `recorded` (`where`: "the last update") says its args asked, and the command says so.
 */
export async function completePins(
    context: Context,
    stack: ReleaseStack,
    config: StackConfig,
    targets: readonly Target[],
    previewed: ReadonlyMap<string, Asked>,
    recorded: { readonly states: readonly ServiceState[]; readonly where: string },
): Promise<void> {
    const { asked, fallback } = askedNow(previewed, recorded.states, targets);
    const edit = pinEdit(stack.name, config, targets, asked);
    for (const service of fallback) {
        context.stdout.write(
            `The preview of stack ${stack.name} did not say what service ${service}'s args ask, so its pin records what they asked in ${recorded.where}: ` +
                `${describeAsked(asked(service)!)}.\n`,
        );
    }
    await stack.editConfig(edit);
}

/**
 * Whether `<image>@<digest>` can still be pulled; a refusing or unreachable registry is an error
 * that says nothing was changed.
 */
export async function manifestPresent(context: Context, reference: DigestReference): Promise<boolean> {
    context.progress.update(`Checking that ${reference.text} is still in its registry…`);
    try {
        return (await (await context.deps.registryClient()).manifestState(reference)) === "present";
    } catch (error) {
        if (error instanceof RegistryError) {
            throw new CliError(`cannot check that ${reference.text} is still pullable: ${error.message}; nothing was changed`, ExitCode.Failure);
        }
        throw error;
    } finally {
        context.progress.done();
    }
}
