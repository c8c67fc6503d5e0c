// Test support: Pulumi mocks that answer like the real providers and keep state across
// updates the way the engine does, a registry served over HTTP on loopback that the builds
// push to and the component's look-ups read from, and one way to run a program and read what
// it produced.
import * as pulumi from "@pulumi/pulumi";
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

import { scratchDir } from "./scratch";

// The registry client keeps image labels in the user's cache directory: this run keeps its own, so it
// reads none a previous run left and leaves none behind.
process.env.XDG_CACHE_HOME = scratchDir("cache-");

// Internal to the SDK (absent from its typings), but the only way to know that a program has
// finished registering its resources, which is what the CLI waits for too.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs: () => Promise<void> };

export const PROJECT = "released-service";
/** The organization of every stack on the file backend. */
export const ORGANIZATION = "organization";
export const IMAGE_TYPE = "docker-build:index:Image";
export const DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment";
export const SERVICE_TYPE = "kubernetes:core/v1:Service";
export const CONTAINER_TYPE = "docker:index/container:Container";
export const SWARM_SERVICE_TYPE = "docker:index/service:Service";

/**
 * Inputs whose change the provider answers with a replace rather than an update. The Docker
 * provider (kreuzwerker's Terraform provider, bridged) marks every container input the workloads
 * set ForceNew but `restart`, `wait` and `waitTimeout`, and a service's `name` (and `auth`) and
 * its container labels, `taskSpec.containerSpec.labels` (its own `labels` update in place);
 * pulumi-docker deletes a container before creating its replacement. A service's `mode` is
 * ForceNew only when the block is added or removed: replicated to global is an update there (the
 * Swarm kind asks the engine for a replace with `replaceOnChanges`, which mocks never see).
 */
const REPLACED_BY: Readonly<Record<string, readonly string[]>> = {
    [CONTAINER_TYPE]: ["image", "name", "envs", "ports", "labels", "healthcheck"],
    [SWARM_SERVICE_TYPE]: ["name", "taskSpec.containerSpec.labels"],
};

/** The value at a dotted path of inputs or state. */
function at(object: Record<string, unknown>, path: string): unknown {
    return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], object);
}
export const STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference";
/** How the SDK marks a secret value on the wire. */
const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function sha256(text: string | Buffer): string {
    return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/**
 * The loopback registry the mocks serve, `127.0.0.1:<port>`. The port is chosen when this module
 * loads, so tests can name images in constants; the server listens from the first update on.
 */
export const REGISTRY_HOST = `127.0.0.1:${execFileSync(
    process.execPath,
    ["-e", "const s = require('net').createServer().listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); })"],
    { encoding: "utf8" },
)}`;

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** An image of the mock registry: its manifest and config, content-addressed like a real one's. */
interface StoredImage {
    readonly manifest: Buffer;
    readonly config: Buffer;
}

/** What the engine did with a resource; `replace` is a delete of the old one, then a create (docker.Container). */
type Operation = "create" | "update" | "replace" | "same";

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
    /** Manifest requests the registry answered (HEAD or GET, by tag or digest). */
    readonly lookups: number;
    /** Blob requests it answered: the image configs whose labels were read. A real registry counts them too. */
    readonly blobReads: number;
    /** Errors the program failed with. */
    readonly errors: string[];
    /** The resource each of `errors` was raised on (a ResourceError's), which the engine shows it under; undefined for none. */
    readonly raisedOn: (pulumi.Resource | undefined)[];
    /** Warnings the program logged (`pulumi.log.warn`), as the engine shows them. */
    readonly warnings: string[];
    /** Stack outputs; a key is absent when its value is unknown (a preview). */
    readonly outputs: Record<string, unknown>;
    /** The engine's functions the program invoked, in order. */
    readonly invokes: string[];
}

/**
 * Mocks that behave like the engine and providers across successive updates: a resource with
 * unchanged inputs is left alone, a changed one is updated, one no longer declared is deleted at
 * the end of a successful up, and nothing is kept from a preview or a failed update's failures.
 */
