// Stack config as the commands change it: what a key holds, an edit of several keys at once,
// the edit that puts them back, and the lines that show a difference. Pure.

import { CONFIG_NAMESPACE } from "../../components/config/schema";

/** Every key this tool reads is in the component's config namespace: `released-service:<key>`. */
export function configKey(key: string): string {
    return `${CONFIG_NAMESPACE}:${key}`;
}

/** A plain config value: text, or a structured value such as `released-service:hold`. */
export type ConfigValue = string | { readonly [field: string]: unknown };

/** Plain config by full key (`released-service:version`); secret keys are never in it. */
export type StackConfig = Readonly<Record<string, ConfigValue>>;

/** Keys to set and keys to remove, applied together. */
export interface ConfigEdit {
    readonly set: Readonly<Record<string, ConfigValue>>;
    readonly remove: readonly string[];
}

export const NO_EDIT: ConfigEdit = { set: {}, remove: [] };

/** The text a key holds, or undefined when it is unset or structured. */
export function textOf(config: StackConfig, key: string): string | undefined {
    const value = config[configKey(key)];
    return typeof value === "string" ? value : undefined;
}

/** Text as it reads in the stack config file; structured values as compact JSON. */
export function show(value: ConfigValue): string {
    return typeof value === "string" ? value : JSON.stringify(sorted(value));
}

function sorted(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(sorted);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sorted((value as Record<string, unknown>)[key])]));
    }
    return value;
}

export function sameValue(a: ConfigValue | undefined, b: ConfigValue | undefined): boolean {
    return a === undefined || b === undefined ? a === b : show(a) === show(b);
}

/** The edit without the keys it would leave as they are. */
export function effectiveEdit(edit: ConfigEdit, before: StackConfig): ConfigEdit {
    return {
        set: Object.fromEntries(Object.entries(edit.set).filter(([key, value]) => !sameValue(before[key], value))),
        remove: edit.remove.filter((key) => before[key] !== undefined && edit.set[key] === undefined),
    };
}

export function isEmpty(edit: ConfigEdit): boolean {
    return Object.keys(edit.set).length === 0 && edit.remove.length === 0;
}

/** The edit that gives every key `edit` touches back the value it had in `before`. */
export function undoEdit(edit: ConfigEdit, before: StackConfig): ConfigEdit {
    const touched = [...Object.keys(edit.set), ...edit.remove];
    return {
        set: Object.fromEntries(touched.filter((key) => before[key] !== undefined).map((key) => [key, before[key]])),
        remove: touched.filter((key) => before[key] === undefined),
    };
}

/** One line per key the edit changes: `  key: old → new`, `+ key: new`, `- key: old`. */
export function describeEdit(edit: ConfigEdit, before: StackConfig): string[] {
    const lines = Object.entries(edit.set).map(([key, value]) =>
        before[key] === undefined ? `  + ${key}: ${show(value)}` : `  ~ ${key}: ${show(before[key])} → ${show(value)}`,
    );
    return [...lines, ...edit.remove.filter((key) => before[key] !== undefined).map((key) => `  - ${key}: ${show(before[key])}`)];
}
