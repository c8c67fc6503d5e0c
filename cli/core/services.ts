// The releases of a stack (its ReleasedServices and ReleasedImages), whatever program declares them:
// found in a checkpoint by their type token and read from the outputs each registered, with the
// user's own resources that run each, and the per-service pins and holds the component reads from
// its own config namespace. Pure.

import { HOLDS, PINS, pinProblems } from "../../components/config/entries";
import { nearest } from "../../components/config/stackConfig";
import { RELEASE_TYPES } from "../../components/labels";
import { holdProblems } from "../../components/config/validate";
import { ASKED_FIELDS, type Asked, askedOf, type Pin } from "../../components/release/pin";
import { describeHold, type ReleaseHold } from "../../components/release/plan";
import { deployedImageOf } from "./workloads";
import { originOf, type StateResource as RecordedResource, WORKLOAD_TYPES, type WorkloadOrigin } from "./connection";
import { type OwnWorkload, ownWorkloadsOf } from "./ownWorkloads";
import { WORKLOAD_KINDS, type WorkloadRecord } from "../../components/workloads/workload";
import { type ConfigValue, configKey, type StackConfig } from "./config";
import { CliError, ExitCode, usageError } from "./exitCodes";

export { describeHold, type Pin };


export const PINS_KEY = configKey(PINS);
export const HOLDS_KEY = configKey(HOLDS);

/** What one ReleasedService recorded in a checkpoint. */
export interface ServiceState {
    /** The service's resource name: the last `::` segment of its URN. */
    readonly name: string;
    readonly imageDigest?: string;
    readonly imageRef?: string;
    readonly version?: string;
    readonly built?: boolean;
    /** Where its workload runs, as the component registered it. */
    readonly workload?: WorkloadRecord;
    /**
     * The image its workload's resource names: what the cluster was last told to run, even by a
     * failed update. For a release with no workload of its own, its imageRef when resources of the
     * user's own run it.
     */
    readonly deployedImage?: string;
    /** What its args asked in the update that recorded this state, even one that failed: the component's input. */
    readonly asked?: Asked;
    /** The provider its workload's resource was deployed with, and the object's uid there. */
    readonly origin?: WorkloadOrigin;
    /** The user's own resources that run its imageRef, found in the same state. */
    readonly ownWorkloads?: readonly OwnWorkload[];
    /** Its workload's resource as the state records it: its type and outputs (a restore rewrites what they say was applied). */
    readonly workloadResource?: RecordedWorkload;
}

/** A workload's resource as a state records it. */
export interface RecordedWorkload {
    readonly type: string;
    readonly outputs: Readonly<Record<string, unknown>>;
}

/** The component's recorded input: each release field its args set, as text. */
function askedIn(inputs: Record<string, unknown> | undefined): Asked | undefined {
    const asked = inputs?.asked;
    if (asked === null || typeof asked !== "object" || Array.isArray(asked)) {
        return undefined;
    }
    const fields = Object.entries(asked);
    return fields.every(([key, value]) => (ASKED_FIELDS as readonly string[]).includes(key) && typeof value === "string") ? askedOf(asked as Asked) : undefined;
}

/** The part of an engine event (the Automation API's `EngineEvent`) that names a step's resource and its new inputs. */
export interface StepEvent {
    readonly resourcePreEvent?: { readonly metadata: { readonly type: string; readonly urn: string; readonly new?: { readonly inputs?: Record<string, unknown> } } };
}

/**
 * What a ReleasedService's args ask, from the step a preview or update announces for it (its new
 * inputs: what the program asks as it evaluates now), or undefined for any other event.
 */
export function askedOfStep(event: StepEvent): { readonly service: string; readonly asked: Asked } | undefined {
    const metadata = event.resourcePreEvent?.metadata;
    if (metadata === undefined || !RELEASE_TYPES.includes(metadata.type)) {
        return undefined;
    }
    const asked = askedIn(metadata.new?.inputs);
    return asked === undefined ? undefined : { service: metadata.urn.split("::").pop()!, asked };
}

interface StateResource extends RecordedResource {
    readonly parent?: string;
    readonly custom?: boolean;
    readonly inputs?: Record<string, unknown>;
    readonly outputs?: Record<string, unknown>;
}

