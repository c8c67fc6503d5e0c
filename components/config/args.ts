// The args of a ReleasedService: every field is a row of schema.ts, which checks it and documents
// it; the Kubernetes workload's own settings come from its module.
import type * as pulumi from "@pulumi/pulumi";

import type { ReleaseHold } from "../release/plan";
import type { KubernetesSettings } from "../workloads/kubernetes/deployment";

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

