// The Docker workload: one container on a Docker host, running the release by digest. The
// provider replaces a container whose image changes, deleting the old one first: a short outage
// per release and per rollback, which the Swarm kind avoids.
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { DEFAULT_PORT, type PinWorkload, type DockerWorkloadRecord } from "../workload";
import { DEFAULT_RESTART, DEFAULT_WAIT_SECONDS, type DockerSettings } from "./settings";
import { envList, hostLabels, mountType } from "./shared";

/** Pins one container to the release. */
export const pinContainer: PinWorkload<DockerSettings, DockerWorkloadRecord> = (name, release, settings, parent) => {
    const port = settings.port ?? DEFAULT_PORT;
    const extra = settings.hostContainer;
    const container = new docker.Container(
        name,
        {
            // A predictable name, for `docker ps` and `docker logs`; the old container is gone before the new one starts.
            name,
            image: release.imageRef,
            envs: settings.env === undefined ? undefined : pulumi.output(settings.env).apply(envList),
            ports: settings.publishedPort === undefined ? undefined : [{ internal: port, external: settings.publishedPort }],
            restart: settings.restart ?? DEFAULT_RESTART,
            labels: release.version.apply((version) => hostLabels(name, version, extra?.labels)),
            volumes: extra?.mounts?.map((mount) => ({
                ...(mountType(mount) === "bind" ? { hostPath: mount.source } : { volumeName: mount.source }),
                containerPath: mount.target,
                readOnly: mount.readOnly,
            })),
            networksAdvanced: extra?.networks?.map((network) => ({ name: network })),
            // Docker's entrypoint and command are Kubernetes' command and args.
            entrypoints: extra?.command,
            command: extra?.args,
            healthcheck: settings.healthcheck,
            // The provider's wait is for health, and refused without a check: without one nothing is waited for.
            wait: settings.healthcheck !== undefined,
            waitTimeout: settings.healthcheck === undefined ? undefined : (settings.progressDeadlineSeconds ?? DEFAULT_WAIT_SECONDS),
        },
        // A new image replaces the container; the provider deletes the old one first, which this says out loud.
        { parent, deleteBeforeReplace: true },
    );
    return container.name.apply((containerName) => ({ kind: "docker" as const, container: containerName }));
};