function resourcesOf(state: unknown): readonly StateResource[] {
    const document = state as { checkpoint?: { latest?: { resources?: StateResource[] } }; deployment?: { resources?: StateResource[] } } | null;
    return document?.checkpoint?.latest?.resources ?? document?.deployment?.resources ?? [];
}

function textField(outputs: Record<string, unknown>, key: string): string | undefined {
    return typeof outputs[key] === "string" ? (outputs[key] as string) : undefined;
}

/** A registered workload record of a known kind (a Kubernetes one must say where its pods are). */
function isWorkloadRecord(value: unknown): value is WorkloadRecord {
    const record = value as { kind?: unknown; namespace?: unknown; selector?: unknown } | null;
    if (record === null || typeof record !== "object" || !WORKLOAD_KINDS.some((kind) => kind === record.kind)) {
        return false;
    }
    return record.kind !== "kubernetes" || (typeof record.namespace === "string" && typeof record.selector === "object" && record.selector !== null);
}

/**
 * Every ReleasedService a state file recorded, by name. Accepts the file backend's checkpoint
 * (`{version, checkpoint: {latest: {resources}}}`) and `pulumi stack export` output
 * (`{version, deployment: {resources}}`). Secret outputs stay unknown.
 */
export function servicesOfState(state: unknown): ServiceState[] {
    const resources = resourcesOf(state);
    const components = resources.filter((resource) => RELEASE_TYPES.includes(resource.type ?? "") && resource.urn !== undefined);
    const own = ownWorkloadsOf(
        resources,
        components.flatMap((component) => {
            const imageRef = textField(component.outputs ?? {}, "imageRef");
            return imageRef === undefined ? [] : [{ urn: component.urn!, imageRef }];
        }),
    );
    return components
        .map((component): ServiceState => {
            const outputs = component.outputs ?? {};
            const ownWorkloads = own.get(component.urn!) ?? [];
            const children = resources.filter((resource) => resource.parent === component.urn);
            // A release without a workload of its own was deployed where its own workloads run its imageRef.
            const deployedImage = deployedImageOf(children) ?? (ownWorkloads.length > 0 ? textField(outputs, "imageRef") : undefined);
            const built = outputs.built;
            const asked = askedIn(component.inputs);
            const origin = originOf(children, resources);
            const recorded = children.find((resource) => resource.type !== undefined && WORKLOAD_TYPES.includes(resource.type));
            return {
                name: component.urn!.split("::").pop()!,
                imageDigest: textField(outputs, "imageDigest"),
                imageRef: textField(outputs, "imageRef"),
                version: textField(outputs, "version"),
                ...(typeof built === "boolean" ? { built } : {}),
                ...(isWorkloadRecord(outputs.workload) ? { workload: outputs.workload } : {}),
                ...(deployedImage !== undefined ? { deployedImage } : {}),
                ...(asked !== undefined ? { asked } : {}),
                ...(origin !== undefined ? { origin } : {}),
                ...(ownWorkloads.length > 0 ? { ownWorkloads } : {}),
                ...(recorded?.outputs !== undefined ? { workloadResource: { type: recorded.type!, outputs: recorded.outputs } } : {}),
            };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
}

/** A hold as the stack config holds it: a plain object, so it can be written back as config. */
export type Hold = ReleaseHold & { readonly [field: string]: unknown };

/**
 * A structured key as the component reads it: an object in the stack config file, or its JSON text
 * (what `pulumi config set key '{…}'` stores); any other text stays text, for the checks to name.
 */
function structured(config: StackConfig, key: string): unknown {
    const value = config[key];
    if (typeof value !== "string") {
        return value;
    }
    try {
        return JSON.parse(value) as unknown;
    } catch {
        return value;
    }
}

function entries(config: StackConfig, key: string): Readonly<Record<string, unknown>> {
    const value = structured(config, key);
    return value !== undefined && value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The pins the stack config holds, by service. */
export function pinsOf(config: StackConfig): Readonly<Record<string, unknown>> {
    return entries(config, PINS_KEY);
}

/** The holds the stack config holds, by service. */
export function holdsOf(config: StackConfig): Readonly<Record<string, unknown>> {
    return entries(config, HOLDS_KEY);
}

/** The pin of one service, when it is well-formed. */
export function pinOf(config: StackConfig, service: string): Pin | undefined {
    return pinIn(pinsOf(config), service);
}

/** A service's entry of `pins` (the stack config's, or the one an update ran with) as a pin, when the component would read it as one. */
export function pinIn(pins: unknown, service: string): Pin | undefined {
    const pin = pins !== null && typeof pins === "object" && !Array.isArray(pins) ? (pins as Record<string, unknown>)[service] : undefined;
    return pin !== undefined && pinProblems(pin, service).length === 0 ? (pin as Pin) : undefined;
}

/** A hold as recorded, when it is well-formed. */
function holdFrom(value: unknown): Hold | undefined {
    const hold = value as Record<string, unknown> | null | undefined;
    if (hold === undefined || hold === null || typeof hold !== "object" || typeof hold.digest !== "string") {
        return undefined;
    }
    const text = (field: string): string | undefined => (typeof hold[field] === "string" ? (hold[field] as string) : undefined);
    return { digest: hold.digest, by: text("by"), at: text("at"), reason: text("reason") };
}

/** The hold of one service, when it is well-formed. */
export function holdOf(config: StackConfig, service: string): Hold | undefined {
    return holdFrom(holdsOf(config)[service]);
}

export function newHold(digest: string, by: string, at: Date, reason: string): Hold {
    return { digest, by, at: at.toISOString().replace(/\.\d{3}Z$/, "Z"), reason };
}

/** `entries` with `service`'s entry set to `value`, or removed when `value` is undefined. */
export function withEntry(all: Readonly<Record<string, unknown>>, service: string, value: ConfigValue | undefined): Record<string, unknown> {
    const next: Record<string, unknown> = { ...all };
    if (value === undefined) {
        delete next[service];
    } else {
        next[service] = value;
    }
    return next;
}

function nearHint(name: string, known: readonly string[]): string {
    const near = nearest(name, known);
    return near !== undefined ? `; did you mean ${near}?` : "";
}

function servicesText(known: readonly string[]): string {
    return known.length > 0 ? `its services: ${known.join(", ")}` : "it declares no ReleasedService yet";
}

/**
 * Refuses pins and holds the component would refuse, or that name a service the program no longer
 * declares: each problem names the entry and says how to remove it. Nothing is changed before this passes.
 */
export function checkEntries(stack: string, config: StackConfig, known: readonly string[]): void {
    const problems: string[] = [];
    for (const [key, checkOne] of [
        [PINS_KEY, pinProblems],
        [HOLDS_KEY, holdProblems],
    ] as const) {
        const value = structured(config, key);
        if (value === undefined) {
            continue;
        }
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            problems.push(`\`${key}\` must be an object keyed by service name (got ${JSON.stringify(value)})`);
            continue;
        }
        for (const [service, entry] of Object.entries(value)) {
            const field = `${key}.${service}`;
            if (known.length > 0 && !known.includes(service)) {
                problems.push(
                    `\`${field}\` is for a service stack ${stack} does not declare (${servicesText(known)})${nearHint(service, known)}; ` +
                        `remove it with: pulumi config rm --path '${field}' --stack ${stack}`,
                );
                continue;
            }
            problems.push(...checkOne(entry, field));
        }
    }
    if (problems.length > 0) {
        throw usageError(`the stack config of stack ${stack} has entries the component would refuse; nothing was changed:\n  ${problems.join("\n  ")}`);
    }
}

/** Refuses a `--service` the stack does not declare, suggesting the nearest name. */
export function checkService(stack: string, service: string | undefined, known: readonly string[]): void {
    if (service !== undefined && !known.includes(service)) {
        throw usageError(`--service ${service}: stack ${stack} declares no service of that name (${servicesText(known)})${nearHint(service, known)}`);
    }
}

/**
 * Refuses a stack whose state records two releases of one name (a ReleasedService and a
 * ReleasedImage, or two under different parents): pins, holds and `--service` know a release by its
 * resource name, so the command could not tell which one an entry is for.
 */
export function checkUniqueNames(stack: string, services: readonly ServiceState[]): void {
    const names = services.map((service) => service.name);
    const twice = [...new Set(names.filter((name, index) => names.indexOf(name) !== index))];
    if (twice.length > 0) {
        throw new CliError(
            `stack ${stack} records more than one release named ${twice.join(", ")}: pins, holds and --service know a release by its resource name, ` +
                "so the command cannot tell them apart; give each ReleasedService and ReleasedImage a name of its own in the program and run pulumi up. Nothing was changed.",
            ExitCode.Failure,
        );
    }
}
