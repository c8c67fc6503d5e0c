// ReleasedService: builds the source once, runs a Kubernetes Deployment pinned to an image
// digest, and makes the digest it runs an output anyone can read.
import * as dockerBuild from "@pulumi/docker-build";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";

import { type CredentialLookup, loadCredentialLookup } from "./dockerConfig";
import { type Provenance, readProvenance, SHORT_SHA_LENGTH } from "./provenance";
import { DIGEST_PATTERN, normalizeDigest, pinnedRef, registryHost, taggedRef } from "./reference";
import { locateRepository, type ManifestState, RegistryClient, RegistryError } from "./registry";
import {
    type BuildPlan,
    chooseSource,
    declaresBuild,
    holdRefusal,
    planBuild,
    type ReleaseHold,
    type ReleaseSource,
    SOURCE_DIGEST_LABEL,
    STACK_LABEL,
    stackTag,
    type TagHolding,
} from "./release";
import { sourceDigest } from "./sourceDigest";
import { describeProblems, inputProblems } from "./validate";

export const DEFAULT_CONTEXT = "app";
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_PORT = 8080;
export const MANAGED_BY = "released-service";
/**
 * The kubernetes provider's own wait for a rollout. It does not stop at ProgressDeadlineExceeded: it
 * waits until this timeout (10 minutes unless set), so a deadline is set both here and in the spec.
 */
export const TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds";
/**
 * Server-side apply refuses to change a field another field manager owns, and `kubectl rollout undo`
 * or `kubectl set image` makes kubectl the owner of the image, the change-cause and the version label.
 * Forcing the apply lets the next update take them back, so the config decides what runs again.
 */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";
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
    /**
     * `<organization>/<project>/<stack>` whose `imageDigest` output runs; nothing is built. On a file
     * backend the organization is always `organization`. Defaults to none.
     */
    readonly promoteFrom?: string;
    /** Whether this stack may build the source in `context`. Defaults to true. */
    readonly build?: boolean;
    /** Build context directory, with a Dockerfile inside. Defaults to `app`. */
    readonly context?: string;
    /** The version of the source in `context`. Defaults to `<context>/VERSION`, else the git short SHA. */
    readonly sourceVersion?: string;
    /**
     * The buildx builder that builds the image: one of the `docker-container`, `kubernetes` or
     * `remote` driver (docker-build refuses the `docker` driver). Defaults to Docker's current builder.
     */
    readonly builder?: string;
    /** Whether `pulumi preview` builds the image too. Defaults to false. */
    readonly buildOnPreview?: boolean;
    /** Old ReplicaSets Kubernetes keeps for `kubectl rollout undo`; 0 keeps none. Defaults to 10. */
    readonly revisionHistoryLimit?: number;
    /**
     * Seconds a rollout may take before it fails: the Deployment's `progressDeadlineSeconds` (time
     * without progress) and the time `pulumi up` waits for the whole rollout. Defaults to none
     * (Kubernetes' 600 s deadline, the provider's 10-minute wait).
     */
    readonly progressDeadlineSeconds?: number;
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
    /**
     * Whether the registry speaks plain HTTP although it is not on loopback (loopback registries
     * always do, as Docker assumes). Defaults to false.
     */
    readonly insecureRegistry?: boolean;
    /**
     * A hold on the digest a rollback put in place: while it is set, an update that would run any
     * other digest, or build a new image to run, fails before the Deployment changes. Defaults to none.
     */
    readonly hold?: ReleaseHold;
}

export const DEFAULT_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" } } as const;

