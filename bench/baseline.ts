// The yardstick for the benchmark: what a hand-written component declares to do the same job as
// ReleasedService (build, push, a Deployment pinned to the digest, a Service), and nothing else.
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";

import { pinnedRef, taggedRef } from "../components/registry/reference";
import { buildArgs, buildTags, ociLabels, stackTag } from "../components/release/image";
import type { Provenance } from "../components/release/provenance";
import { sourceDigest } from "../components/release/sourceDigest";
import { pinDeployment } from "../components/workloads/kubernetes/deployment";

/** What every service of a stack shares, worked out once before the program runs. */
export interface SharedRelease {
    readonly version: string;
    readonly context: string;
    readonly revision?: string;
    readonly stack: string;
    readonly provenance: Provenance;
    readonly sourceDigest: string;
    readonly buildArgs: Record<string, string>;
}

/** Precomputes the build inputs from a context's provenance, as a hand-written program would hard-code them. */
export function sharedRelease(version: string, context: string, provenance: Provenance, stack: { organization: string; project: string; name: string }): SharedRelease {
    return {
        version,
        context,
        revision: provenance.dirty ? undefined : provenance.revision,
        stack: `${stack.organization}/${stack.project}/${stack.name}`,
        provenance,
        sourceDigest: sourceDigest(context),
        buildArgs: buildArgs(version, provenance),
    };
}

/**
 * The same Image as ReleasedService with the same inputs, and its Kubernetes workload, with no
 * validation, look-ups, git calls or outputs beyond the digest it runs.
 */
export class BaselineService extends pulumi.ComponentResource {
    public readonly imageRef: pulumi.Output<string>;

    constructor(name: string, args: { image: string; release: SharedRelease }, opts: pulumi.ComponentResourceOptions = {}) {
        super("bench:index:BaselineService", name, {}, opts);
        const { image: repository, release } = args;
        const image = new dockerBuild.Image(
            `${name}-image`,
            {
                push: true,
                tags: [...buildTags(repository, release.version, release.revision), taggedRef(repository, stackTag(release.stack.split("/")[2], name))],
                context: { location: release.context },
                labels: ociLabels(release.version, release.provenance, { sourceDigest: release.sourceDigest, stack: release.stack, service: name }),
                buildArgs: release.buildArgs,
                buildOnPreview: false,
            },
            { parent: this, retainOnDelete: true },
        );
        const imageRef = image.digest.apply((d) => pinnedRef(repository, d));
        pinDeployment(name, { imageRef, version: pulumi.output(release.version) }, {}, this);
        this.imageRef = imageRef;
        this.registerOutputs({ imageRef });
    }
}
