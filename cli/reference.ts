// Digest references (`repo@sha256:…`) as the registry API needs them: which host to ask,
// which repository path, which digest. Kept apart so verify, status and rollback agree.

import { DIGEST_PATTERN, splitRepository } from "../components/reference";
import { usageError } from "./exitCodes";

export { DIGEST_PATTERN };

/** Docker Hub is named `docker.io` in references but served from another host. */
const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

export interface DigestReference {
    /** The reference as the user wrote it, for messages. */
    readonly text: string;
    /** Host (and port) the registry API is served from. */
    readonly registry: string;
    /** Repository path inside the registry, e.g. `payment-api` or `library/nginx`. */
    readonly repository: string;
    /** `sha256:` and 64 hex digits. */
    readonly digest: string;
}

/** Splits `repo@sha256:…`; a tag before the `@` is allowed and ignored, as Docker does. */
export function parseDigestReference(text: string): DigestReference {
    const at = text.lastIndexOf("@");
    if (at <= 0) {
        throw usageError(`\`${text}\` is not a digest reference: expected <repository>@sha256:<64 hex>`);
    }
    const digest = text.slice(at + 1);
    if (!DIGEST_PATTERN.test(digest)) {
        throw usageError(`\`${text}\` has an invalid digest: expected sha256: followed by 64 lower-case hex digits`);
    }
    let name = text.slice(0, at);
    const lastSlash = name.lastIndexOf("/");
    const tagColon = name.lastIndexOf(":");
    if (tagColon > lastSlash) {
        name = name.slice(0, tagColon);
    }
    const { registry, repository } = splitName(name);
    return { text, registry, repository, digest };
}

/** Where the registry API for a repository name is served, and the repository's path there. */
export function splitName(name: string): { registry: string; repository: string } {
    const { host, path } = splitRepository(name);
    const registry = host === undefined || host === DOCKER_HUB || host === "index.docker.io" ? DOCKER_HUB_API : host;
    return { registry, repository: hubPath(registry, path) };
}

function hubPath(registry: string, path: string): string {
    return registry === DOCKER_HUB_API && !path.includes("/") ? `library/${path}` : path;
}

/**
 * The manifest digest a pod's `imageID` names. Runtimes write `docker-pullable://repo@sha256:…`
 * (dockershim) or `repo@sha256:…` (containerd, CRI-O); a bare `sha256:…` is a local image ID, not
 * a registry digest, so it says nothing about what was pulled.
 */
export function digestOfImageId(imageId: string): string | undefined {
    const at = imageId.lastIndexOf("@");
    if (at < 0) {
        return undefined;
    }
    const digest = imageId.slice(at + 1);
    return DIGEST_PATTERN.test(digest) ? digest : undefined;
}

/** A short form of a digest for tables: `sha256:` and the first 12 hex digits. */
export function shortDigest(digest: string): string {
    return DIGEST_PATTERN.test(digest) ? digest.slice(0, "sha256:".length + 12) : digest;
}