/** The digest that would run, and whether a look-up or this update's push has shown the registry holds it. */
interface Resolved {
    readonly digest: string;
    readonly present: boolean;
}

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
        const problems = inputProblems({ name, ...args }, pulumi.getOrganization());
        if (problems.length > 0) {
            // Thrown before super(): a refused input registers nothing, not even this component.
            throw new pulumi.RunError(describeProblems(problems));
        }
        const build = args.build ?? true;
        const context = args.context ?? DEFAULT_CONTEXT;
        if (build && !isDirectory(context)) {
            throw new pulumi.RunError(
                `\`context\` ${context} does not exist or is not a directory: it must hold the Dockerfile to build, ` +
                    "or set `build` to false to run only images already pushed",
            );
        }
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
        const location = locateRepository(args.image);
        const registry = new RegistryClient({
            credentials: credentialLookup(args.image, args.registryUsername, password),
            insecureRegistries: args.insecureRegistry === true ? [location.registry] : [],
        });
        const refuseUnlessHeld = (next: { version: string; digest?: string }): void => {
            const refusal = args.hold === undefined ? undefined : holdRefusal(pulumi.getStack(), args.hold, next);
            if (refusal !== undefined) {
                throw new pulumi.ResourceError(refusal, this, true);
            }
        };
        // A registry that does not answer fails every look-up with one error, so it is reported once
        // (the SDK reports an error once by identity), naming the registry and how to start it.
        let unreachable: pulumi.ResourceError | undefined;
        const lookupError = (error: unknown, ref: string, nothingDone: string): unknown => {
            if (!(error instanceof RegistryError)) {
                return error;
            }
            if (error.unreachable) {
                unreachable ??= keepMessage(new pulumi.ResourceError(`${error.message}${startHint(location.registry)}. Nothing was built, pushed or changed.`, this, true));
                return unreachable;
            }
            return new pulumi.ResourceError(`cannot look up ${ref}: ${error.message}. ${nothingDone}`, this, true);
        };
        // One registry look-up per tag and update, however many questions ask for it.
        const lookups = new Map<string, Promise<string | undefined>>();
        const lookup = (tag: string): Promise<string | undefined> => {
            let found = lookups.get(tag);
            if (found === undefined) {
                found = registry.digestOfTag(location, tag).catch((error: unknown) => {
                    // Unreachable is not "no such tag": say what failed, and change nothing.
                    throw lookupError(error, taggedRef(args.image, tag), "Nothing was changed.");
                });
                lookups.set(tag, found);
            }
            return found;
        };

        let built: pulumi.Output<boolean> | undefined;
        let buildDigest: pulumi.Output<string> | undefined;
        if (declaresBuild(selection) && sourceVersion !== undefined) {
            // A context with uncommitted changes is not the commit: its short SHA names other source.
            const releaseTags = buildTags(args.image, sourceVersion, provenance?.dirty === true ? undefined : provenance?.revision);
            const ownTag = stackTag(pulumi.getStack());
            const tags = [...releaseTags, taggedRef(args.image, ownTag)];
            const labels = ociLabels(sourceVersion, provenance, {
                sourceDigest: sourceDigest(context),
                stack: `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`,
            });
            // Resources are declared only once the registry has said what the tags hold: a build that
            // would move a released tag is refused before anything is registered or pushed.
            const holdings = releaseTags.map((ref) => {
                const tag = ref.slice(args.image.length + 1);
                const found = registry.imageAt(location, tag).then(
                    (image): TagHolding | undefined => image && { tag, ...image },
                    (error: unknown) => {
                        throw lookupError(error, ref, "Nothing was built or pushed.");
                    },
                );
                // What these tags held before the build is what every other question about them gets.
                lookups.set(tag, found.then((holding) => holding?.digest));
                return found;
            });
            const plan = this.planBuild(args.image, holdings, labels, lookup(ownTag)).then((p) => {
                // A new image to run has no digest before it is pushed: a hold refuses it from the plan,
                // so the preview fails too and nothing is built.
                if (source.kind === "built" && p.kind === "build") {
                    refuseUnlessHeld({ version: sourceVersion });
                }
                return p;
            });
            const image = plan.then((p) =>
                p.kind === "build" || (p.kind === "reuse" && p.declare)
                    ? new dockerBuild.Image(
                          `${name}-image`,
                          {
                              push: true,
                              tags,
                              context: { location: context },
                              labels,
                              buildArgs: buildArgs(sourceVersion, provenance),
                              buildOnPreview: args.buildOnPreview ?? false,
                              builder: args.builder === undefined ? undefined : { name: args.builder },
                              registries: credentials === undefined ? undefined : [credentials],
                          },
                          {
                              parent: this,
                              // A pushed release is somebody's rollback target: deleting this resource must
                              // leave the registry alone (docker-build deletes the tags otherwise).
                              retainOnDelete: true,
                          },
                      )
                    : undefined,
            );
            // `built` speaks of the image that runs: a rollback on a building stack may push the current
            // source (a version nobody released yet) while an earlier image runs.
            built = pulumi.output(plan.then((p) => source.kind === "built" && p.kind === "build"));
            buildDigest = pulumi.output(
                Promise.all([plan, image]).then(([p, declared]) =>
                    p.kind === "reuse" ? pulumi.output(p.digest) : declared!.digest.apply(pushedDigest),
                ),
            );
        }

        const promoted =
            source.kind === "promoted"
                ? new pulumi.StackReference(`${name}-promoted`, { name: source.stack }, { parent: this })
                : undefined;
        const version: pulumi.Output<string> =
            args.version !== undefined
                ? pulumi.output(args.version)
                : promoted!.requireOutput("version").apply((v) => String(v));
        const resolved = this.resolveDigest(source, args.image, args.version, { lookup: (tag) => pulumi.output(lookup(tag)), buildDigest, promoted });
        // A hold allows its digest alone. Pods could not pull a digest the registry no longer holds: what
        // no look-up has shown present is asked about once, by digest, before the Deployment may run it.
        const digest = pulumi.all([resolved, version]).apply(async ([r, v]) => {
            refuseUnlessHeld({ version: v, digest: r.digest });
            return r.present ? r.digest : this.stillPresent(registry, args.image, r.digest, v);
        });
        const imageRef = digest.apply((d) => pinnedRef(args.image, d));

        const labels = { "app.kubernetes.io/name": name };
        const serviceLabels = { ...labels, "app.kubernetes.io/managed-by": MANAGED_BY };
        const versionLabels = version.apply((v) => ({
            ...labels,
            "app.kubernetes.io/version": labelValue(v),
            "app.kubernetes.io/managed-by": MANAGED_BY,
        }));
        const port = args.port ?? DEFAULT_PORT;
        const deadline = args.progressDeadlineSeconds;
        const deployment = new k8s.apps.v1.Deployment(
            name,
            {
                metadata: {
                    namespace: args.namespace,
                    labels: versionLabels,
                    annotations: {
                        "kubernetes.io/change-cause": pulumi.all([version, imageRef]).apply(([v, r]) => changeCause(v, r)),
                        [PATCH_FORCE_ANNOTATION]: "true",
                        ...(deadline === undefined ? {} : { [TIMEOUT_ANNOTATION]: String(deadline) }),
                    },
                },
                spec: {
                    replicas: args.replicas ?? DEFAULT_REPLICAS,
                    revisionHistoryLimit: args.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
                    progressDeadlineSeconds: deadline,
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
            lookup: (tag: string) => pulumi.Output<string | undefined>;
            buildDigest?: pulumi.Output<string>;
            promoted?: pulumi.StackReference;
        },
    ): pulumi.Output<Resolved> {
        const fail = (message: string): never => {
            throw new pulumi.ResourceError(message, this, true);
        };
        // Every source but promotion has a plain version: validation requires one.
        const tag = version ?? "";
        switch (source.kind) {
            case "pinned":
                // A tag that no longer exists is fine: the pin is exact. A tag elsewhere is a mistake.
                return from.lookup(tag).apply((found) =>
                    found !== undefined && found !== source.digest
                        ? fail(
                              `\`digest\` ${source.digest} is pinned for version ${tag}, but ${taggedRef(image, tag)} ` +
                                  `now points to ${found}: the tag moved. Check which image you mean to run and pin that digest.`,
                          )
                        : { digest: source.digest, present: found === source.digest },
                );
            case "promoted":
                return from.promoted!.requireOutput("imageDigest").apply((d) =>
                    typeof d === "string" && DIGEST_PATTERN.test(d)
                        ? { digest: d, present: false }
                        : fail(`\`promoteFrom\` stack ${source.stack} has no valid \`imageDigest\` output (got ${String(d)})`),
                );
            case "built":
                // Pushed by this update, or reused from the version's tag the plan looked up.
                return from.buildDigest!.apply((d) => ({ digest: d, present: true }));
            case "looked-up":
                return from.lookup(tag).apply((found) =>
                    found !== undefined
                        ? { digest: found, present: true }
                        : fail(
                              `version ${tag} cannot be resolved: tag ${tag} was not found in ${image}. ` +
                                  "Check the tag, push it, or pin its `digest`; the running Deployment was not changed.",
                          ),
                );
        }
    }

    /** `digest`, once its registry says it still holds it; else an error saying what to do. */
    private async stillPresent(registry: RegistryClient, image: string, digest: string, version: string): Promise<string> {
        const ref = pinnedRef(image, digest);
        let state: ManifestState;
        try {
            state = await registry.manifestState({ ...locateRepository(image), digest, text: ref });
        } catch (error) {
            throw error instanceof RegistryError
                ? new pulumi.ResourceError(`cannot check that ${ref} is still in its registry: ${error.message}. Nothing was changed.`, this, true)
                : error;
        }
        if (state === "missing") {
            throw new pulumi.ResourceError(
                `${ref} (version ${version}) is no longer in its registry: it was deleted, by a retention policy or by hand. ` +
                    "Pods could not pull it (ImagePullBackOff), so the running Deployment was not changed. Push that image again, " +
                    "or choose a release that is still there (`released-service verify` lists which are).",
                this,
                true,
            );
        }
        return digest;
    }

    /** What each tag the build would push holds now, and so whether to build, reuse or refuse. */
    private async planBuild(
        image: string,
        tags: readonly Promise<TagHolding | undefined>[],
        labels: Readonly<Record<string, string>>,
        lastBuilt: Promise<string | undefined>,
    ): Promise<BuildPlan> {
        const holdings = await Promise.all(tags);
        const plan = planBuild(holdings, labels, await lastBuilt);
        if (plan.kind === "refuse") {
            const { tag, digest } = plan.holding;
            const released = holdings[0]?.tag === tag ? `version ${tag} is already released as` : `tag ${tag} already names`;
            throw new pulumi.ResourceError(
                `${released} ${taggedRef(image, tag)} = ${digest}, built from other source ` +
                    `(${plan.holding.labels[SOURCE_DIGEST_LABEL] ?? "no source digest label"}; this source is ${labels[SOURCE_DIGEST_LABEL]}). ` +
                    "A released version never moves: bump the version (VERSION in the build context), or delete VERSION to let the " +
                    "commit SHA be the version. Nothing was built or pushed.",
                this,
                true,
            );
        }
        return plan;
    }
}

