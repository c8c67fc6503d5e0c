// The per-service entries the component reads from its own config namespace, whatever the program:
// `pins` (run exactly this release) and `holds` (run nothing else), keyed by the service's resource
// name. `released-service rollback` writes them; any program gets rollback and holds without code.
import { ASKED_FIELDS, type Pin } from "../release/pin";
import type { ReleaseHold } from "../release/plan";
import { digestProblem, tagProblem } from "../registry/reference";
import { CONFIG_NAMESPACE, got } from "./schema";
import { holdProblems } from "./validate";

/** The entries' names in the component's config namespace: the stack config keys are `released-service:pins` and `released-service:holds`. */
export const PINS = "pins";
export const HOLDS = "holds";

export interface ServiceEntries {
    readonly pin?: Pin;
    readonly hold?: ReleaseHold;
}

/** The entries of one service, or every problem with them, each naming `released-service:<key>.<service>…`. */
export function serviceEntries(
    service: string,
    config: { readonly pins?: string; readonly holds?: string },
): { readonly entries: ServiceEntries; readonly problems: readonly string[] } {
    const problems: string[] = [];
    const entry = (key: string, text: string | undefined): unknown => {
        if (text === undefined) {
            return undefined;
        }
        const field = `${CONFIG_NAMESPACE}:${key}`;
        let value: unknown;
        try {
            value = JSON.parse(text);
        } catch {
            problems.push(`\`${field}\` must be an object keyed by service name (got ${got(text)})`);
            return undefined;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            problems.push(`\`${field}\` must be an object keyed by service name (got ${got(value)})`);
            return undefined;
        }
        return (value as Record<string, unknown>)[service];
    };
    const pin = entry(PINS, config.pins);
    const hold = entry(HOLDS, config.holds);
    if (pin !== undefined) {
        problems.push(...pinProblems(pin, `${CONFIG_NAMESPACE}:${PINS}.${service}`));
    }
    if (hold !== undefined) {
        problems.push(...holdProblems(hold, `${CONFIG_NAMESPACE}:${HOLDS}.${service}`));
    }
    return problems.length > 0 ? { entries: {}, problems } : { entries: { pin: pin as Pin | undefined, hold: hold as ReleaseHold | undefined }, problems };
}

/** Every problem with a pin: `version`, `digest`, the `update` it came from and what the args `asked` then, nothing else. */
export function pinProblems(pin: unknown, field: string): string[] {
    if (pin === null || typeof pin !== "object" || Array.isArray(pin)) {
        return [`\`${field}\` must be an object with \`version\`, \`digest\`, \`update\` and \`asked\` (got ${got(pin)})`];
    }
    const values = pin as Readonly<Record<string, unknown>>;
    const problems = Object.keys(values)
        .filter((key) => !PIN_FIELDS.includes(key))
        .map((key) => `\`${field}.${key}\` is not a field of a pin (known: ${PIN_FIELDS.join(", ")})`);
    for (const [key, check] of [
        ["version", tagProblem],
        ["digest", digestProblem],
    ] as const) {
        const value = values[key];
        const problem = value === undefined ? "is required" : typeof value !== "string" ? `must be a string (got ${got(value)})` : check(value);
        if (problem !== undefined) {
            problems.push(`\`${field}.${key}\` ${problem}`);
        }
    }
    const update = values.update;
    if (update === undefined) {
        problems.push(`\`${field}.update\` is required: the number of the update whose release the pin runs`);
    } else if (typeof update !== "number" || !Number.isInteger(update) || update < 1) {
        problems.push(`\`${field}.update\` must be an update number, an integer from 1 (got ${got(update)})`);
    }
    problems.push(...askedProblems(values.asked, `${field}.asked`));
    return problems;
}

const PIN_FIELDS: readonly string[] = ["version", "digest", "update", "asked"];

/**
 * Every problem with what a pin records the args asked: each release field they set, as they set it.
 * None yet is no problem: the pin is being set (components/release/pin.ts).
 */
function askedProblems(asked: unknown, field: string): string[] {
    if (asked === undefined) {
        return [];
    }
    if (asked === null || typeof asked !== "object" || Array.isArray(asked)) {
        return [`\`${field}\` must be an object with the args' \`version\`, \`digest\` or \`promoteFrom\` (got ${got(asked)})`];
    }
    const fields: readonly string[] = ASKED_FIELDS;
    return Object.entries(asked).flatMap(([key, value]) =>
        !fields.includes(key)
            ? [`\`${field}.${key}\` is not a release field of the args (known: ${fields.join(", ")})`]
            : typeof value !== "string"
              ? [`\`${field}.${key}\` must be a string (got ${got(value)})`]
              : [],
    );
}
