// The build of a release: what the stack built last (its state says, else its own tag) and, when that
// is other source, what the source's tags already hold; then build and push, keep, reuse, or refuse; the docker-build Image
// when one is declared, and the digest that runs when it is the build's. Declared only once the
// registry has answered, so a refused build registers nothing.
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";

import { SOURCE_DIGEST_LABEL } from "../labels";
import type { RegistryClient } from "../registry/client";
import { normalizeDigest, registryHost, type RepositoryLocation, taggedRef } from "../registry/reference";
import { buildArgs, buildTags, ociLabels, stackTag } from "./image";
import { type BuildPlan, planBuild, planFromLastBuild, recordedBuild, type ReleaseSource, type TagHolding } from "./plan";
import type { Provenance } from "./provenance";
import { sourceDigest } from "./sourceDigest";
import { recordedChild } from "./stackState";

/** What the build reads of the checked args: the source, where it goes, and how to build it. */
export interface BuildInputs {
    readonly image: string;
    readonly context: string;
    readonly sourceVersion: string;
    readonly provenance?: Provenance;
    readonly builder?: string;
    readonly buildOnPreview?: boolean;
    readonly registryUsername?: pulumi.Input<string>;
    readonly registryPassword?: pulumi.Input<string>;
}

/** What the build shares with the rest of the resolution: one registry, its look-ups, its errors and the hold. */
export interface BuildContext {
    readonly registry: RegistryClient;
    readonly location: RepositoryLocation;
    /** The look-ups by tag; the build records what its tags held before it, for every other question. */
    readonly lookups: Map<string, Promise<string | undefined>>;
    readonly lookupError: (error: unknown, ref: string, nothingDone: string) => unknown;
    readonly fail: (message: string) => never;
    readonly refuseUnlessHeld: (next: { version: string; digest?: string }) => void;
}

/** The digest a build pushed, reuses or keeps, and whether the registry has shown it holds it (not when only the stack's state says so). */
export interface BuildDigest {
    readonly digest: string;
    readonly proven: boolean;
}

/** The build's answer: whether the image that runs is this update's push, and the digest it pushed or reuses. */
export interface DeclaredBuild {
    readonly built: pulumi.Output<boolean>;
    readonly digest: pulumi.Output<BuildDigest>;
}

/**
 * Declares the build of `inputs.context` for `service`, a child of `owner`: the release tags and the
 * stack's own tag, labelled with where the source came from.
 */
