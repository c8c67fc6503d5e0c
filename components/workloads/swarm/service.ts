// The Swarm workload: a service whose tasks run the release by digest. An image change is an
// in-place rolling update; Swarm rolls it back by itself when the new tasks fail, and `pulumi up`
// waits for the update to converge and fails when Swarm rolled it back or paused it.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { type Healthcheck, releaseLabels } from "../docker/shared";
import type { PinnedRelease, SwarmWorkloadRecord } from "../workload";

export const DEFAULT_SWARM_PORT = 8080;
export const DEFAULT_SWARM_REPLICAS = 1;
/** Seconds `pulumi up` waits for an update to converge when no deadline is set. */
export const DEFAULT_CONVERGE_SECONDS = 300;
/** Seconds Swarm watches each new task before it counts the update of that task as done. */
export const DEFAULT_MONITOR_SECONDS = 5;
export const SWARM_MODES = ["replicated", "global"] as const;

/** The settings of the Swarm workload. */
export interface SwarmSettings {
    /** `replicated` (`replicas` tasks) or `global` (one task per node). Defaults to `replicated`. */
    readonly mode?: (typeof SWARM_MODES)[number];
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
}

/** Pins a Swarm service to the release. */
export function pinSwarmService(
    name: string,
    release: PinnedRelease,
    settings: SwarmSettings,
    parent: pulumi.Resource,
): pulumi.Output<SwarmWorkloadRecord> {
    const port = settings.port ?? DEFAULT_SWARM_PORT;
    const global = settings.mode === "global";
    const monitor = `${settings.monitorSeconds ?? DEFAULT_MONITOR_SECONDS}s`;
    const service = new docker.Service(
        name,
        {
            // A predictable name, for `docker service ps` and `docker service rollback`.
            name,
            labels: release.version.apply((version) => releaseLabels(name, version)),
            taskSpec: {
                containerSpec: {
                    // Always a digest: given a tag, Swarm pins a digest of its own and every read shows drift.
                    image: release.imageRef,
                    env: settings.env,
                    healthcheck: settings.healthcheck,
                    labels: release.version.apply((version) => releaseLabels(name, version)),
                },
            },
            mode: global ? { global: true } : { replicated: { replicas: settings.replicas ?? DEFAULT_SWARM_REPLICAS } },
            endpointSpec: settings.publishedPort === undefined ? undefined : { ports: [{ targetPort: port, publishedPort: settings.publishedPort }] },
            // A failed update is Swarm's to undo first: it rolls back to the previous spec by itself.
            updateConfig: { parallelism: 1, delay: "0s", failureAction: "rollback", monitor, maxFailureRatio: "0", order: "start-first" },
            rollbackConfig: { parallelism: 1, delay: "0s", failureAction: "pause", monitor, maxFailureRatio: "0", order: "stop-first" },
            convergeConfig: global ? undefined : { delay: "1s", timeout: `${settings.progressDeadlineSeconds ?? DEFAULT_CONVERGE_SECONDS}s` },
        },
        { parent },
    );
    return service.name.apply((serviceName) => ({ kind: "swarm" as const, service: serviceName }));
}
