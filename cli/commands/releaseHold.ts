// `released-service release-hold`: lifts the holds and pins a rollback left (one service's, or every
// one), and says what the program's own args run next. Runs no update.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES_POINTER, flag, text } from "../core/command";
import type { ConfigEdit, StackConfig } from "../core/config";
import { answering, type Context } from "../core/context";
import { ExitCode } from "../core/exitCodes";
import { type HistoryEntry, pinned, type UpdateRow } from "../core/history";
import { shortDigest } from "../core/reference";
import { describeHold, type Hold, holdOf, HOLDS_KEY, holdsOf, type Pin, pinOf, PINS_KEY, pinsOf, withEntry } from "../core/services";
import { loadHistory, prepare } from "../core/prepare";
import { UpdateGuard } from "../core/interrupted";

const HELP = `Usage: released-service release-hold [--stack S] [--service NAME] [--json]

Lifts the hold a rollback set on a service (its entry in released-service:holds
in the stack config) and its pin (its entry in released-service:pins, also set
by rollback --no-hold and up --atomic), so updates run what the service's args
ask again: every service's, or with --service only that one's. Runs
no update.

It then says which release the program's own args ran last for each service
lifted: the newest successful update without a pin for it, from the stack's
history. That is what the next update runs unless the args changed since;
pulumi preview shows it for sure. Commit the stack config file afterwards.

--json prints {stack, configFile, lifted: [{service, hold, pin, lastFromArgs:
{update, version, digest}}]} on stdout (null for what is not there, lifted
empty when nothing was), and the rest on stderr.

Options:
      --service <name> lift only this service's hold and pin
      --json          print the result as JSON
${COMMON_HELP}

${EXIT_CODES_POINTER}
`;

export interface Lift {
    readonly service: string;
    readonly hold?: Hold;
    /** The pin removed with the hold, or alone (a rollback with --no-hold, an undone update). */
    readonly pin?: Pin;
}

/** The holds and pins to lift (one service's, or all) and the config edit that lifts them. Pure. */
export function liftEdit(config: StackConfig, service: string | undefined): { edit: ConfigEdit; lifts: Lift[] } {
    let holds: Record<string, unknown> = { ...holdsOf(config) };
    let pins: Record<string, unknown> = { ...pinsOf(config) };
    const lifts: Lift[] = [];
    const names = [...new Set([...Object.keys(holdsOf(config)), ...Object.keys(pinsOf(config))])].sort();
    for (const name of names.filter((name) => service === undefined || name === service)) {
        const hold = holdOf(config, name);
        const pin = pinOf(config, name);
        if (hold === undefined && pin === undefined) {
            continue;
        }
        holds = withEntry(holds, name, undefined);
        pins = withEntry(pins, name, undefined);
        lifts.push({ service: name, ...(hold !== undefined ? { hold } : {}), ...(pin !== undefined ? { pin } : {}) });
    }
    const entry = (key: string, value: Record<string, unknown>, before: Readonly<Record<string, unknown>>): ConfigEdit =>
        Object.keys(value).length === Object.keys(before).length
            ? { set: {}, remove: [] }
            : Object.keys(value).length === 0
              ? { set: {}, remove: [key] }
              : { set: { [key]: value }, remove: [] };
    const parts = [entry(HOLDS_KEY, holds, holdsOf(config)), entry(PINS_KEY, pins, pinsOf(config))];
    return {
        edit: {
            set: Object.assign({}, ...parts.map((part) => part.set)),
            remove: parts.flatMap((part) => part.remove),
        },
        lifts,
    };
}

/** `the hold … and its pin of v1.0.0 from update #3`, `the pin of v1.0.0 (sha256:…) from update #3`, or the hold alone. */
function describeLift(lift: Lift): string {
    const pin = lift.pin && `pin of ${lift.pin.version}${lift.hold === undefined ? ` (${lift.pin.digest})` : ""} from update #${lift.pin.update}`;
    if (lift.hold === undefined) {
        return `the ${pin}`;
    }
    return `the hold on ${describeHold(lift.hold)}${pin === undefined ? "" : ` and its ${pin}`}`;
}

