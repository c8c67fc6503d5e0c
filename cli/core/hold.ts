// The hold a rollback leaves: `released-service:hold` in the stack config records the digest the
// stack must keep running, who set it, when and why. The component refuses any update that would
// run another digest while it is set.

import { describeHold, type ReleaseHold } from "../../components/release/plan";
import type { StackConfig } from "./config";
import { configKey } from "./history";

export { describeHold };

export const HOLD_KEY = configKey("hold");

/** A hold as the stack config holds it: a plain object, so it can be written back as config. */
export type Hold = ReleaseHold & { readonly [field: string]: unknown };

/** The hold the config records, or undefined when none is set. */
export function holdOf(config: StackConfig): Hold | undefined {
    const value = config[HOLD_KEY];
    if (value === undefined || typeof value === "string" || typeof value.digest !== "string") {
        return undefined;
    }
    const text = (field: string): string | undefined => (typeof value[field] === "string" ? (value[field] as string) : undefined);
    return { digest: value.digest, by: text("by"), at: text("at"), reason: text("reason") };
}

export function newHold(digest: string, by: string, at: Date, reason: string): Hold {
    return { digest, by, at: at.toISOString().replace(/\.\d{3}Z$/, "Z"), reason };
}
