// Which image a stack runs: the decision between pinning, promoting, building and
// looking up, kept apart from the resources that carry it out.
import { SOURCE_DIGEST_LABEL } from "../labels";
import { DIGEST_PATTERN, normalizeDigest } from "../registry/reference";

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
 * Whether the stack plans the build of its current source: whenever it may build, whatever version
 * runs. The plan (planBuild) then decides from the registry whether anything is built at all.
 * Promotion stacks run another stack's image and never build.
 */
export function declaresBuild(s: Selection): boolean {
    return s.build && s.promoteFrom === undefined;
}

/** What a tag holds in the registry, as far as the build decision needs it. */
export interface TagHolding {
    readonly tag: string;
    readonly digest: string;
    /** The labels of the image it names. */
    readonly labels: Readonly<Record<string, string>>;
    /**
     * True when the stack's state says so, not the registry: the digest is then not proven to be
     * there still.
     */
    readonly recorded?: boolean;
}

/**
 * The stack's last build of a service as its state records it: the outputs of the Image that build
 * declared (its digest, and the labels it carried), named as what the stack's own tag holds. Undefined
 * when the state holds no such Image, or one that never pushed.
 */
export function recordedBuild(image: Readonly<Record<string, unknown>> | undefined, tag: string): TagHolding | undefined {
    const digest = typeof image?.digest === "string" ? normalizeDigest(image.digest) : "";
    const labels = image?.labels;
    if (!DIGEST_PATTERN.test(digest) || labels === null || typeof labels !== "object" || Array.isArray(labels)) {
        return undefined;
    }
    const strings = Object.entries(labels as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === "string");
    return { tag, digest, labels: Object.fromEntries(strings), recorded: true };
}

/** The build of the source, decided from the stack's last build, then from what its tags already hold. */
export type BuildPlan =
    /** The source's version has no tag yet: build and push. */
    | { readonly kind: "build" }
    /**
     * The stack's last build of this service is this very source: run its digest and keep its Image
     * declared, which the engine finds unchanged. Its build pushed the version's and the short SHA's
     * tags too, and a released tag never moves, so they are not asked about. `proven` when the
     * registry said so; when the state did, the digest is asked about before anything runs it.
     */
    | { readonly kind: "unchanged"; readonly digest: string; readonly proven: boolean }
    /**
     * The version's tag already holds this very source, but it is not this stack's last build: run
     * that digest and declare no Image. Declared, a return to an earlier source would be a change, a
     * rebuild and a push that moves the version's tag.
     */
    | { readonly kind: "reuse"; readonly digest: string }
    /** A tag holds other source: pushing would move it. */
    | { readonly kind: "refuse"; readonly holding: TagHolding };

/**
 * The plan when the stack's last build (what its state records, else what its stack tag names) carries
 * every label of ours, the source's digest, the stack, the service, the version and the revision among
 * them; else undefined, and the release tags are asked (planBuild). The state, or one question, answers
 * an update that builds nothing new: a no-change update, a roll forward to the source the stack built
 * last, and a rollback.
 */
export function planFromLastBuild(lastBuild: TagHolding | undefined, labels: Readonly<Record<string, string>>): BuildPlan | undefined {
    return lastBuild !== undefined && sameLabels(lastBuild.labels, labels)
        ? { kind: "unchanged", digest: lastBuild.digest, proven: lastBuild.recorded !== true }
        : undefined;
}

/**
 * Decides the build of a source that is not the stack's last build, from what the tags it would push
 * hold now (the version's tag first). A released tag never moves: a tag holding other source refuses
 * the build, before anything is pushed.
 */
export function planBuild(holdings: readonly (TagHolding | undefined)[], labels: Readonly<Record<string, string>>): BuildPlan {
    const sourceDigest = labels[SOURCE_DIGEST_LABEL];
    const moved = holdings.find((h) => h !== undefined && h.labels[SOURCE_DIGEST_LABEL] !== sourceDigest);
    if (moved !== undefined) {
        return { kind: "refuse", holding: moved };
    }
    const version = holdings[0];
    return version === undefined ? { kind: "build" } : { kind: "reuse", digest: version.digest };
}

/** Whether the image carries every label of ours as given; a base image may add labels of its own. */
function sameLabels(image: Readonly<Record<string, string>>, ours: Readonly<Record<string, string>>): boolean {
    return Object.keys(ours).every((key) => image[key] === ours[key]);
}

/**
 * A stack's hold on the digest a rollback put in place, recorded in its stack config: while it is
 * set, no update may run another image, so another deploy cannot undo the rollback.
 */
export interface ReleaseHold {
    /** The digest the stack keeps running, `sha256:<64 hex>`. */
    readonly digest: string;
    /** Who set the hold. */
    readonly by?: string;
    /** When the hold was set, as recorded (RFC 3339). */
    readonly at?: string;
    /** Why, e.g. the rollback that set it. */
    readonly reason?: string;
}

/** `sha256:… (why; set by whom at when)`, leaving out what the hold does not record. */
export function describeHold(hold: ReleaseHold): string {
    const who = [hold.by && `set by ${hold.by}`, hold.at && `at ${hold.at}`].filter(Boolean).join(" ");
    const details = [hold.reason, who].filter(Boolean).join("; ");
    return details ? `${hold.digest} (${details})` : hold.digest;
}

/**
 * Why a hold refuses an update of `service`, or undefined when the update runs the held digest.
 * `next.digest` is the digest the update would run: undefined for a new build, whose digest is not
 * known before it is pushed, so the refusal is decided in the preview too.
 */
export function holdRefusal(
    stack: string,
    service: string,
    hold: ReleaseHold,
    next: { readonly version: string; readonly digest?: string },
): string | undefined {
    if (next.digest === hold.digest) {
        return undefined;
    }
    const would = next.digest === undefined ? `build and run a new image of version ${next.version}` : `run ${next.digest} (version ${next.version})`;
    return (
        `stack ${stack} holds ${service} on ${describeHold(hold)}: this update would ${would}. The hold keeps a rollback from being ` +
        `undone by another deploy: lift it with \`released-service release-hold --stack ${stack} --service ${service}\`, or remove ` +
        `${service} from released-service:holds in the stack config, then run the update again. What runs was not changed.`
    );
}
