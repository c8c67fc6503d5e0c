// The Swarm workload's settings and defaults, apart from its resources: the checks, the docs and
// the command read them without loading a provider SDK.
import type * as pulumi from "@pulumi/pulumi";

import type { Healthcheck, HostContainerSettings } from "../docker/shared";

export const DEFAULT_SWARM_REPLICAS = 1;
/** Seconds `pulumi up` waits for an update to converge when no deadline is set. */
export const DEFAULT_CONVERGE_SECONDS = 300;
/** Seconds Swarm watches each new task before it counts the update of that task as done. */
export const DEFAULT_MONITOR_SECONDS = 5;
/** How Swarm schedules a service's tasks; an object and a type of one name, the enum form every Pulumi language reads. */
export const SwarmMode = {
    /** `replicas` tasks. */
    Replicated: "replicated",
    /** One task on every node. */
    Global: "global",
} as const;
export type SwarmMode = (typeof SwarmMode)[keyof typeof SwarmMode];
export const SWARM_MODES: readonly SwarmMode[] = Object.values(SwarmMode);

/** The settings of the Swarm workload. */
export interface SwarmSettings {
    /** `replicated` (`replicas` tasks) or `global` (one task per node). Defaults to `replicated`. */
    readonly mode?: SwarmMode;
    /** Tasks to run in `replicated` mode. Defaults to 1. */
    readonly replicas?: number;
    /** The port the container listens on. Defaults to 8080. */
    readonly port?: number;
    /** The port the Swarm's routing mesh publishes `port` on. Defaults to none: nothing is published. */
    readonly publishedPort?: number;
    /** Environment variables of the container. Defaults to none. */
    readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** A health check; Swarm's update monitors it. Defaults to the image's own. */
    readonly healthcheck?: Healthcheck;
    /**
     * Seconds `pulumi up` waits for an update to converge (the provider's `convergeConfig`); an
     * update Swarm rolled back or paused fails it. Defaults to 300. Not in `global` mode, which the
     * provider cannot converge.
     */
    readonly progressDeadlineSeconds?: number;
    /** Seconds Swarm watches each new task for failure before it goes on. Defaults to 5. */
    readonly monitorSeconds?: number;
    /** What the tasks' container adds: mounts, networks, its command and args, labels (on the service). Defaults to none. */
    readonly hostContainer?: HostContainerSettings;
}
