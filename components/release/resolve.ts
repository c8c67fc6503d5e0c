// Which image runs, decided and proven: the build plan and its Image, look-ups by tag, pins,
// promotion, the hold and the presence check. The answer is a plain release; no workload is seen here.
import * as pulumi from "@pulumi/pulumi";

import { type CredentialLookup, loadCredentialLookup } from "../registry/credentials";
import { type ManifestState, RegistryClient, RegistryError } from "../registry/client";
import { DIGEST_PATTERN, locateRepository, pinnedRef, taggedRef } from "../registry/reference";
import { declareBuild, type DeclaredBuild } from "./build";
import { chooseSource, declaresBuild, holdRefusal, type ReleaseHold, type ReleaseSource } from "./plan";
import type { Provenance } from "./provenance";

/** The args that decide which image runs; each is a row of config/schema.ts. */
export interface ReleaseArgs {
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

/** What the resolution reads: the args, checked, with the build's context and what its source says. */
export interface ReleaseInputs extends ReleaseArgs {
    readonly build: boolean;
    readonly context: string;
    /** What the context's git and VERSION say, when this stack may build. */
    readonly provenance?: Provenance;
}

/** The release that runs: the seam between "which image" and "pin a workload to it". */
export interface Release {
    readonly image: string;
    /** `sha256:…`, proven present in the registry before any workload may run it. */
    readonly digest: pulumi.Output<string>;
    /** `<image>@sha256:…`. */
    readonly imageRef: pulumi.Output<string>;
    readonly version: pulumi.Output<string>;
    /** True when this update built and pushed the image that runs. */
    readonly built: pulumi.Output<boolean>;
}

/** The digest that would run, and whether a look-up or this update's push has shown the registry holds it. */
interface Resolved {
    readonly digest: string;
    readonly present: boolean;
}

/**
 * Resolves the release `service` (the component's resource name) runs. Errors are raised on `owner`,
 * and the Image and stack reference it may declare are its children.
 */
export function resolveRelease(owner: pulumi.ComponentResource, service: string, inputs: ReleaseInputs): Release {
    // A release fails once. Its look-ups, build plan and checks run apart, and each failure rejects
    // every Output that depends on it: the first error raised on the owner is the one every later
    // failure rejects with, so the engine, which reports an error once by identity, reports it once,
    // under this service. A registry that does not answer, or refuses us, thus fails it once too.
    let failure: pulumi.ResourceError | undefined;
    const failOnce = (message: string): pulumi.ResourceError => (failure ??= releaseError(message, owner));
    const fail = (message: string): never => {
        throw failOnce(message);
    };
    const { image } = inputs;
    const source = chooseSource(inputs);
    const password = inputs.registryPassword === undefined ? undefined : pulumi.secret(inputs.registryPassword);
    const location = locateRepository(image);
    const registry = new RegistryClient({
        credentials: credentialLookup(image, inputs.registryUsername, password),
        insecureRegistries: inputs.insecureRegistry === true ? [location.registry] : [],
    });
    const refuseUnlessHeld = (next: { version: string; digest?: string }): void => {
        const refusal = inputs.hold === undefined ? undefined : holdRefusal(pulumi.getStack(), service, inputs.hold, next);
        if (refusal !== undefined) {
            fail(refusal);
        }
    };
    // A registry that does not answer is named, with how to start it; one that answers an error, with
    // the reference it was asked about.
    const lookupError = (error: unknown, ref: string, nothingDone: string): unknown => {
        if (!(error instanceof RegistryError)) {
            return error;
        }
        return error.unreachable
            ? failOnce(`${error.message}${startHint(location.registry)}. Nothing was built, pushed or changed.`)
            : failOnce(`cannot look up ${ref}: ${error.message}. ${nothingDone}`);
    };
    // One registry look-up per tag and update, however many questions ask for it.
    const lookups = new Map<string, Promise<string | undefined>>();
    const lookup = (tag: string): Promise<string | undefined> => {
        let found = lookups.get(tag);
        if (found === undefined) {
            found = registry.digestOfTag(location, tag).catch((error: unknown) => {
                // Unreachable is not "no such tag": say what failed, and change nothing.
                throw lookupError(error, taggedRef(image, tag), "Nothing was changed.");
            });
            lookups.set(tag, found);
        }
        return found;
    };

    // The build, when this stack may build: what it pushes, or reuses, and whether the image that runs is it.
    const build =
        declaresBuild(inputs) && inputs.sourceVersion !== undefined
            ? declareBuild(owner, service, { ...inputs, sourceVersion: inputs.sourceVersion }, source, {
                  registry,
                  location,
                  lookups,
                  lookupError,
                  fail,
                  refuseUnlessHeld,
              })
            : undefined;
    const built = build?.built ?? pulumi.output(false);

    const promoted = source.kind === "promoted" ? new pulumi.StackReference(`${service}-promoted`, { name: source.stack }, { parent: owner }) : undefined;
    const version: pulumi.Output<string> =
        inputs.version !== undefined ? pulumi.output(inputs.version) : promoted!.requireOutput("version").apply((v) => String(v));
    const resolved = resolveDigest(source, image, inputs.version, { lookup: (tag) => pulumi.output(lookup(tag)), build, promoted }, fail);
    // A hold allows its digest alone. No workload could pull a digest the registry no longer holds: what
    // no look-up has shown present is asked about once, by digest, before the workload may run it.
    const digest = pulumi.all([resolved, version]).apply(async ([r, v]) => {
        refuseUnlessHeld({ version: v, digest: r.digest });
        return r.present ? r.digest : stillPresent(registry, image, r.digest, v, fail);
    });
    return { image, digest, imageRef: digest.apply((d) => pinnedRef(image, d)), version, built };
}

/** The digest to run, or an error naming what could not be resolved and what to do. */
function resolveDigest(
    source: ReleaseSource,
    image: string,
    version: string | undefined,
    from: {
        lookup: (tag: string) => pulumi.Output<string | undefined>;
        build?: DeclaredBuild;
        promoted?: pulumi.StackReference;
    },
    fail: (message: string) => never,
): pulumi.Output<Resolved> {
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
            // Pushed by this update, reused from the version's tag the plan looked up, or the stack's
            // last build: proven by the registry's answer, or, when its state told, asked once by digest.
            return from.build!.digest.apply(({ digest, proven }) => ({ digest, present: proven }));
        case "looked-up":
            return from.lookup(tag).apply((found) =>
                found !== undefined
                    ? { digest: found, present: true }
                    : fail(
                          `version ${tag} cannot be resolved: tag ${tag} was not found in ${image}. ` +
                              "Check the tag, push it, or pin its `digest`; what runs was not changed.",
                      ),
            );
    }
}

