// Image reference grammar: repositories, tags and digests as the registry
// understands them, and the one way this package writes a pinned reference.

/** A tag as the registry accepts it. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** The only digest form a Deployment is pinned to. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** The tag that is refused everywhere: it names whatever was pushed last. */
export const MUTABLE_TAG = "latest";

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$/;
const MAX_REPOSITORY_LENGTH = 255;

/** What is wrong with a tag, or undefined when it is a valid, immutable-by-convention tag. */
export function tagProblem(tag: string): string | undefined {
    if (tag === "") {
        return "must not be empty";
    }
    if (tag.length > 128) {
        return `must be at most 128 characters (got ${tag.length})`;
    }
    if (!TAG_PATTERN.test(tag)) {
        return `must be a valid image tag: letters, digits, '_', '.' and '-', not starting with '.' or '-' (got ${JSON.stringify(tag)})`;
    }
    if (tag === MUTABLE_TAG) {
        return "must name a release, not `latest` (a tag that moves with every push)";
    }
    return undefined;
}

/** What is wrong with a digest, or undefined when it is `sha256:` and 64 lower-case hex digits. */
export function digestProblem(digest: string): string | undefined {
    return DIGEST_PATTERN.test(digest)
        ? undefined
        : `must be sha256: followed by 64 lower-case hex digits (got ${JSON.stringify(digest)})`;
}

/** Splits a repository into its registry host (if it names one) and its path. */
export function splitRepository(repository: string): { host?: string; path: string } {
    const slash = repository.indexOf("/");
    if (slash > 0) {
        const first = repository.slice(0, slash);
        // Docker's rule: the first component is a registry host when it looks like one
        // (a dot, a port, localhost, or upper case, which no repository path may have).
        if (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase()) {
            return { host: first, path: repository.slice(slash + 1) };
        }
    }
    return { path: repository };
}

/** What is wrong with a repository, or undefined when it is a lower-case repository with no tag or digest. */
export function repositoryProblem(repository: string): string | undefined {
    const got = JSON.stringify(repository);
    if (repository === "") {
        return "must not be empty";
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repository)) {
        return `must be a repository without a scheme: the registry's host comes first, as in localhost:5000/payment-api (got ${got})`;
    }
    if (repository.includes("@")) {
        return `must be a repository without a digest; set \`digest\` instead (got ${got})`;
    }
    const { host, path } = splitRepository(repository);
    if (path.includes(":")) {
        return `must be a repository without a tag; set \`version\` instead (got ${got})`;
    }
    if (repository.length > MAX_REPOSITORY_LENGTH) {
        return `must be at most ${MAX_REPOSITORY_LENGTH} characters (got ${repository.length})`;
    }
    const validHost = host === undefined || DOMAIN.test(host);
    if (!validHost || !path.split("/").every((c) => PATH_COMPONENT.test(c))) {
        return `must be a lower-case image repository such as localhost:5000/payment-api (got ${got})`;
    }
    return undefined;
}

/** The registry that holds a repository, as Docker names it. */
export function registryHost(repository: string): string {
    return splitRepository(repository).host ?? "docker.io";
}

/** `<repository>@<digest>`: the exact image, whatever its tags say. */
export function pinnedRef(repository: string, digest: string): string {
    return `${repository}@${digest}`;
}

/** `<repository>:<tag>`. */
export function taggedRef(repository: string, tag: string): string {
    return `${repository}:${tag}`;
}

/** Registries answer digests with or without the algorithm prefix; this package always carries it. */
export function normalizeDigest(digest: string): string {
    return digest.startsWith("sha256:") ? digest : `sha256:${digest}`;
}

/** An image reference split into `<repository>[:<tag>][@<digest>]`. */
export interface ImageReference {
    readonly repository: string;
    /** Undefined when the reference names no tag. */
    readonly tag?: string;
    /** Undefined when the reference has no `@`; whatever follows the `@` otherwise, valid or not. */
    readonly digest?: string;
}

/**
 * Splits a reference the way the container runtime does: the digest follows the first `@`, and the
 * tag follows a `:` only after the last `/`, because a `:` before it belongs to a registry port
 * (`localhost:5000/app` has no tag). The one place a reference is taken apart.
 */
export function parseImageReference(image: string): ImageReference {
    const at = image.indexOf("@");
    const name = at < 0 ? image : image.slice(0, at);
    const digest = at < 0 ? undefined : image.slice(at + 1);
    const colon = name.indexOf(":", name.lastIndexOf("/") + 1);
    if (colon < 0) {
        return { repository: name, digest };
    }
    return { repository: name.slice(0, colon), tag: name.slice(colon + 1), digest };
}

/** Docker Hub is named `docker.io` in references but served from another host. */
const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

/** A repository as the registry API needs it: the host serving the API and the path there. */
export interface RepositoryLocation {
    /** Host (and port) the registry API is served from. */
    readonly registry: string;
    /** Repository path inside the registry, e.g. `payment-api` or `library/nginx`. */
    readonly repository: string;
}

/** A digest in a repository; `text` is how the user wrote it, for messages. */
export interface DigestReference extends RepositoryLocation {
    readonly text: string;
    /** `sha256:` and 64 hex digits. */
    readonly digest: string;
}

/** Where the registry API for a repository name is served, and the repository's path there. */
export function locateRepository(name: string): RepositoryLocation {
    const { host, path } = splitRepository(name);
    const registry = host === undefined || host === DOCKER_HUB || host === "index.docker.io" ? DOCKER_HUB_API : host;
    return { registry, repository: registry === DOCKER_HUB_API && !path.includes("/") ? `library/${path}` : path };
}
