// ReleasedService: builds the source once, runs a Kubernetes Deployment pinned to an image
// digest, and makes the digest it runs an output anyone can read.
import * as docker from "@pulumi/docker";
import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { readProvenance, SHORT_SHA_LENGTH } from "./provenance";
import { DIGEST_PATTERN, normalizeDigest, pinnedRef, registryHost, taggedRef } from "./reference";
import { chooseSource, declaresBuild, ReleaseSource } from "./release";
import { describeProblems, inputProblems } from "./validate";

export const DEFAULT_CONTEXT = "app";
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_PORT = 8080;
export const MANAGED_BY = "released-service";
/** The container's name inside the pod. */
export const CONTAINER_NAME = "app";

/**
 * The inputs of a ReleasedService. Fields that decide which resources exist (what to build,
 * what to run) are plain values: they are checked before anything is registered, and
 * resources are never created inside an `apply`.
 */
export interface ReleasedServiceArgs {
    /** Repository without tag or digest, e.g. `localhost:5000/payment-api`. Required. */
    readonly image: string;
    /**
     * The release to run: a tag such as `v2.4.1` or a git SHA. `latest` is refused.
     * Required unless `promoteFrom` is set, then defaults to that stack's `version` output.
     */
    readonly version?: string;
    /** Exact pin `sha256:<64 hex>`: that image runs and nothing is resolved. Defaults to none. */
    readonly digest?: string;
    /** `org/project/stack` whose `imageDigest` output runs; nothing is built. Defaults to none. */
    readonly promoteFrom?: string;
    /** Whether this stack may build the source in `context`. Defaults to true. */
    readonly build?: boolean;
    /** Build context directory, with a Dockerfile inside. Defaults to `app`. */
    readonly context?: string;
    /** The version of the source in `context`. Defaults to `<context>/VERSION`, else the git short SHA. */
    readonly sourceVersion?: string;
    /** Whether `pulumi preview` builds the image too. Defaults to false. */
    readonly buildOnPreview?: boolean;
    /** Old ReplicaSets Kubernetes keeps for `kubectl rollout undo`; 0 keeps none. Defaults to 10. */
    readonly revisionHistoryLimit?: number;
    /** Namespace of the Deployment and Service. Defaults to the provider's namespace. */
    readonly namespace?: string;
    /** Pods to run. Defaults to 1. */
    readonly replicas?: number;
    /** The port the container listens on and the Service exposes. Defaults to 8080. */
    readonly port?: number;
    /** Environment variables of the container. Defaults to none. */
    readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** Container resources. Defaults to requests of 50m CPU and 64Mi memory. */
    readonly resources?: pulumi.Input<k8s.types.input.core.v1.ResourceRequirements>;
    /** Readiness probe. Defaults to a TCP check of `port`. */
    readonly readinessProbe?: pulumi.Input<k8s.types.input.core.v1.Probe>;
    /** Registry user name. Defaults to none (Docker's own credentials). */
    readonly registryUsername?: pulumi.Input<string>;
    /** Registry password; kept a Pulumi secret. Defaults to none. */
    readonly registryPassword?: pulumi.Input<string>;
}

export const DEFAULT_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" } } as const;

/** A Kubernetes label value holds at most 63 characters and starts and ends alphanumeric. */
export function labelValue(value: string): string {
    return value.replace(/^[^A-Za-z0-9]+/, "").slice(0, 63).replace(/[^A-Za-z0-9]+$/, "");
}

/** The `kubernetes.io/change-cause` that makes `kubectl rollout history` read as a release log. */
export function changeCause(version: string, imageRef: string): string {
    return `released-service: ${version} ${imageRef}`;
}

export class ReleasedService extends pulumi.ComponentResource {
    /** The digest the Deployment runs, `sha256:…`. */
    public readonly imageDigest: pulumi.Output<string>;
    /** `<image>@sha256:…`, exactly the Deployment's container image. */
    public readonly imageRef: pulumi.Output<string>;
    /** The release that runs. */
    public readonly version: pulumi.Output<string>;
    /** True when this update built and pushed the image that runs. */
    public readonly built: pulumi.Output<boolean>;
    /** Name of the Kubernetes Deployment. */
    public readonly deploymentName: pulumi.Output<string>;
    /** Name of the Kubernetes Service. */
    public readonly serviceName: pulumi.Output<string>;