/** The newest successful update that ran `service` from the program's own args (no pin for it). */
export function lastFromArgs(rows: readonly UpdateRow[], entries: ReadonlyMap<number, HistoryEntry>, service: string): UpdateRow | undefined {
    return rows.find(
        (row) =>
            row.service === service &&
            row.kind === "update" &&
            row.result === "succeeded" &&
            row.version !== null &&
            pinned(entries.get(row.update)!, service) === undefined,
    );
}

/** What `--json` prints: each hold and pin lifted, and what the program's args last ran for its service. */
export interface ReleaseHoldResult {
    readonly stack: string;
    readonly configFile: string;
    readonly lifted: {
        readonly service: string;
        readonly hold: Hold | null;
        readonly pin: Pin | null;
        readonly lastFromArgs: { readonly update: number; readonly version: string | null; readonly digest: string | null } | null;
    }[];
}

export async function releaseHold(context: Context, options: { readonly stack?: string; readonly service?: string }, report: (result: ReleaseHoldResult) => void): Promise<number> {
    // A hold or pin on a service the program no longer declares may be lifted by its name too.
    const { stack, config } = await prepare(context, { ...options, check: "lift" });
    const { edit, lifts } = liftEdit(config, options.service);
    if (lifts.length === 0) {
        context.progress.done();
        context.stdout.write(`Stack ${stack.name} has no hold or pin${options.service !== undefined ? ` on service ${options.service}` : ""}; nothing to do.\n`);
        report({ stack: stack.name, configFile: stack.configFile, lifted: [] });
        return ExitCode.Ok;
    }
    const guard = await UpdateGuard.open(context, stack);
    await guard.before(`release-hold of stack ${stack.name} stopped; ${stack.configFile} is as it was, and nothing was changed`, () => stack.editConfig(edit));
    const lifted = lifts.map((lift) => `${describeLift(lift)} of service ${lift.service}`).join(", ");
    guard.after(() => `release-hold of stack ${stack.name} had lifted ${lifted}; commit ${stack.configFile}`);
    const { rows, entries } = await loadHistory(context, stack);
    context.progress.done();
    const result: ReleaseHoldResult["lifted"] = [];
    for (const lift of lifts) {
        context.stdout.write(`Lifted ${describeLift(lift)} of service ${lift.service} in stack ${stack.name}.\n`);
        const last = lastFromArgs(rows, entries, lift.service);
        result.push({
            service: lift.service,
            hold: lift.hold ?? null,
            pin: lift.pin ?? null,
            lastFromArgs: last === undefined ? null : { update: last.update, version: last.version, digest: last.digest },
        });
        context.stdout.write(
            last
                ? `The program's own args last ran service ${lift.service} at ${last.version}${last.digest ? ` (${shortDigest(last.digest)})` : ""} in update #${last.update}, ` +
                      `the newest without a pin for it: the next update of stack ${stack.name} runs that unless the args changed since (pulumi preview --stack ${stack.name} shows it).\n`
                : `No recorded update of stack ${stack.name} ran service ${lift.service} from the program's own args: pulumi preview --stack ${stack.name} shows what the next update runs.\n`,
        );
    }
    context.stdout.write(`Updates of stack ${stack.name} run what the args ask again. Commit ${stack.configFile} so the hold and the pin are gone from git too.\n`);
    report({ stack: stack.name, configFile: stack.configFile, lifted: result });
    return ExitCode.Ok;
}

export const releaseHoldCommand: Command = {
    name: "release-hold",
    summary: "lift the hold and pin a rollback left",
    help: HELP,
    options: { ...COMMON_OPTIONS, service: { type: "string" }, json: { type: "boolean" } },
    run: (context, values) =>
        answering<ReleaseHoldResult>(context, flag(values, "json"), (answer, report) => releaseHold(answer, { stack: text(values, "stack"), service: text(values, "service") }, report)),
};
