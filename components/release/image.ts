// What a build of the source carries: the tags it pushes, its OCI labels and its build arguments.
import { SERVICE_LABEL, SOURCE_DIGEST_LABEL, STACK_LABEL } from "../labels";
import { taggedRef } from "../registry/reference";
import { type Provenance, SHORT_SHA_LENGTH } from "./provenance";


/**
 * The tag a service's builds in one stack move to every image they push: not a release, but the
 * registry's note of which build this service's state holds, read to tell an unchanged source from a
 * return to an old one. Named per service, so services sharing a repository and a stack never share it.
 */
export function stackTag(stack: string, service: string): string {
    return `stack.${stack}.${service}`;
}

/** `<image>:<version>`, and `<image>:<short sha>` when the source's commit is known. */
export function buildTags(image: string, sourceVersion: string, revision?: string): string[] {
    const tags = [taggedRef(image, sourceVersion)];
    const sha = revision?.slice(0, SHORT_SHA_LENGTH);
    if (sha !== undefined && sha !== sourceVersion) {
        tags.push(taggedRef(image, sha));
    }
    return tags;
}

/** Who built an image: the source's digest, the stack (`<organization>/<project>/<stack>`) and the service. */
export interface BuildIdentity {
    readonly sourceDigest: string;
    readonly stack: string;
    readonly service: string;
}

/** OCI annotations baked into the image; only what the source says, so they never change by themselves. */
export function ociLabels(sourceVersion: string, provenance?: Pick<Provenance, "revision" | "created" | "source">, identity?: BuildIdentity): Record<string, string> {
    const labels: Record<string, string> = { "org.opencontainers.image.version": sourceVersion };
    if (identity !== undefined) {
        labels[SOURCE_DIGEST_LABEL] = identity.sourceDigest;
        labels[STACK_LABEL] = identity.stack;
        labels[SERVICE_LABEL] = identity.service;
    }
    if (provenance?.revision !== undefined) labels["org.opencontainers.image.revision"] = provenance.revision;
    if (provenance?.created !== undefined) labels["org.opencontainers.image.created"] = provenance.created;
    if (provenance?.source !== undefined) labels["org.opencontainers.image.source"] = provenance.source;
    return labels;
}

/**
 * Build arguments every build receives: the release for the service to report, and
 * SOURCE_DATE_EPOCH so BuildKit stamps layers with the commit's time, not the clock's.
 */
export function buildArgs(sourceVersion: string, provenance?: { revision?: string; created?: string }): Record<string, string> {
    const args: Record<string, string> = { RELEASE_VERSION: sourceVersion };
    if (provenance?.revision !== undefined) args.RELEASE_REVISION = provenance.revision;
    if (provenance?.created !== undefined) {
        args.SOURCE_DATE_EPOCH = String(Math.floor(Date.parse(provenance.created) / 1000));
    }
    return args;
}