/**
 * The digest a build pushed. docker-build answers a preview of a changed image with a known empty
 * digest (its Update returns early; only changed inputs are marked unknown), so in a preview an
 * empty digest means "computed by the update", never a value.
 */
function pushedDigest(digest: string): pulumi.Output<string> {
    return digest === "" ? unknownUntilUpdate<string>() : pulumi.output(normalizeDigest(digest));
}

/** A value the engine shows as computed in a preview: the SDK's unknown, typed as what it stands for. */
function unknownUntilUpdate<T>(): pulumi.Output<T> {
    return pulumi.output(pulumi.unknown) as unknown as pulumi.Output<T>;
}

/** Explicit credentials for the image's registry, else those `docker login` left (config file or helper). */
function credentialLookup(image: string, username: pulumi.Input<string> | undefined, password: pulumi.Output<string> | undefined): CredentialLookup {
    const host = locateRepository(image).registry;
    let fromDocker: Promise<CredentialLookup> | undefined;
    return async (registry) => {
        if (registry === host && username !== undefined && password !== undefined) {
            return { username: await known(pulumi.output(username)), password: await known(password) };
        }
        fromDocker ??= loadCredentialLookup();
        return (await fromDocker)(registry);
    };
}

/** The value of an Output that is known while the program runs, as config values are. */
function known<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

