// The Docker workload: one container on a Docker host, running the release by digest. The
// provider replaces a container whose image changes, deleting the old one first: a short outage
// per release and per rollback, which the Swarm kind avoids.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import type { DockerWorkloadRecord, PinnedRelease } from "../workload";
import { envList, releaseLabels, type Healthcheck } from "./shared";

/** Seconds `pulumi up` waits for a new container to be healthy when no deadline is set. */
export const DEFAULT_WAIT_SECONDS = 60;
export const DEFAULT_RESTART = "unless-stopped";
export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;

/** The settings of the Docker workload. */
export interface DockerSettings {
    /** The port the container listens on. Defaults to 8080. */
    readonly port?: number;
    /** The host port that publishes `port`. Defaults to none: nothing is published. */
    readonly publishedPort?: number;
    /** Environment variables of the container. Defaults to none. */
    readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** `no`, `on-failure`, `always` or `unless-stopped`. Defaults to `unless-stopped`. */
    readonly restart?: (typeof RESTART_POLICIES)[number];
    /** A health check; `pulumi up` then waits for the container to be healthy. Defaults to the image's own. */
    readonly healthcheck?: Healthcheck;
    /** Seconds `pulumi up` waits for a health-checked container to be healthy. Defaults to 60. */
    readonly progressDeadlineSeconds?: number;
}

export const DEFAULT_DOCKER_PORT = 8080;

/** Pins one container to the release. */
export function pinContainer(
    name: string,
    release: PinnedRelease,
    settings: DockerSettings,
    parent: pulumi.Resource,
): pulumi.Output<DockerWorkloadRecord> {
    const port = settings.port ?? DEFAULT_DOCKER_PORT;
    const container = new docker.Container(
        name,
        {
            // A predictable name, for `docker ps` and `docker logs`; the old container is gone before the new one starts.
            name,
            image: release.imageRef,
            envs: settings.env === undefined ? undefined : pulumi.output(settings.env).apply(envList),
            ports: settings.publishedPort === undefined ? undefined : [{ internal: port, external: settings.publishedPort }],
            restart: settings.restart ?? DEFAULT_RESTART,
            labels: release.version.apply((version) => releaseLabels(name, version)),
            healthcheck: settings.healthcheck,
            // The provider's wait is for health: a container without a check is waited for running only.
            wait: settings.healthcheck !== undefined,
            waitTimeout: settings.healthcheck === undefined ? undefined : (settings.progressDeadlineSeconds ?? DEFAULT_WAIT_SECONDS),
        },
        // A new image replaces the container; the provider deletes the old one first, which this says out loud.
        { parent, deleteBeforeReplace: true },
    );
    return container.name.apply((containerName) => ({ kind: "docker" as const, container: containerName }));
}
