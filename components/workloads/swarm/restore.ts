// Restoring a Swarm service to an earlier release in one write, ahead of the update that records
// it: `docker service update` changes the image of its task template and the release label of the
// service, which is all an update of the Docker provider to that release changes. The provider's
// update then sends a task template Swarm already runs, and Swarm starts no new task.
import { RELEASE_LABEL } from "../../labels";

/**
 * The docker CLI arguments that make Swarm service `service` run `imageRef`, labelled `version`
 * (`builtIn`: a ReleasedService's own service, which carries the release label). The image is
 * taken as written (no tag resolved: it is a digest already), and the command does not wait:
 * the caller watches the tasks. Pure.
 */
export function swarmRestoreArgs(service: string, imageRef: string, version: string, builtIn: boolean): string[] {
    return [
        "service",
        "update",
        "--detach",
        "--no-resolve-image",
        "--image",
        imageRef,
        ...(builtIn ? ["--label-add", `${RELEASE_LABEL}=${version}`] : []),
        service,
    ];
}
