// The Docker workload's settings and defaults, apart from its resources: the checks, the docs and
// the command read them without loading a provider SDK.
import type * as pulumi from "@pulumi/pulumi";

import type { Healthcheck, HostContainerSettings } from "./shared";

/** Seconds `pulumi up` waits for a new container to be healthy when no deadline is set. */
export const DEFAULT_WAIT_SECONDS = 60;
/** When Docker restarts the container; an object and a type of one name, the enum form every Pulumi language reads. */
export const RestartPolicy = {
    /** Never. */
    No: "no",
    /** When it exits with a non-zero status. */
    OnFailure: "on-failure",
    /** Always, also when the daemon starts, even after it was stopped. */
    Always: "always",
    /** Always, unless it was stopped. */
    UnlessStopped: "unless-stopped",
} as const;
export type RestartPolicy = (typeof RestartPolicy)[keyof typeof RestartPolicy];
export const RESTART_POLICIES: readonly RestartPolicy[] = Object.values(RestartPolicy);
export const DEFAULT_RESTART: RestartPolicy = RestartPolicy.UnlessStopped;

/** The settings of the Docker workload. */
export interface DockerSettings {
    /** The port the container listens on. Defaults to 8080. */
    readonly port?: number;
    /** The host port that publishes `port`. Defaults to none: nothing is published. */
    readonly publishedPort?: number;
    /** Environment variables of the container. Defaults to none. */
    readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** `no`, `on-failure`, `always` or `unless-stopped`. Defaults to `unless-stopped`. */
    readonly restart?: RestartPolicy;
    /** A health check; `pulumi up` then waits for the container to be healthy. Defaults to the image's own. */
    readonly healthcheck?: Healthcheck;
    /** Seconds `pulumi up` waits for a health-checked container to be healthy. Defaults to 60. */
    readonly progressDeadlineSeconds?: number;
    /** What the container adds: mounts, networks, its command and args, labels. Defaults to none. */
    readonly hostContainer?: HostContainerSettings;
}

