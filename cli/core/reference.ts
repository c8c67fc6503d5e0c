// Digest references (`repo@sha256:…`) as the registry API needs them: which host to ask,
// which repository path, which digest. Kept apart so verify, status and rollback agree.

import { DIGEST_PATTERN, repositoryProblem, tagProblem } from "../../components/registry/reference";
import { type DigestReference, locateRepository } from "../../components/registry/client";
import { usageError } from "./exitCodes";

export { DIGEST_PATTERN, type DigestReference };

/**
 * Splits `repo@sha256:…` with the component's reference grammar; a tag before the `@` is allowed
 * and ignored, as Docker does. Anything the component would refuse is a usage error here too.
 */
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
        const tag = name.slice(tagColon + 1);
        const problem = tag === "latest" ? undefined : tagProblem(tag);
        if (problem !== undefined) {
            throw usageError(`\`${text}\` has an invalid tag: it ${problem}`);
        }
        name = name.slice(0, tagColon);
    }
    const problem = repositoryProblem(name);
    if (problem !== undefined) {
        throw usageError(`\`${text}\` has an invalid repository: it ${problem}`);
    }
    return { text, ...locateRepository(name), digest };
}

/** A short form of a digest for tables: `sha256:` and the first 12 hex digits. */
export function shortDigest(digest: string): string {
    return DIGEST_PATTERN.test(digest) ? digest.slice(0, "sha256:".length + 12) : digest;
}