export function declareBuild(
    owner: pulumi.ComponentResource,
    service: string,
    inputs: BuildInputs,
    source: ReleaseSource,
    context: BuildContext,
): DeclaredBuild {
    const { image, sourceVersion, provenance } = inputs;
    const { registry, location, lookups, lookupError, fail, refuseUnlessHeld } = context;
    // A context with uncommitted changes is not the commit: its short SHA names other source.
    const releaseTags = buildTags(image, sourceVersion, provenance?.dirty === true ? undefined : provenance?.revision);
    const ownTag = stackTag(pulumi.getStack(), service);
    const tags = [...releaseTags, taggedRef(image, ownTag)];
    const labels = ociLabels(sourceVersion, provenance, {
        sourceDigest: sourceDigest(inputs.context),
        stack: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
        service,
    });
    // Resources are declared only once the registry has said what the tags hold: a build that
    // would move a released tag is refused before anything is registered or pushed. The stack's last
    // build comes first, from its state, else (no state, or no Image in it) from its own tag: when it
    // is this very source, nothing else about the build is asked.
    const asked = (tag: string, ref: string): Promise<TagHolding | undefined> =>
        registry.imageAt(location, tag).then(
            (held): TagHolding | undefined => held && { tag, ...held },
            (error: unknown) => {
                throw lookupError(error, ref, "Nothing was built or pushed.");
            },
        );
    const releaseHoldings = (): Promise<TagHolding | undefined>[] =>
        releaseTags.map((ref) => {
            const tag = ref.slice(image.length + 1);
            const found = asked(tag, ref);
            // What these tags held before the build answers every later question about them.
            if (!lookups.has(tag)) {
                lookups.set(tag, found.then((holding) => holding?.digest));
            }
            return found;
        });
    const imageName = `${service}-image`;
    const lastBuild = recordedChild(owner, "docker-build:index:Image", imageName).then(
        (recorded) => (recorded.read ? recordedBuild(recorded.outputs, ownTag) : undefined) ?? asked(ownTag, taggedRef(image, ownTag)),
    );
    const plan = lastBuild
        .then((last) => planFromLastBuild(last, labels) ?? decideBuild(image, releaseHoldings(), labels, fail))
        .then((p) => {
            // A new image to run has no digest before it is pushed: a hold refuses it from the plan,
            // so the preview fails too and nothing is built.
            if (source.kind === "built" && p.kind === "build") {
                refuseUnlessHeld({ version: sourceVersion });
            }
            return p;
        });
    const password = inputs.registryPassword === undefined ? undefined : pulumi.secret(inputs.registryPassword);
    const credentials =
        inputs.registryUsername === undefined || password === undefined ? undefined : { address: registryHost(image), username: inputs.registryUsername, password };
    const declared = plan.then((p) =>
        p.kind === "build" || p.kind === "unchanged"
            ? new dockerBuild.Image(
                  imageName,
                  {
                      push: true,
                      tags,
                      context: { location: inputs.context },
                      labels,
                      buildArgs: buildArgs(sourceVersion, provenance),
                      buildOnPreview: inputs.buildOnPreview ?? false,
                      builder: inputs.builder === undefined ? undefined : { name: inputs.builder },
                      registries: credentials === undefined ? undefined : [credentials],
                  },
                  {
                      parent: owner,
                      // A pushed release is somebody's rollback target: deleting this resource must
                      // leave the registry alone (docker-build deletes the tags otherwise).
                      retainOnDelete: true,
                  },
              )
            : undefined,
    );
    return {
        // `built` speaks of the image that runs: a rollback on a building stack may push the current
        // source (a version nobody released yet) while an earlier image runs.
        built: pulumi.output(plan.then((p) => source.kind === "built" && p.kind === "build")),
        digest: pulumi.output(
            Promise.all([plan, declared]).then(([p, pushed]) =>
                p.kind === "unchanged" || p.kind === "reuse"
                    ? pulumi.output({ digest: p.digest, proven: p.kind === "reuse" || p.proven })
                    : pushed!.digest.apply(pushedDigest),
            ),
        ),
    };
}

/** What each tag the build would push holds now, and so whether to build, reuse or refuse. */
async function decideBuild(
    image: string,
    tags: readonly Promise<TagHolding | undefined>[],
    labels: Readonly<Record<string, string>>,
    fail: (message: string) => never,
): Promise<BuildPlan> {
    const holdings = await Promise.all(tags);
    const plan = planBuild(holdings, labels);
    if (plan.kind === "refuse") {
        const { tag, digest } = plan.holding;
        const released = holdings[0]?.tag === tag ? `version ${tag} is already released as` : `tag ${tag} already names`;
        fail(
            `${released} ${taggedRef(image, tag)} = ${digest}, built from other source ` +
                `(${plan.holding.labels[SOURCE_DIGEST_LABEL] ?? "no source digest label"}; this source is ${labels[SOURCE_DIGEST_LABEL]}). ` +
                "A released version never moves: bump the version (VERSION in the build context), or delete VERSION to let the " +
                "commit SHA be the version. Nothing was built or pushed.",
        );
    }
    return plan;
}

/**
 * The digest a build pushed. docker-build answers a preview of a changed image with a known empty
 * digest (its Update returns early; only changed inputs are marked unknown), so in a preview an
 * empty digest means "computed by the update", never a value.
 */
function pushedDigest(digest: string): pulumi.Output<BuildDigest> {
    return digest === "" ? unknownUntilUpdate<BuildDigest>() : pulumi.output({ digest: normalizeDigest(digest), proven: true });
}

/** A value the engine shows as computed in a preview: the SDK's unknown, typed as what it stands for. */
function unknownUntilUpdate<T>(): pulumi.Output<T> {
    return pulumi.output(pulumi.unknown) as unknown as pulumi.Output<T>;
}
