// The one place the kind of workload is chosen: each kind's pin function, by name.
import type * as pulumi from "@pulumi/pulumi";

import { pinComposeFile } from "./compose/file";
import type { ComposeSettings } from "./compose/settings";
import { pinContainer } from "./docker/container";
import type { DockerSettings } from "./docker/settings";
import { pinDeployment } from "./kubernetes/deployment";
import type { KubernetesSettings } from "./kubernetes/settings";
import { pinSwarmService } from "./swarm/service";
import type { SwarmSettings } from "./swarm/settings";
import type { PinnedRelease, PinWorkload, WorkloadKind, WorkloadRecord } from "./workload";

/** The settings of every kind; each kind reads its own, and the checks refuse another kind's. */
export type WorkloadSettings = KubernetesSettings & DockerSettings & SwarmSettings & ComposeSettings;

const PIN: { readonly [K in WorkloadKind]: PinWorkload<WorkloadSettings> } = {
    kubernetes: pinDeployment,
    docker: pinContainer,
    swarm: pinSwarmService,
    compose: pinComposeFile,
};

/** Pins the workload of `kind` to the release. */
export function pinWorkload(kind: WorkloadKind, name: string, release: PinnedRelease, settings: WorkloadSettings, parent: pulumi.Resource): pulumi.Output<WorkloadRecord> {
    return PIN[kind](name, release, settings, parent);
}
