// Digest references (`repo@sha256:…`) as the registry API needs them: which host to ask,
// which repository path, which digest. Kept apart so verify, status and rollback agree.

import { type DigestReference, DIGEST_PATTERN, locateRepository, parseImageReference, repositoryProblem, tagProblem } from "../../components/registry/reference";
import { usageError } from "./exitCodes";

export { DIGEST_PATTERN, type DigestReference };

/**
 * Splits `repo@sha256:…` with the component's reference grammar; a tag before the `@` is allowed
 * and ignored, as Docker does. Anything the component would refuse is a usage error here too.
 */
export function parseDigestReference(text: string): DigestReference {
    const { repository: name, tag, digest } = parseImageReference(text);
    if (digest === undefined || name === "") {
        throw usageError(`\`${text}\` is not a digest reference: expected <repository>@sha256:<64 hex>`);
    }
    if (!DIGEST_PATTERN.test(digest)) {
        throw usageError(`\`${text}\` has an invalid digest: expected sha256: followed by 64 lower-case hex digits`);
    }
    const tagWrong = tag === undefined || tag === "latest" ? undefined : tagProblem(tag);
    if (tagWrong !== undefined) {
        throw usageError(`\`${text}\` has an invalid tag: it ${tagWrong}`);
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
