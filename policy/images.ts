// Image references as the policies read them: which part is the tag, which the digest, and the
// containers a pod spec runs. Plain functions with no Pulumi import, so they are table-tested alone.
import { DIGEST_PATTERN, MUTABLE_TAG, parseImageReference } from "../components/registry/reference";

export { type ImageReference, parseImageReference } from "../components/registry/reference";

/** The one digest form the pack accepts as a pin: the one the component pins to. */
export const PINNED_DIGEST = DIGEST_PATTERN;

/** The tag that names whatever was pushed last. */
export const LATEST_TAG = MUTABLE_TAG;

/** What the pack tells a reader to write instead of an unpinned image. */
export const PINNED_FORM = "<repo>@sha256:<64 hex>";

/** True when the reference carries `@sha256:<64 lower-case hex>`, with or without a tag before it. */
export function isPinnedByDigest(image: string): boolean {
    const { digest } = parseImageReference(image);
    return digest !== undefined && PINNED_DIGEST.test(digest);
}

/**
 * True when the reference names `latest`: explicitly (`repo:latest`, and also `repo:latest@sha256:…`,
 * which is pinned but still tells a reader "latest"), or implicitly (`repo` with neither tag nor
 * digest, which the runtime pulls as `repo:latest`). Tags are case-sensitive: `Latest` is another tag.
 * An empty string is no reference at all, so it names nothing.
 */
export function usesLatestTag(image: string): boolean {
    if (image === "") {
        return false;
    }
    const { tag, digest } = parseImageReference(image);
    return tag === LATEST_TAG || (tag === undefined && digest === undefined);
}

/** The part of a Kubernetes container the policies read. */
export interface ContainerLike {
    readonly name?: string;
    readonly image?: string;
}

/** The part of a Kubernetes pod spec the policies read. */
export interface PodSpecLike {
    readonly containers?: readonly ContainerLike[];
    readonly initContainers?: readonly ContainerLike[];
}

/** One container of a pod spec, with the words a message uses for it. */
export interface PodContainer {
    /** `container "app"` or `init container "migrate"`. */
    readonly label: string;
    /** Undefined or empty when the container names no image. */
    readonly image?: string;
}

/** Init containers first, in the order the kubelet starts them, then the app containers. */
export function podContainers(spec: PodSpecLike | undefined): PodContainer[] {
    const describe = (kind: string) => (c: ContainerLike, index: number): PodContainer => ({
        // Kubernetes requires a name; an index keeps a nameless one identifiable all the same.
        label: `${kind} ${c.name === undefined || c.name === "" ? `#${index}` : JSON.stringify(c.name)}`,
        image: c.image,
    });
    return [
        ...(spec?.initContainers ?? []).map(describe("init container")),
        ...(spec?.containers ?? []).map(describe("container")),
    ];
}