export class MockCloud implements pulumi.runtime.Mocks {
    /** `repo:tag` → digest: the registry builds push to and look-ups read, over HTTP at REGISTRY_HOST. */
    readonly registry = new Map<string, string>();
    /** Manifests by digest (deleting one here is a registry's garbage collection). */
    readonly images = new Map<string, StoredImage>();
    /** When set, the registry answers only requests with these credentials (HTTP basic auth). */
    credentials?: { readonly username: string; readonly password: string };
    /** When set, the registry answers every request with this status, as a broken registry would. */
    failWith?: number;
    /** Outputs of other stacks, for `promoteFrom`, by stack name. */
    readonly stacks = new Map<string, Record<string, unknown>>();
    private readonly state = new Map<string, Stored>();
    /** The stack's outputs as its last up left them; none before the first. */
    private stackOutputs: Record<string, unknown> = {};
    private stack = "dev";
    private current: Recording = newUpdate();
    private preview = false;
    private buildSerial = 0;

    /** Starts recording one update of `stack`; the state carries over from the last successful one. */
    begin(preview: boolean, stack: string): void {
        this.current = newUpdate();
        this.preview = preview;
        this.stack = stack;
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
            this.stackOutputs = { ...this.current.outputs };
        }
    }

    /** Pushes an image built elsewhere (CI, another stack, another tool) and returns its digest. */
    pushElsewhere(ref: string, labels: Record<string, string> = {}): string {
        const digest = this.store(labels, `elsewhere:${ref}:${++this.buildSerial}`);
        this.registry.set(ref, digest);
        return digest;
    }

    /**
     * Holds an image under `digest`, as a registry holds what was pushed by digest: a test's fixed or
     * generated pin then exists. Unlike a registry, the mock does not check the digest is the manifest's hash.
     */
    pushDigest(digest: string): string {
        return this.store({}, `digest:${digest}`, digest);
    }

    /** Every tag and image of `other`: stacks of one project push to and run from one registry. */
    shareRegistry(other: MockCloud): void {
        other.registry.forEach((digest, ref) => this.registry.set(ref, digest));
        other.images.forEach((image, digest) => this.images.set(digest, image));
    }

    /** Stores an image whose config carries `labels`; `salt` stands for layers no build reproduces. */
    private store(labels: Record<string, string>, salt: string, at?: string): string {
        const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: { Labels: labels }, rootfs: { type: "layers", diff_ids: [sha256(salt)] } }));
        const manifest = Buffer.from(
            JSON.stringify({
                schemaVersion: 2,
                mediaType: OCI_MANIFEST,
                config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
                layers: [],
            }),
        );
        const digest = at ?? sha256(manifest);
        this.images.set(digest, { manifest, config });
        return digest;
    }

    /** Answers one registry API request for this cloud's images (the Distribution API's subset the client uses). */
    serve(request: http.IncomingMessage, response: http.ServerResponse): void {
        const match = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(request.url ?? "");
        const expected = this.credentials && `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString("base64")}`;
        if (this.failWith !== undefined) {
            response.writeHead(this.failWith).end();
            return;
        }
        if (expected !== undefined && request.headers.authorization !== expected) {
            response.writeHead(401, { "WWW-Authenticate": `Basic realm="${REGISTRY_HOST}"` }).end();
            return;
        }
        if (match === null || (request.method !== "GET" && request.method !== "HEAD")) {
            response.writeHead(404).end();
            return;
        }
        const [, repository, kind, reference] = match;
        if (kind === "blobs") {
            this.current.blobReads++;
            const config = [...this.images.values()].find((image) => sha256(image.config) === reference)?.config;
            response.writeHead(config ? 200 : 404, { "Content-Type": "application/octet-stream" }).end(request.method === "GET" ? config : undefined);
            return;
        }
        this.current.lookups++;
        const digest = reference.startsWith("sha256:") ? reference : this.registry.get(`${REGISTRY_HOST}/${repository}:${reference}`);
        const image = digest === undefined ? undefined : this.images.get(digest);
        if (image === undefined) {
            response.writeHead(404, { "Content-Type": "application/json" }).end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
            return;
        }
        response
            .writeHead(200, { "Content-Type": OCI_MANIFEST, "Docker-Content-Digest": digest!, "Content-Length": image.manifest.length })
            .end(request.method === "GET" ? image.manifest : undefined);
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
        const replaced = stored !== undefined && (REPLACED_BY[args.type] ?? []).some((field) => canonical(at(args.inputs, field)) !== canonical(at(stored.state, field)));
        this.current.operations.set(key, stored === undefined ? "create" : replaced ? "replace" : "update");
        const state = this.apply(args, stored?.state);
        if (!this.preview && state !== undefined) {
            this.state.set(key, { inputs, state });
        }
        return { id: String(state?.id ?? args.name), state: state ?? args.inputs };
    }

    /**
     * The engine's reads of the stack's own state: its outputs as its last up left them, and every
     * resource's outputs by URN, as the engine names the children of a top-level ReleasedService or ReleasedImage.
     */
    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        this.current.invokes.push(args.token);
        const own = `${ORGANIZATION}/${PROJECT}/${this.stack}`;
        const name = args.inputs.name ?? args.inputs.stackName;
        if (args.token !== "pulumi:pulumi:readStackOutputs" && args.token !== "pulumi:pulumi:readStackResourceOutputs") {
            throw new Error(`unexpected invoke ${args.token}`);
        }
        if (name !== own) {
            throw new Error(`unknown stack ${String(name)}`);
        }
        if (args.token === "pulumi:pulumi:readStackOutputs") {
            return { name, outputs: this.stackOutputs, secretOutputNames: [] };
        }
        // The mock keeps no parents: each child is read under either top-level component's URN.
        const prefixes = ["ReleasedService", "ReleasedImage"].map((component) => `urn:pulumi:${this.stack}::${PROJECT}::released-service:index:${component}$`);
        const resources = [...this.state.entries()].flatMap(([key, stored]) => {
            const [type, resourceName] = key.split("::");
            return prefixes.map((prefix) => [`${prefix}${type}::${resourceName}`, { type, outputs: stored.state }]);
        });
        return { name, outputs: Object.fromEntries(resources) };
    }

    /** The provider's create or update: what it computes beyond the inputs. */
    private apply(args: pulumi.runtime.MockResourceArgs, previous?: Record<string, unknown>): Record<string, unknown> | undefined {
        const inputs = args.inputs;
        switch (args.type) {
            case IMAGE_TYPE: {
                if (this.preview && inputs.buildOnPreview !== true) {
                    // docker-build's preview without a build: a create leaves digest and ref unknown, but an
                    // update answers a known empty string (its Update returns early; pulumi-go-provider marks
                    // only changed inputs unknown).
                    return previous === undefined ? { ...inputs, id: args.name } : { ...previous, ...inputs, digest: "", ref: "" };
                }
                // Layers stamped with the build's own time: a rebuild of the same source is a new digest.
                const digest = this.store(inputs.labels ?? {}, `build ${++this.buildSerial}: ${canonical(inputs)}`);
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

/** The cloud whose update runs now; the one registry server answers from its images. */
let active: MockCloud | undefined;
let listening: Promise<void> | undefined;

/** Starts the registry at REGISTRY_HOST once; it never keeps the test run alive. */
function serveRegistry(): Promise<void> {
    listening ??= new Promise((resolve, reject) => {
        const server = http.createServer((request, response) => {
            if (active === undefined) {
                response.writeHead(503).end();
            } else {
                active.serve(request, response);
            }
        });
        server.once("error", reject);
        const [host, port] = REGISTRY_HOST.split(":");
        server.listen(Number(port), host, () => {
            server.unref();
            resolve();
        });
    });
    return listening;
}

function newUpdate(): Recording {
    return { resources: [], operations: new Map(), deleted: [], builds: 0, pushes: 0, lookups: 0, blobReads: 0, errors: [], raisedOn: [], warnings: [], outputs: {}, invokes: [] };
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

/** The image the one Deployment of an update runs. */
export function running(update: Update): string {
    const deployments = ofType(update, DEPLOYMENT_TYPE);
    assert.equal(deployments.length, 1, "exactly one Deployment");
    return deployments[0].inputs.spec.template.spec.containers[0].image;
}

/** The update failed with exactly `message` (after the engine's prefix) and never sent Deployment `name` to the engine. */
export function assertRefused(update: Update, message: string, name = "app"): void {
    assert.equal(update.errors.length, 1, update.errors.join("\n"));
    assert.ok(update.errors[0].endsWith(message), update.errors[0]);
    assert.equal(update.operations.has(`${DEPLOYMENT_TYPE}::${name}`), false, "the Deployment was never sent to the engine");
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
    await pulumi.runtime.setMocks(cloud, PROJECT, options.stack ?? "dev", preview, ORGANIZATION);
    pulumi.runtime.setAllConfig(options.config ?? {}, options.secretKeys);
    await serveRegistry();
    active = cloud;
    cloud.begin(preview, options.stack ?? "dev");
    const errors = cloud.update.errors;
    // As the SDK's run script does: each error is reported once, by identity, with its message as it
    // reads then (the SDK prefixes "error serializing property …" onto an error that fails an input).
    const reported = new Set<unknown>();
    const onRejection = (reason: unknown): void => {
        if (!reported.has(reason)) {
            reported.add(reason);
            errors.push(reason instanceof Error ? reason.message : String(reason));
            cloud.update.raisedOn.push(pulumi.ResourceError.isInstance(reason) ? reason.resource : undefined);
        }
    };
    // Failed registrations surface as unhandled rejections, as they do under the Pulumi CLI.
    const previous = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", onRejection);
    // Without an engine to send them to, the SDK writes a program's warnings to console.warn.
    const warn = console.warn;
    console.warn = (...args: unknown[]): void => {
        const text = args.map(String).join(" ");
        const logged = /^warning: \[runtime\] ([\s\S]*)$/.exec(text);
        if (logged === null) {
            warn(...args);
        } else {
            cloud.update.warnings.push(logged[1]);
        }
    };
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
        console.warn = warn;
        process.removeListener("unhandledRejection", onRejection);
        previous.forEach((listener) => process.on("unhandledRejection", listener));
    }
    cloud.finish();
    return cloud.update;
}

const CHECKOUT = path.resolve(__dirname, "..", "..");
const PROGRAM = path.join(CHECKOUT, "index.ts");

/** The sample service's version as the checkout ships it, in the project directory the program runs in. */
export const SAMPLE_VERSION = "v0.1.0";

let projectDir: string | undefined;

/**
 * The directory the main program runs in, as `pulumi` runs it in its project's: the sample
 * service's source as `app/` at SAMPLE_VERSION, and nothing else. Not the checkout itself, whose
 * `.pulumi/`, `rendered/`, stack config and `app/VERSION` are the user's (`npm run up` and the
 * quickstart's own edits leave them there), and must change nothing a test sees.
 */
export function programDir(): string {
    if (projectDir === undefined) {
        const dir = scratchDir("project-");
        fs.mkdirSync(path.join(dir, "app"));
        for (const file of ["Dockerfile", "server.js"]) {
            fs.copyFileSync(path.join(CHECKOUT, "app", file), path.join(dir, "app", file));
        }
        fs.writeFileSync(path.join(dir, "app", "VERSION"), `${SAMPLE_VERSION}\n`);
        projectDir = dir;
    }
    return projectDir;
}

/** Runs the project's main program with the given stack config (keys without the namespace), in programDir(). */
export async function runProgram(
    cloud: MockCloud,
    config: Record<string, string>,
    options: { preview?: boolean; stack?: string; secretKeys?: string[] } = {},
): Promise<Update> {
    const namespaced = Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v]));
    const secretKeys = options.secretKeys?.map((k) => `${PROJECT}:${k}`);
    const cwd = process.cwd();
    process.chdir(programDir());
    try {
        return await runUpdate(
            cloud,
            () => {
                // A fresh evaluation of the program for every update, as the CLI runs it.
                delete require.cache[PROGRAM];
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                return require(PROGRAM) as Record<string, unknown>;
            },
            { ...options, config: namespaced, secretKeys },
        );
    } finally {
        process.chdir(cwd);
    }
}
