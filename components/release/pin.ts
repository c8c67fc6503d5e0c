// A pin: the release a rollback puts in place of what a service's args ask, and what they asked when
// it was set. A later change of those args is a change of intent the pin must not hide. Pure.

/** What a service's args ask to run: its release fields as the args say them. */
export interface Asked {
    readonly version?: string;
    readonly digest?: string;
    readonly promoteFrom?: string;
}

/** The fields of `Asked`, in the order they are described. */
export const ASKED_FIELDS = ["version", "digest", "promoteFrom"] as const;

/** A pin: exactly this release runs, the one update `update` ran, set while the args asked `asked`. */
export interface Pin {
    readonly version: string;
    readonly digest: string;
    readonly update: number;
    readonly asked: Asked;
}

/** The release fields the args set, and no others. */
export function askedOf(args: Asked): Asked {
    return Object.fromEntries(ASKED_FIELDS.flatMap((field) => (args[field] === undefined ? [] : [[field, args[field]]])));
}

/** `version 2.0.0`, `version 2.0.0 and digest sha256:…`, or `no release` when the args set none. */
export function describeAsked(asked: Asked): string {
    const parts = ASKED_FIELDS.flatMap((field) => (asked[field] === undefined ? [] : [`${field} ${asked[field]}`]));
    return parts.length === 0 ? "no release" : parts.join(" and ");
}

function sameAsked(a: Asked, b: Asked): boolean {
    return ASKED_FIELDS.every((field) => a[field] === b[field]);
}

/**
 * What a pin does to an update of `service` whose args ask `asked`: with the args unchanged since the
 * pin was set it holds and says so; with args that ask another release it refuses the update, since
 * running the pin would hide that change and running the args would silently undo the rollback.
 */
export function pinOutcome(stack: string, service: string, pin: Pin, asked: Asked): { readonly refusal: string } | { readonly warning: string } {
    const lift = `\`released-service release-hold --stack ${stack} --service ${service}\``;
    const pinned = `version ${pin.version} (${pin.digest}) from update #${pin.update}`;
    if (!sameAsked(pin.asked, asked)) {
        return {
            refusal:
                `service ${service} is pinned to ${pinned}, set when its args asked for ${describeAsked(pin.asked)}; they now ask for ` +
                `${describeAsked(asked)}. The pin would hide that change, so nothing was changed: lift the pin with ${lift} to run ` +
                `what the args ask, or set them back to ${describeAsked(pin.asked)} to keep it.`,
        };
    }
    return {
        warning: `service ${service} is held on its pinned release, ${pinned}, while its args still ask for ${describeAsked(asked)}; lift the pin with ${lift} to run what they ask.`,
    };
}
