// The Swarm workload: a service whose tasks run the release by digest. An image change is an
// in-place rolling update; Swarm rolls it back by itself when the new tasks fail, and `pulumi up`
// waits for the update to converge and fails when Swarm rolled it back or paused it.
import * as docker from "@pulumi/docker";

import { SERVICE_LABEL } from "../../labels";
import { hostLabels, mountType } from "../docker/shared";
import { DEFAULT_PORT, type PinWorkload, type SwarmWorkloadRecord } from "../workload";
import { DEFAULT_CONVERGE_SECONDS, DEFAULT_MONITOR_SECONDS, DEFAULT_SWARM_REPLICAS, type SwarmSettings } from "./settings";

/** Pins a Swarm service to the release. */
export const pinSwarmService: PinWorkload<SwarmSettings, SwarmWorkloadRecord> = (name, release, settings, parent) => {
    const port = settings.port ?? DEFAULT_PORT;
    const global = settings.mode === "global";
    const extra = settings.hostContainer;
    const monitor = `${settings.monitorSeconds ?? DEFAULT_MONITOR_SECONDS}s`;
    const service = new docker.Service(
        name,
        {
            // A predictable name, for `docker service ps` and `docker service rollback`.
            name,
            labels: release.version.apply((version) => hostLabels(name, version, extra?.labels)),
            taskSpec: {
                containerSpec: {
                    // Always a digest: given a tag, Swarm pins a digest of its own and every read shows drift.
                    image: release.imageRef,
                    env: settings.env,
                    healthcheck: settings.healthcheck,
                    // The service label only: the provider replaces a service whose container labels change, so
                    // the version is on the service's own labels (updated in place), which `status` reads.
                    labels: [{ label: SERVICE_LABEL, value: name }],
                    mounts: extra?.mounts?.map((mount) => ({ source: mount.source, target: mount.target, type: mountType(mount), readOnly: mount.readOnly })),
                    commands: extra?.command,
                    args: extra?.args,
                },
                networksAdvanceds: extra?.networks?.map((network) => ({ name: network })),
            },
            mode: global ? { global: true } : { replicated: { replicas: settings.replicas ?? DEFAULT_SWARM_REPLICAS } },
            endpointSpec: settings.publishedPort === undefined ? undefined : { ports: [{ targetPort: port, publishedPort: settings.publishedPort }] },
            // A failed update is Swarm's to undo first: it rolls back to the previous spec by itself.
            updateConfig: { parallelism: 1, delay: "0s", failureAction: "rollback", monitor, maxFailureRatio: "0", order: "start-first" },
            rollbackConfig: { parallelism: 1, delay: "0s", failureAction: "pause", monitor, maxFailureRatio: "0", order: "stop-first" },
            convergeConfig: global ? undefined : { delay: "1s", timeout: `${settings.progressDeadlineSeconds ?? DEFAULT_CONVERGE_SECONDS}s` },
        },
        {
            parent,
            // The provider forces a new service only when `mode` is added or removed: replicated to global (or
            // back) would be an in-place update, which Swarm refuses. Replace instead; the name is the new
            // service's too, so the old one goes first.
            replaceOnChanges: ["mode.global"],
            deleteBeforeReplace: true,
        },
    );
    return service.name.apply((serviceName) => ({ kind: "swarm" as const, service: serviceName }));
};
