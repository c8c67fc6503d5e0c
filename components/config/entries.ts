// The per-service entries the component reads from its own config namespace, whatever the program:
// `pins` (run exactly this release) and `holds` (run nothing else), keyed by the service's resource
// name. `released-service rollback` writes them; any program gets rollback and holds without code.
import type { ReleaseHold } from "../release/plan";
import { digestProblem, tagProblem } from "../registry/reference";
import { CONFIG_NAMESPACE, got } from "./schema";
import { holdProblems } from "./validate";

export const PINS_KEY = "pins";
export const HOLDS_KEY = "holds";

/** The release a pin names: exactly this version's digest runs. */
export interface Pin {
    readonly version: string;
    readonly digest: string;
}

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
    const pin = entry(PINS_KEY, config.pins);
    const hold = entry(HOLDS_KEY, config.holds);
    if (pin !== undefined) {
        problems.push(...pinProblems(pin, `${CONFIG_NAMESPACE}:${PINS_KEY}.${service}`));
    }
    if (hold !== undefined) {
        problems.push(...holdProblems(hold, `${CONFIG_NAMESPACE}:${HOLDS_KEY}.${service}`));
    }
    return problems.length > 0 ? { entries: {}, problems } : { entries: { pin: pin as Pin | undefined, hold: hold as ReleaseHold | undefined }, problems };
}

/** Every problem with a pin: an object with a `version` tag and a `digest`, nothing else. */
export function pinProblems(pin: unknown, field: string): string[] {
    if (pin === null || typeof pin !== "object" || Array.isArray(pin)) {
        return [`\`${field}\` must be an object with \`version\` and \`digest\` (got ${got(pin)})`];
    }
    const values = pin as Readonly<Record<string, unknown>>;
    const problems = Object.keys(values)
        .filter((key) => key !== "version" && key !== "digest")
        .map((key) => `\`${field}.${key}\` is not a field of a pin (known: version, digest)`);
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
    return problems;
}
