// Which image a stack runs: the decision between pinning, promoting, building and
// looking up, kept apart from the resources that carry it out.

/** Where the digest that runs comes from. */
export type ReleaseSource =
    /** `digest` is set: exactly that image, nothing resolved. */
    | { readonly kind: "pinned"; readonly digest: string }
    /** `promoteFrom` is set: the `imageDigest` output of another stack. */
    | { readonly kind: "promoted"; readonly stack: string }
    /** The selected version is the source's own: the digest this stack's build pushed. */
    | { readonly kind: "built" }
    /** Any other version: the digest its tag has in the registry. */
    | { readonly kind: "looked-up" };

export interface Selection {
    readonly version?: string;
    readonly digest?: string;
    readonly promoteFrom?: string;
    readonly build: boolean;
    readonly sourceVersion?: string;
}

/** Chooses where the running digest comes from. A build only ever serves the source's own version. */
export function chooseSource(s: Selection): ReleaseSource {
    if (s.digest !== undefined) {
        return { kind: "pinned", digest: s.digest };
    }
    if (s.promoteFrom !== undefined) {
        return { kind: "promoted", stack: s.promoteFrom };
    }
    if (s.build && s.version !== undefined && s.version === s.sourceVersion) {
        return { kind: "built" };
    }
    return { kind: "looked-up" };
}

/**
 * Whether the stack declares the build of its current source. It does so whenever it may build,
 * whatever version runs: an unchanged source is then a no-op, so returning to the source's
 * version after a rollback finds the image it pushed before instead of building it again.
 * Promotion stacks run another stack's image and never build.
 */
export function declaresBuild(s: Selection): boolean {
    return s.build && s.promoteFrom === undefined;
}
