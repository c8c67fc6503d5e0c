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

/**
 * A pin: exactly this release runs, the one update `update` ran, set while the args asked `asked`.
 * A pin being set has no `asked` yet: the command that sets it reads what the args ask from the
 * preview it runs with the pin, then records it, before any update runs.
 */
export interface Pin {
    readonly version: string;
    readonly digest: string;
    readonly update: number;
    readonly asked?: Asked;
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
 * A pin being set (no `asked` yet) holds in a preview, which is where its command reads `asked`; an
 * update cannot tell a change of the args against it, so it refuses (a command killed mid-way left it).
 */
export function pinOutcome(
    stack: string,
    service: string,
    pin: Pin,
    asked: Asked,
    preview: boolean,
): { readonly refusal: string } | { readonly warning: string } {
    const lift = `\`released-service release-hold --stack ${stack} --service ${service}\``;
    const pinned = `version ${pin.version} (${pin.digest}) from update #${pin.update}`;
    if (pin.asked === undefined) {
        return preview
            ? {
                  warning:
                      `service ${service} is held on its pinned release, ${pinned}, which is being set: its args ask for ${describeAsked(asked)}, ` +
                      "which the command setting the pin records in it before its update runs.",
              }
            : {
                  refusal:
                      `service ${service} is pinned to ${pinned}, but the pin does not record what its args asked when it was set (\`asked\`: the command ` +
                      `setting it stopped before recording it), so a change of them cannot be told; nothing was changed: set the pin's \`asked\` to ` +
                      `what the args ask now (${describeAsked(asked)}) to keep it, or lift it with ${lift}.`,
              };
    }
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