/** `digest`, once its registry says it still holds it; else an error saying what to do. */
async function stillPresent(registry: RegistryClient, image: string, digest: string, version: string, fail: (message: string) => never): Promise<string> {
    const ref = pinnedRef(image, digest);
    let state: ManifestState;
    try {
        state = await registry.manifestState({ ...locateRepository(image), digest, text: ref });
    } catch (error) {
        throw error instanceof RegistryError ? fail(`cannot check that ${ref} is still in its registry: ${error.message}. Nothing was changed.`) : error;
    }
    if (state === "missing") {
        fail(
            `${ref} (version ${version}) is no longer in its registry: it was deleted, by a retention policy or by hand. ` +
                "Nothing could pull it to run, so what runs was not changed. Push that image again, " +
                "or choose a release that is still there (`released-service verify` lists which are).",
        );
    }
    return digest;
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
 * The error a release is refused with, raised on `owner`, its stack hidden. Three things of the
 * SDK's are kept from it:
 * - the SDK prefixes `error serializing property "…": ` onto the message of an error that fails a
 *   resource input, in place, once per input: the message stays as written, so its one report
 *   says what happened and nothing else;
 * - the SDK's run script also formats every unhandled error with util.inspect, for its trace. The
 *   frames of an error raised in an Output's callback, mapped through the SDK's source maps, took
 *   30 to 60 s of CPU to format there, on every failed preview: the stack is the message alone;
 * - util.inspect also walks the error's enumerable properties: the resource is not one.
 */
export function releaseError(message: string, owner: pulumi.Resource): pulumi.ResourceError {
    const error = new pulumi.ResourceError(message, owner, true);
    Object.defineProperty(error, "message", { get: () => message, set: () => undefined, configurable: true });
    Object.defineProperty(error, "stack", { value: `ResourceError: ${message}`, writable: true, configurable: true });
    Object.defineProperty(error, "resource", { value: owner, enumerable: false });
    return error;
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
