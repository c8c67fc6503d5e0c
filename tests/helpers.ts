// Test support: Pulumi mocks that answer like the real providers and keep state across
// updates the way the engine does, an in-memory registry the builds push to and the
// look-ups read from, and one way to run a program and read what it produced.
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as path from "node:path";

// Internal to the SDK (absent from its typings), but the only way to know that a program has
// finished registering its resources, which is what the CLI waits for too.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };

export const PROJECT = "released-service";
export const IMAGE_TYPE = "docker-build:index:Image";
export const DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment";
export const SERVICE_TYPE = "kubernetes:core/v1:Service";
export const LOOKUP_TOKEN = "docker:index/getRegistryImage:getRegistryImage";
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
/** How the SDK marks a secret value on the wire. */
const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function sha256(text: string): string {
    return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

type Operation = "create" | "update" | "same";

interface Stored {
    readonly inputs: string;
    readonly state: Record<string, unknown>;
}

/** What one `pulumi up` or `pulumi preview` did. */
export interface Update {
    /** Every resource the program registered, in order, with the inputs the engine saw. */
    readonly resources: pulumi.runtime.MockResourceArgs[];
    /** What the engine did with each registered custom resource, by `type::name`. */
    readonly operations: Map<string, Operation>;
    /** Resources in the state that the program no longer declared (deleted at the end of an up). */
    readonly deleted: string[];
    /** Images built and pushed. */
    readonly builds: number;
    /** Tags pushed to the registry. */
    readonly pushes: number;
    /** `getRegistryImage` look-ups. */
    readonly lookups: number;
    /** Errors the program failed with. */
    readonly errors: string[];
    /** Stack outputs; a key is absent when its value is unknown (a preview). */
    readonly outputs: Record<string, unknown>;
}

/**
 * Mocks that behave like the engine and providers across successive updates: a resource with
 * unchanged inputs is left alone, a changed one is updated, one no longer declared is deleted at
 * the end of a successful up, and nothing is kept from a preview or a failed update's failures.
 */
export class MockCloud implements pulumi.runtime.Mocks {
    /** `repo:tag` → digest: the registry builds push to and look-ups read. */
    readonly registry = new Map<string, string>();
    /** Outputs of other stacks, for `promoteFrom`, by stack name. */
    readonly stacks = new Map<string, Record<string, unknown>>();
    private readonly state = new Map<string, Stored>();
    private current: Recording = newUpdate();
    private preview = false;
    private buildSerial = 0;

    /** Starts recording one update; the state carries over from the last successful one. */
    begin(preview: boolean): void {
        this.current = newUpdate();
        this.preview = preview;
    }

    get update(): Update {
        return this.current;
    }

    /** Ends an update: resources no longer declared are deleted, unless the program failed. */
    finish(): void {
        if (this.current.errors.length > 0) {
            return;
        }
        const declared = new Set(this.current.operations.keys());
        this.current.deleted.push(...[...this.state.keys()].filter((key) => !declared.has(key)));
        if (!this.preview) {
            this.current.deleted.forEach((key) => this.state.delete(key));
        }
    }

    /** Pushes an image built elsewhere (CI, another stack) and returns its digest. */
    pushElsewhere(ref: string): string {
        const digest = sha256(`elsewhere:${ref}:${++this.buildSerial}`);
        this.registry.set(ref, digest);
        return digest;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        this.current.resources.push(args);
        if (!args.custom) {
            return { id: undefined, state: {} };
        }
        if (args.type === STACK_REFERENCE_TYPE) {
            const outputs = this.stacks.get(args.inputs.name);
            if (outputs === undefined) {
                throw new Error(`unknown stack ${args.inputs.name}`);
            }
            return { id: args.inputs.name, state: { name: args.inputs.name, outputs, secretOutputNames: [] } };
        }
        const key = `${args.type}::${args.name}`;
        const inputs = canonical(args.inputs);
        const stored = this.state.get(key);
        if (stored !== undefined && stored.inputs === inputs) {
            this.current.operations.set(key, "same");
            return { id: String(stored.state.id ?? args.name), state: stored.state };
        }
        this.current.operations.set(key, stored === undefined ? "create" : "update");
        const state = this.apply(args, stored?.state);
        if (!this.preview && state !== undefined) {
            this.state.set(key, { inputs, state });
        }
        return { id: String(state?.id ?? args.name), state: state ?? args.inputs };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        if (args.token !== LOOKUP_TOKEN) {
            throw new Error(`unexpected invoke ${args.token}`);
        }
        this.current.lookups++;
        const digest = this.registry.get(args.inputs.name);
        if (digest === undefined) {
            // The provider's words for a tag the registry does not have, carried as the engine carries
            // a failed invoke: in the gRPC error's details.
            const message = `Got error when attempting to fetch image version ${args.inputs.name} from registry: 404 Not Found`;
            throw Object.assign(new Error(message), { details: message });
        }
        return { id: digest, name: args.inputs.name, sha256Digest: digest };
    }

    /** The provider's create or update: what it computes beyond the inputs. */
    private apply(args: pulumi.runtime.MockResourceArgs, previous?: Record<string, unknown>): Record<string, unknown> | undefined {
        const inputs = args.inputs;
        switch (args.type) {
            case IMAGE_TYPE: {
                if (this.preview && inputs.buildOnPreview !== true) {
                    // A preview that does not build leaves digest and ref unknown.
                    return { ...inputs, id: args.name };
                }
                const digest = sha256(`build ${++this.buildSerial}: ${canonical(inputs)}`);
                this.current.builds++;
                const tags: string[] = inputs.tags ?? [];
                if (inputs.push === true && !this.preview) {
                    tags.forEach((tag) => this.registry.set(tag, digest));
                    this.current.pushes += tags.length;
                }
                return {
                    ...inputs,
                    id: tags[0] ?? digest,
                    digest,
                    ref: tags.length > 0 ? `${tags[0]}@${digest}` : "",
                    contextHash: sha256(`context ${canonical(inputs.context)}`),
                };
            }
            case DEPLOYMENT_TYPE:
            case SERVICE_TYPE: {
                const metadata = inputs.metadata ?? {};
                const name = (previous?.metadata as { name?: string } | undefined)?.name ?? autoName(args.name);
                const live = { ...metadata, name, namespace: metadata.namespace ?? "default" };
                const status = args.type === SERVICE_TYPE ? { loadBalancer: {} } : { replicas: inputs.spec?.replicas };
                const spec = args.type === SERVICE_TYPE ? { type: "ClusterIP", clusterIP: "10.96.0.10", ...inputs.spec } : inputs.spec;
                return { ...inputs, id: `${live.namespace}/${name}`, metadata: live, spec, status };
            }
            default:
                return { ...inputs, id: args.name };
        }
    }
}

type Recording = { -readonly [K in keyof Update]: Update[K] };

function newUpdate(): Recording {
    return { resources: [], operations: new Map(), deleted: [], builds: 0, pushes: 0, lookups: 0, errors: [], outputs: {} };
}

/** Kubernetes auto-naming: the logical name, a dash and 8 random characters. */
function autoName(name: string): string {
    return `${name}-${createHash("sha1").update(`${name}${Math.random()}`).digest("hex").slice(0, 8)}`;
}

/** Stable JSON: key order does not make inputs differ. */
export function canonical(value: unknown): string {
    return JSON.stringify(value, (_key, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
            : v,
    );
}

/** Whether `text` appears anywhere in `value` outside a value marked secret. */
export function containsInPlainText(value: unknown, text: string): boolean {
    if (typeof value === "string") {
        return value.includes(text);
    }
    if (value === null || typeof value !== "object") {
        return false;
    }
    const record = value as Record<string, unknown>;
    if (record[SECRET_KEY] === SECRET_SIG) {
        return false;
    }
    return Object.values(record).some((v) => containsInPlainText(v, text));
}

/** The value inside a secret as the engine sees it; fails when the value is not marked secret. */
export function secretValue(value: unknown): unknown {
    const record = value as Record<string, unknown> | undefined;
    if (record?.[SECRET_KEY] !== SECRET_SIG) {
        throw new Error(`expected a secret, got ${JSON.stringify(value)}`);
    }
    return record.value;
}

/** The registered resources of one type. */
export function ofType(update: Update, type: string): pulumi.runtime.MockResourceArgs[] {
    return update.resources.filter((r) => r.type === type);
}

/**
 * Runs `body` as one update against `cloud` and waits until every resource is registered. Errors
 * the program throws, synchronously or from an Output, are collected as the engine would report them.
 */
export async function runUpdate(
    cloud: MockCloud,
    body: () => Record<string, unknown> | void,
    options: { preview?: boolean; stack?: string; config?: Record<string, string>; secretKeys?: string[] } = {},
): Promise<Update> {
    const preview = options.preview ?? false;
    await pulumi.runtime.setMocks(cloud, PROJECT, options.stack ?? "dev", preview);
    pulumi.runtime.setAllConfig(options.config ?? {}, options.secretKeys);
    cloud.begin(preview);
    const errors = cloud.update.errors;
    const onRejection = (reason: unknown) => errors.push(reason instanceof Error ? reason.message : String(reason));
    // Failed registrations surface as unhandled rejections, as they do under the Pulumi CLI.
    const previous = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onRejection);
    try {
        const exported = body() ?? {};
        const outputs = cloud.update.outputs;
        for (const [key, value] of Object.entries(exported)) {
            if (pulumi.Output.isInstance(value)) {
                value.apply((v) => (outputs[key] = v));
            } else {
                outputs[key] = value;
            }
        }
        await waitForRPCs();
        // Let rejections raised by the last registrations reach the listener.
        await new Promise((resolve) => setImmediate(resolve));
    } catch (err) {
        onRejection(err);
    } finally {
        process.removeListener("unhandledRejection", onRejection);
        previous.forEach((listener) => process.on("unhandledRejection", listener));
    }
    cloud.update.errors.splice(0, errors.length, ...new Set(errors));
    cloud.finish();
    return cloud.update;
}

const PROGRAM = path.resolve(__dirname, "..", "index.ts");

/** Runs the project's main program with the given stack config (keys without the namespace). */
export function runProgram(
    cloud: MockCloud,
    config: Record<string, string>,
    options: { preview?: boolean; stack?: string; secretKeys?: string[] } = {},
): Promise<Update> {
    const namespaced = Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v]));
    const secretKeys = options.secretKeys?.map((k) => `${PROJECT}:${k}`);
    return runUpdate(
        cloud,
        () => {
            // A fresh evaluation of the program for every update, as the CLI runs it.
            delete require.cache[PROGRAM];
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            return require(PROGRAM) as Record<string, unknown>;
        },
        { ...options, config: namespaced, secretKeys },
    );
}
