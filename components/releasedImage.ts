// ReleasedImage: a release and nothing else. Checks the inputs, applies its stack config entries,
// resolves which image runs (built once, or looked up, promoted or pinned, proven in its registry)
// and makes its digest an output, for the user's own resources to run. A ReleasedService is one of
// these plus one workload: the functions below are the one path a release takes in either.
import * as pulumi from "@pulumi/pulumi";

import { HOLDS, PINS, serviceEntries } from "./config/entries";
import { CONFIG_NAMESPACE, DEFAULT_CONTEXT } from "./config/schema";
import { describeProblems, inputProblems } from "./config/validate";
import { RELEASED_IMAGE_TYPE } from "./labels";
import { askedOf, pinOutcome } from "./release/pin";
import { sourceToBuild } from "./release/provenance";
import { type Release, type ReleaseArgs, type ReleaseInputs, resolveRelease } from "./release/resolve";

export { RELEASED_IMAGE_TYPE };

/** A release's args, checked, with its stack config entries applied; and the warning a holding pin gives. */
export interface CheckedRelease {
    readonly inputs: ReleaseInputs;
    readonly pinWarning?: string;
}

/**
 * The args with this release's stack config entries applied (a pin replaces the release to run, a
 * hold in the config replaces the args' hold), checked, with the build's context and provenance;
 * and, when a pin holds against unchanged args, the warning that says so. Throws before anything
 * is registered: a refused input registers nothing, not even the component.
 */
export function checkRelease(name: string, args: ReleaseArgs): CheckedRelease {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const { entries, problems: entryProblems } = serviceEntries(name, { pins: config.get(PINS), holds: config.get(HOLDS) });
    const pin = entries.pin;
    const pinned = pin === undefined ? args : { ...args, version: pin.version, digest: pin.digest, promoteFrom: undefined };
    const hold = entries.hold ?? args.hold;
    const problems = [...entryProblems, ...inputProblems({ name, ...pinned, hold }, pulumi.getOrganization())];
    if (problems.length > 0) {
        throw new pulumi.RunError(describeProblems(problems));
    }
    const outcome = pin === undefined ? undefined : pinOutcome(pulumi.getStack(), name, pin, askedOf(args), pulumi.runtime.isDryRun());
    if (outcome !== undefined && "refusal" in outcome) {
        throw new pulumi.RunError(outcome.refusal);
    }
    const pinWarning = outcome?.warning;
    const build = pinned.build ?? true;
    const context = pinned.context ?? DEFAULT_CONTEXT;
    if (!build) {
        return { inputs: { ...pinned, build, context, hold }, pinWarning };
    }
    const source = sourceToBuild(context, pinned.sourceVersion);
    if ("problem" in source) {
        throw new pulumi.RunError(source.problem);
    }
    return { inputs: { ...pinned, build, context, ...source, hold }, pinWarning };
}

/** The release a checked component runs, its build and look-ups children of `owner`; a holding pin warns on it. */
export function startRelease(owner: pulumi.ComponentResource, name: string, checked: CheckedRelease): Release {
    if (checked.pinWarning !== undefined) {
        void pulumi.log.warn(checked.pinWarning, owner);
    }
    return resolveRelease(owner, name, checked.inputs);
}

/**
 * One release of an image, by digest: builds and pushes it once (or looks it up, promotes or pins
 * it), proves the registry holds it, and outputs `imageRef` for any resource of any provider to run.
 * Its resource name is the service name `released-service` commands, pins and holds use.
 */
export class ReleasedImage extends pulumi.ComponentResource {
    /** The digest of the release, `sha256:…`. */
    public readonly imageDigest: pulumi.Output<string>;
    /** `<image>@sha256:…`: the reference a workload runs, so every version runs its own digest. */
    public readonly imageRef: pulumi.Output<string>;
    /** The release. */
    public readonly version: pulumi.Output<string>;
    /** True when this update built and pushed the image. */
    public readonly built: pulumi.Output<boolean>;

    constructor(name: string, args: ReleaseArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const checked = checkRelease(name, args);
        // What the args ask, pin or not, is the component's one input: the state records it at
        // registration, even of an update that fails, and a rollback's pin records it in turn.
        super(RELEASED_IMAGE_TYPE, name, { asked: askedOf(args) }, opts);
        const release = startRelease(this, name, checked);
        this.imageDigest = release.digest;
        this.imageRef = release.imageRef;
        this.version = release.version;
        this.built = release.built;
        this.registerOutputs({ imageDigest: this.imageDigest, imageRef: this.imageRef, version: this.version, built: this.built });
    }
}
