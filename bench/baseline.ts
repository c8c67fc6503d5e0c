// The yardstick for the benchmark: what a hand-written component declares to do the same job as
// ReleasedService (build, push, a Deployment pinned to the digest, a Service), and nothing else.
import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import {
    buildArgs,
    buildTags,
    changeCause,
    CONTAINER_NAME,
    DEFAULT_PORT,
    DEFAULT_REPLICAS,
    DEFAULT_RESOURCES,
    DEFAULT_REVISION_HISTORY_LIMIT,
    labelValue,
    MANAGED_BY,
    ociLabels,
    pinnedRef,
    Provenance,
    sourceDigest,
    stackTag,
    taggedRef,
} from "../components";

/** What every service of a stack shares, worked out once before the program runs. */
export interface SharedRelease {
    readonly version: string;
    readonly context: string;
    readonly revision?: string;
    /** The stack's own tag, which every build of the stack moves. */
    readonly stackTag: string;
    readonly labels: Record<string, string>;
    readonly buildArgs: Record<string, string>;
}

/** Precomputes the build inputs from a context's provenance, as a hand-written program would hard-code them. */
export function sharedRelease(version: string, context: string, provenance: Provenance, stack: { organization: string; project: string; name: string }): SharedRelease {
    return {
        version,
        context,
        revision: provenance.dirty ? undefined : provenance.revision,
        stackTag: stackTag(stack.name),
        labels: ociLabels(version, provenance, { sourceDigest: sourceDigest(context), stack: `${stack.organization}/${stack.project}/${stack.name}` }),
        buildArgs: buildArgs(version, provenance),
    };
}

/**
 * The same Image, Deployment and Service as ReleasedService with the same inputs, and no
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
                tags: [...buildTags(repository, release.version, release.revision), taggedRef(repository, release.stackTag)],
                context: { location: release.context },
                labels: release.labels,
                buildArgs: release.buildArgs,
                buildOnPreview: false,
            },
            { parent: this, retainOnDelete: true },
        );
        const imageRef = image.digest.apply((d) => pinnedRef(repository, d));
        const labels = { "app.kubernetes.io/name": name };
        const versionLabels = {
            ...labels,
            "app.kubernetes.io/version": labelValue(release.version),
            "app.kubernetes.io/managed-by": MANAGED_BY,
        };
        new k8s.apps.v1.Deployment(
            name,
            {
                metadata: {
                    labels: versionLabels,
                    annotations: { "kubernetes.io/change-cause": imageRef.apply((r) => changeCause(release.version, r)) },
                },
                spec: {
                    replicas: DEFAULT_REPLICAS,
                    revisionHistoryLimit: DEFAULT_REVISION_HISTORY_LIMIT,
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels: versionLabels },
                        spec: {
                            containers: [
                                {
                                    name: CONTAINER_NAME,
                                    image: imageRef,
                                    ports: [{ name: "http", containerPort: DEFAULT_PORT }],
                                    resources: DEFAULT_RESOURCES,
                                    readinessProbe: { tcpSocket: { port: "http" } },
                                },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );
        new k8s.core.v1.Service(
            name,
            {
                metadata: { labels: { ...labels, "app.kubernetes.io/managed-by": MANAGED_BY } },
                spec: { selector: labels, ports: [{ name: "http", port: DEFAULT_PORT, targetPort: "http" }] },
            },
            { parent: this },
        );
        this.imageRef = imageRef;
        this.registerOutputs({ imageRef });
    }
}
