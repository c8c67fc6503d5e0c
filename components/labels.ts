// The names this package writes on what it builds and runs, so registries, hosts, state and the
// command can tell which service and which release they hold. Plain values, no Pulumi import.

/** The type token of every ReleasedService in a stack's state: the command finds services by it. */
export const RELEASED_SERVICE_TYPE = "released-service:index:ReleasedService";
/** The type token of every ReleasedImage: a release the user's own resources run. */
export const RELEASED_IMAGE_TYPE = "released-service:index:ReleasedImage";
/** The components that make a release: the command's services are those of either type, by resource name. */
export const RELEASE_TYPES: readonly string[] = [RELEASED_SERVICE_TYPE, RELEASED_IMAGE_TYPE];

/** On images: the digest of the source an image was built from. */
export const SOURCE_DIGEST_LABEL = "io.released-service.source.digest";
/** On images: the stack (`<organization>/<project>/<stack>`) whose update built it. */
export const STACK_LABEL = "io.released-service.stack";
/** On images, containers and Swarm services: the service (the component's resource name). */
export const SERVICE_LABEL = "io.released-service.service";
/** On containers and Swarm services: the release they run. */
export const RELEASE_LABEL = "io.released-service.version";
