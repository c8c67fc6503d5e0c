// ReleasedService: a ReleasedImage's release (which image runs, proven in its registry) and one
// workload pinned to it, with the digest it runs an output anyone can read.
import * as pulumi from "@pulumi/pulumi";

import { RELEASED_SERVICE_TYPE } from "./labels";
import { checkRelease, startRelease } from "./releasedImage";
import { askedOf } from "./release/pin";
import type { ReleaseArgs } from "./release/resolve";
import type { ComposeSettings } from "./workloads/compose/settings";
import type { DockerSettings } from "./workloads/docker/settings";
import type { Healthcheck } from "./workloads/docker/shared";
import type { KubernetesSettings } from "./workloads/kubernetes/settings";
import { pinWorkload } from "./workloads/pin";
import type { SwarmSettings } from "./workloads/swarm/settings";
import { DEFAULT_WORKLOAD, type ServiceWorkload, type WorkloadKind } from "./workloads/workload";

/**
 * The inputs of a ReleasedService: which release runs, what runs it, and the settings of that workload. Fields that
 * decide which resources exist (what to build, what to run) are plain values: they are checked
 * before anything is registered, and resources are never created inside an `apply`. This service's
 * entries in the stack config's `released-service:pins` and `released-service:holds` apply over them.
 */
export interface ReleasedServiceArgs extends ReleaseArgs, KubernetesSettings, DockerSettings, SwarmSettings, ComposeSettings {
    /** What runs the release: `kubernetes`, `docker`, `swarm` or `compose`; each reads its own settings. Defaults to `kubernetes`. */
    readonly workload?: WorkloadKind;
    // The settings several kinds share, described once for all of them: other languages read
    // these descriptions from the schema.
    /** The port the container listens on (kubernetes: the Service exposes it too). Defaults to 8080. */
    readonly port?: number;
    /**
     * Pods (kubernetes) or tasks in `replicated` mode (swarm) to run. Defaults to none on Kubernetes
     * (it creates 1, and a HorizontalPodAutoscaler may own the count), 1 on Swarm.
     */
    readonly replicas?: number;
    /** Environment variables of the container. Defaults to none. */
    readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** The host port (docker) or routing-mesh port (swarm) that publishes `port`. Defaults to none: nothing is published. */
    readonly publishedPort?: number;
    /**
     * A health check: `pulumi up` waits for a new container to be healthy (docker), Swarm's update
     * monitors it (swarm). Defaults to the image's own.
     */
    readonly healthcheck?: Healthcheck;
    /**
     * Seconds `pulumi up` waits for the workload: the Deployment's rollout, with Kubernetes' progress
     * deadline set to it too (kubernetes; defaults to Kubernetes' 600 s and the provider's 10 minutes),
     * a health-checked container (docker; defaults to 60), an update to converge (swarm, not in `global`
     * mode; defaults to 300).
     */
    readonly progressDeadlineSeconds?: number;
}

export { RELEASED_SERVICE_TYPE };

/**
 * A service that runs one release by digest: builds and pushes its image once, pins the workload to
 * the digest, and rolls back by running an earlier version's digest again, with nothing rebuilt.
 */
export class ReleasedService extends pulumi.ComponentResource {
    /** The digest the workload runs, `sha256:…`. */
    public readonly imageDigest: pulumi.Output<string>;
    /** `<image>@sha256:…`, exactly the workload's image. */
    public readonly imageRef: pulumi.Output<string>;
    /** The release that runs. */
    public readonly version: pulumi.Output<string>;
    /** True when this update built and pushed the image that runs. */
    public readonly built: pulumi.Output<boolean>;
    /** Where the workload runs, for the command to find what runs there live. */
    public readonly workload: pulumi.Output<ServiceWorkload>;

    constructor(name: string, args: ReleasedServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
        // Thrown before super(): a refused input registers nothing, not even this component.
        const checked = checkRelease(name, args);
        // What the args ask, pin or not, is the component's one input: the state records it at
        // registration, even of an update that fails, and a rollback's pin records it in turn.
        super(RELEASED_SERVICE_TYPE, name, { asked: askedOf(args) }, opts);
        const release = startRelease(this, name, checked);
        this.workload = pinWorkload(args.workload ?? DEFAULT_WORKLOAD, name, release, args, this);

        this.imageDigest = release.digest;
        this.imageRef = release.imageRef;
        this.version = release.version;
        this.built = release.built;
        this.registerOutputs({
            imageDigest: this.imageDigest,
            imageRef: this.imageRef,
            version: this.version,
            built: this.built,
            workload: this.workload,
        });
    }
}