    constructor(name: string, args: ReleasedServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
        const problems = inputProblems({ name, ...args });
        if (problems.length > 0) {
            // Thrown before super(): a refused input registers nothing, not even this component.
            throw new pulumi.RunError(describeProblems(problems));
        }
        const build = args.build ?? true;
        const context = args.context ?? DEFAULT_CONTEXT;
        const provenance = build ? readProvenance(context) : undefined;
        const sourceVersion = args.sourceVersion ?? provenance?.sourceVersion;
        if (build && sourceVersion === undefined) {
            throw new pulumi.RunError(
                `\`sourceVersion\` is unknown: ${context}/VERSION is missing and ${context} is not in a git repository; ` +
                    "set `sourceVersion`, or set `build` to false to run only images already pushed",
            );
        }
        super("released-service:index:ReleasedService", name, {}, opts);

        const selection = { ...args, build, sourceVersion };
        const source = chooseSource(selection);
        const password = args.registryPassword === undefined ? undefined : pulumi.secret(args.registryPassword);
        const credentials =
            args.registryUsername === undefined || password === undefined
                ? undefined
                : { address: registryHost(args.image), username: args.registryUsername, password };
        const registry =
            credentials === undefined
                ? undefined
                : new docker.Provider(`${name}-registry`, { registryAuth: [credentials] }, { parent: this });
        // One registry look-up per tag and update, however many questions ask for it.
        const lookups = new Map<string, pulumi.Output<Lookup>>();
        const lookup = (tag: string): pulumi.Output<Lookup> => {
            let found = lookups.get(tag);
            if (found === undefined) {
                found = lookupDigest(taggedRef(args.image, tag), { parent: this, provider: registry });
                lookups.set(tag, found);
            }
            return found;
        };

        let built: pulumi.Output<boolean> | undefined;
        let buildDigest: pulumi.Output<string> | undefined;
        if (declaresBuild(selection) && sourceVersion !== undefined) {
            // What the tag held before this update matters only when the build is what runs: it
            // tells `built` whether this update pushed it. A rollback asks the registry nothing here.
            const before = source.kind === "built" ? lookup(sourceVersion) : undefined;
            const image = new dockerBuild.Image(
                `${name}-image`,
                {
                    push: true,
                    tags: buildTags(args.image, sourceVersion, provenance?.revision),
                    context: { location: context },
                    labels: ociLabels(sourceVersion, provenance),
                    buildArgs: buildArgs(sourceVersion, provenance),
                    buildOnPreview: args.buildOnPreview ?? false,
                    registries: credentials === undefined ? undefined : [credentials],
                },
                {
                    parent: this,
                    // A pushed release is somebody's rollback target: deleting this resource must
                    // leave the registry alone (docker-build deletes the tags otherwise).
                    retainOnDelete: true,
                    // Look up what the tag held before pushing, so `built` compares before and after.
                    dependsOn: before?.apply(() => []),
                },
            );
            buildDigest = image.digest;
            built = before && pulumi.all([before, image.digest]).apply(([old, pushed]) => old.digest !== normalizeDigest(pushed));
        }

        const promoted =
            source.kind === "promoted"
                ? new pulumi.StackReference(`${name}-promoted`, { name: source.stack }, { parent: this })
                : undefined;
        const version: pulumi.Output<string> =
            args.version !== undefined
                ? pulumi.output(args.version)
                : promoted!.requireOutput("version").apply((v) => String(v));
        const digest = this.resolveDigest(source, args.image, args.version, { lookup, buildDigest, promoted });
        const imageRef = digest.apply((d) => pinnedRef(args.image, d));

        const labels = { "app.kubernetes.io/name": name };
        const serviceLabels = { ...labels, "app.kubernetes.io/managed-by": MANAGED_BY };
        const versionLabels = version.apply((v) => ({
            ...labels,
            "app.kubernetes.io/version": labelValue(v),
            "app.kubernetes.io/managed-by": MANAGED_BY,
        }));
        const port = args.port ?? DEFAULT_PORT;
        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: {
                    namespace: args.namespace,
                    labels: versionLabels,
                    annotations: { "kubernetes.io/change-cause": pulumi.all([version, imageRef]).apply(([v, r]) => changeCause(v, r)) },
                },
                spec: {
                    replicas: args.replicas ?? DEFAULT_REPLICAS,
                    revisionHistoryLimit: args.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
                    // Only the name selects pods: the selector is immutable, the version is not.
                    selector: { matchLabels: labels },
                    template: {
                        metadata: { labels: versionLabels },
                        spec: {
                            containers: [
                                {
                                    name: CONTAINER_NAME,
                                    image: imageRef,
                                    ports: [{ name: "http", containerPort: port }],
                                    env: args.env === undefined ? undefined : pulumi.output(args.env).apply(toEnvVars),
                                    resources: args.resources ?? DEFAULT_RESOURCES,
                                    readinessProbe: args.readinessProbe ?? { tcpSocket: { port: "http" } },
                                },
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );
        const service = new k8s.core.v1.Service(
            name,
            {
                // No version label: a rollback changes the Deployment and nothing else.
                metadata: { namespace: args.namespace, labels: serviceLabels },
                spec: { selector: labels, ports: [{ name: "http", port, targetPort: "http" }] },
            },
            { parent: this },
        );

        this.imageDigest = digest;
        this.imageRef = imageRef;
        this.version = version;
        this.built = built ?? pulumi.output(false);
        this.deploymentName = deployment.metadata.name;
        this.serviceName = service.metadata.name;
        this.registerOutputs({
            imageDigest: this.imageDigest,
            imageRef: this.imageRef,
            version: this.version,
            built: this.built,
            deploymentName: this.deploymentName,
            serviceName: this.serviceName,
        });
    }

    /** The digest to run, or an error naming what could not be resolved and what to do. */
    private resolveDigest(
        source: ReleaseSource,
        image: string,
        version: string | undefined,
        from: {
            lookup: (tag: string) => pulumi.Output<Lookup>;
            buildDigest?: pulumi.Output<string>;
            promoted?: pulumi.StackReference;
        },
    ): pulumi.Output<string> {
        const fail = (message: string): never => {
            throw new pulumi.ResourceError(message, this, true);
        };
        // Every source but promotion has a plain version: validation requires one.
        const tag = version ?? "";
        switch (source.kind) {
            case "pinned":
                return from.lookup(tag).apply((found) =>
                    found.digest !== undefined && found.digest !== source.digest
                        ? fail(
                              `\`digest\` ${source.digest} is pinned for version ${tag}, but ${taggedRef(image, tag)} ` +
                                  `now points to ${found.digest}: the tag moved. Check which image you mean to run and pin that digest.`,
                          )
                        : source.digest,
                );
            case "promoted":
                return from.promoted!.requireOutput("imageDigest").apply((d) =>
                    typeof d === "string" && DIGEST_PATTERN.test(d)
                        ? d
                        : fail(`\`promoteFrom\` stack ${source.stack} has no valid \`imageDigest\` output (got ${String(d)})`),
                );
            case "built":
                return from.buildDigest!.apply(normalizeDigest);
            case "looked-up":
                return from.lookup(tag).apply(
                    (found) =>
                        found.digest ??
                        fail(
                            `version ${tag} cannot be resolved: tag ${tag} was not found in ${image}` +
                                `${found.error === undefined ? "" : ` (${found.error})`}. ` +
                                "Check the tag, push it, or pin its `digest`; the running Deployment was not changed.",
                        ),
                );
        }
    }
}

interface Lookup {
    readonly digest?: string;
    readonly error?: string;
}

/** What `<image>:<tag>` points to in its registry now; a missing tag is an answer, not a failure. */
function lookupDigest(ref: string, opts: pulumi.InvokeOptions): pulumi.Output<Lookup> {
    return pulumi.output(
        docker.getRegistryImage({ name: ref }, opts).then(
            (found): Lookup => ({ digest: normalizeDigest(found.sha256Digest) }),
            (err: unknown): Lookup => ({ error: err instanceof Error ? err.message : String(err) }),
        ),
    );
}

/** `<image>:<version>`, and `<image>:<short sha>` when the source's commit is known. */
export function buildTags(image: string, sourceVersion: string, revision?: string): string[] {
    const tags = [taggedRef(image, sourceVersion)];
    const sha = revision?.slice(0, SHORT_SHA_LENGTH);
    if (sha !== undefined && sha !== sourceVersion) {
        tags.push(taggedRef(image, sha));
    }
    return tags;
}

/** OCI annotations baked into the image; only what the source says, so they never change by themselves. */
export function ociLabels(
    sourceVersion: string,
    provenance?: { revision?: string; created?: string; source?: string },
): Record<string, string> {
    const labels: Record<string, string> = { "org.opencontainers.image.version": sourceVersion };
    if (provenance?.revision !== undefined) labels["org.opencontainers.image.revision"] = provenance.revision;
    if (provenance?.created !== undefined) labels["org.opencontainers.image.created"] = provenance.created;
    if (provenance?.source !== undefined) labels["org.opencontainers.image.source"] = provenance.source;
    return labels;
}

/**
 * Build arguments every build receives: the release for the service to report, and
 * SOURCE_DATE_EPOCH so BuildKit stamps layers with the commit's time, not the clock's.
 */
export function buildArgs(sourceVersion: string, provenance?: { revision?: string; created?: string }): Record<string, string> {
    const args: Record<string, string> = { RELEASE_VERSION: sourceVersion };
    if (provenance?.revision !== undefined) args.RELEASE_REVISION = provenance.revision;
    if (provenance?.created !== undefined) {
        args.SOURCE_DATE_EPOCH = String(Math.floor(Date.parse(provenance.created) / 1000));
    }
    return args;
}

function toEnvVars(env: Record<string, string>): k8s.types.input.core.v1.EnvVar[] {
    return Object.keys(env)
        .sort()
        .map((key) => ({ name: key, value: env[key] }));
}
