// The Docker workload's settings and defaults, apart from its resources: the checks, the docs and
// the command read them without loading a provider SDK.
import type * as pulumi from "@pulumi/pulumi";

import type { Healthcheck } from "./shared";

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
