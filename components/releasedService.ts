// ReleasedService: check the inputs, resolve the release (which image runs, proven in its
// registry), pin the workload to it, and make the digest it runs an output anyone can read.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";

import { serviceEntries } from "./config/entries";
import { CONFIG_NAMESPACE, DEFAULT_CONTEXT } from "./config/schema";
import { describeProblems, inputProblems } from "./config/validate";
import type { ReleaseHold } from "./release/plan";
import { readProvenance } from "./release/provenance";
import { type ReleaseInputs, resolveRelease } from "./release/resolve";
import { type KubernetesSettings, pinDeployment } from "./workloads/kubernetes/deployment";
import type { WorkloadRecord } from "./workloads/workload";

/** The type token the command finds every ReleasedService of a stack by. */
export const RELEASED_SERVICE_TYPE = "released-service:index:ReleasedService";

/**
 * The inputs of a ReleasedService. Fields that decide which resources exist (what to build,
 * what to run) are plain values: they are checked before anything is registered, and
 * resources are never created inside an `apply`. The stack config entries
 * `released-service:pins` and `released-service:holds` for this service's name apply over them.
 */
export interface ReleasedServiceArgs extends KubernetesSettings {
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
     * other digest, or build a new image to run, fails before the workload changes. Defaults to the
     * service's entry in `released-service:holds`, else none.
     */
    readonly hold?: ReleaseHold;
}

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
    public readonly workload: pulumi.Output<WorkloadRecord>;

    constructor(name: string, args: ReleasedServiceArgs, opts: pulumi.ComponentResourceOptions = {}) {
        // Thrown before super(): a refused input registers nothing, not even this component.
        const inputs = checkInputs(name, args);
        super(RELEASED_SERVICE_TYPE, name, {}, opts);

        const release = resolveRelease(this, name, inputs);
        this.workload = pinDeployment(name, release, args, this);

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

/**
 * The args with this service's stack config entries applied (a pin replaces the release to run, a
 * hold in the config replaces the args' hold), checked, with the build's context and provenance.
 */
function checkInputs(name: string, args: ReleasedServiceArgs): ReleaseInputs {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const { entries, problems: entryProblems } = serviceEntries(name, { pins: config.get("pins"), holds: config.get("holds") });
    const pinned = entries.pin === undefined ? args : { ...args, ...entries.pin, promoteFrom: undefined };
    const hold = entries.hold ?? args.hold;
    const problems = [...entryProblems, ...inputProblems({ name, ...pinned, hold }, pulumi.getOrganization())];
    if (problems.length > 0) {
        throw new pulumi.RunError(describeProblems(problems));
    }
    const build = pinned.build ?? true;
    const context = pinned.context ?? DEFAULT_CONTEXT;
    if (build && !isDirectory(context)) {
        throw new pulumi.RunError(
            `\`context\` ${context} does not exist or is not a directory: it must hold the Dockerfile to build, ` +
                "or set `build` to false to run only images already pushed",
        );
    }
    const provenance = build ? readProvenance(context) : undefined;
    const sourceVersion = pinned.sourceVersion ?? provenance?.sourceVersion;
    if (build && sourceVersion === undefined) {
        throw new pulumi.RunError(
            `\`sourceVersion\` is unknown: ${context}/VERSION is missing and ${context} is not in a git repository; ` +
                "set `sourceVersion`, or set `build` to false to run only images already pushed",
        );
    }
    return { ...pinned, build, context, provenance, sourceVersion, hold };
}

function isDirectory(dir: string): boolean {
    try {
        return fs.statSync(dir).isDirectory();
    } catch {
        return false;
    }
}