function isDirectory(dir: string): boolean {
    try {
        return fs.statSync(dir).isDirectory();
    } catch {
        return false;
    }
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
    provenance?: Pick<Provenance, "revision" | "created" | "source">,
    identity?: { readonly sourceDigest: string; readonly stack: string },
): Record<string, string> {
    const labels: Record<string, string> = { "org.opencontainers.image.version": sourceVersion };
    if (identity !== undefined) {
        labels[SOURCE_DIGEST_LABEL] = identity.sourceDigest;
        labels[STACK_LABEL] = identity.stack;
    }
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

/** How to start a loopback registry that does not answer: the quickstart's own command. */
function startHint(registry: string): string {
    const match = /^(localhost|127\.[0-9.]+)(?::(\d+))?$/.exec(registry);
    if (match === null) {
        return "";
    }
    const port = match[2] ?? "80";
    return ` (is it running? npm run up starts one, or: docker run -d -p ${port}:5000 --restart=always --name released-service-registry registry:2)`;
}

/**
 * The SDK prefixes `error serializing property "…": ` onto the message of an error that fails a
 * resource input, in place, once per input it fails. An error shared by several inputs keeps the
 * message it was written with, so its one report says what happened and nothing else.
 */
function keepMessage<E extends Error>(error: E): E {
    const message = error.message;
    Object.defineProperty(error, "message", { get: () => message, set: () => undefined, configurable: true });
    return error;
}
