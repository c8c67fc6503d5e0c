// `released-service status`: the digest the stack recorded against what its workload runs live.
// The workload module lists and judges the instances; drift is named, not hidden.

import type { LiveInstance, LiveWorkload, WorkloadLocation } from "../../components/workloads/live";
import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES_POINTER, flag, text } from "../core/command";
import { type Context, writeJson } from "../core/context";
import { CliError, ExitCode } from "../core/exitCodes";
import { renderTable } from "../core/output";
import { shortDigest } from "../core/reference";
import type { StackConfig } from "../core/config";
import { type HistoryEntry, repositoryOf, updateNumbers } from "../core/history";
import { prepareAlongside, unfinishedOf } from "../core/prepare";
import { describeLock, describePending, type Unfinished } from "../core/state";
import { pinOf, type ServiceState } from "../core/services";
import { identify, wrongClusterRefusal } from "../core/cluster";
import { type Connection, connectionOf, describeConnection } from "../core/connection";
import { ownIdentities, type OwnWorkloadLive, readOwnWorkload, restoredAhead } from "../core/ownLive";

const HELP = `Usage: released-service status [--stack S] [--service NAME] [--json]

For every ReleasedService of the stack (found in its state by type, whatever
the program), compares the digest the service recorded with what each live
instance of its workload runs, where the workload record the service
registered points: on Kubernetes the pods its selector matches (the digest
each pulled, its containers' imageID); on a Docker host the container, the
Compose service's containers or the Swarm service's tasks. Each is read where
pulumi up deploys it: kubectl with the stack config's kubernetes:kubeconfig,
kubernetes:context and kubernetes:cluster (or the recorded inputs of the
provider its Deployment names), the docker CLI with docker:host (or its
provider's host); the current context only when the provider uses it too.
When the Deployment of the recorded name there has another uid than the stack
recorded (another cluster, or deleted and re-created), status refuses in one
line, naming both, and exits 3; one that is missing is reported. An instance running
another digest is DRIFT: the workload was changed outside Pulumi, for example
by kubectl rollout undo. When the stack's newest update failed, what runs is
what the last successful update recorded (Swarm, for one, rolls a failed update
back by itself), and that update may have asked for a release that does not
run: status says so, naming the version it asked for (a pin, or what the
service's args asked), and exits 1. A lock left on the stack's state backend
(an update running now, or one killed mid-way) is named with the one command
that lifts it, pulumi cancel, and status exits 1; operations its checkpoint
lists as begun and not ended are named too.

The resources of the stack that run a release's imageRef (a ReleasedImage's,
or a ReleasedService's beside its own workload) are listed under it, each
read where its provider connects: a Kubernetes object by the image at each
place its inputs named the release, and the pods it selects; a Docker
container; a Swarm service's tasks. Another image there is DRIFT; a workload
gone is reported; a type the command does not read is listed as recorded.

--json prints {stack, drift, services: [{service, recordedVersion,
recordedDigest, imageRef, pods: [{pod, phase, ready, version, digest, state}],
drift, namespace, selector}]}; for a Docker workload the instances are
containers: [{container, ...}] (tasks: [{task, ...}] for Swarm) and the
location fields are its own (container; composeFile and composeService;
swarmService): service is always the ReleasedService's name. A release's
own workloads add workloads: [{type, name, where, state, images: [{path,
live}], pods|containers|tasks}], state ok, drift, missing, not read or
restored. After a rollback --restore-first whose update has not recorded it
yet, a service whose instances or own workloads run the release its pin
names adds recordPending: true (not drift; their state is restored), and
status exits 1 until pulumi up records it. After a failed update it adds
failedUpdate: {update, configVersions: [{service, version}]}. A lock or pending operations add unfinished: {locks: [{key,
takenBy}], pendingOperations: [{type, urn}]}.

Options:
      --service <name> only this service
      --json          print the comparison as JSON
${COMMON_HELP}

${EXIT_CODES_POINTER}
`;

/** One instance as `--json` prints it: named under its kind's noun (`pod`, `container`, `task`). */
export type InstanceStatus = Omit<LiveInstance, "name"> & { readonly pod?: string; readonly container?: string; readonly task?: string };

/** One service's comparison, as `--json` prints it: its instances under its kind's noun, and where they run. */
export interface ServiceStatus extends WorkloadLocation {
    /** The ReleasedService's resource name. */
    readonly service: string;
    readonly recordedVersion: string | null;
    readonly recordedDigest: string | null;
    readonly imageRef: string | null;
    readonly pods?: readonly InstanceStatus[];
    readonly containers?: readonly InstanceStatus[];
    readonly tasks?: readonly InstanceStatus[];
    /** The user's own resources that run its imageRef, found in the state, each as read live. */
    readonly workloads?: readonly OwnWorkloadStatus[];
    readonly drift: boolean;
    /** Its instances run the release its pin names, restored ahead of the update that records it (rollback --restore-first). */
    readonly recordPending?: boolean;
}

/** One own workload as `--json` prints it: its instances under its kind's noun. */
export type OwnWorkloadStatus = Omit<OwnWorkloadLive, "noun" | "instances"> & {
    readonly pods?: readonly InstanceStatus[];
    readonly containers?: readonly InstanceStatus[];
    readonly tasks?: readonly InstanceStatus[];
};

function ownStatus({ noun, instances, ...rest }: OwnWorkloadLive): OwnWorkloadStatus {
    return noun === undefined || instances === undefined ? rest : { ...rest, [noun.many]: instances.map(({ name, ...fields }): InstanceStatus => ({ [noun.one]: name, ...fields })) };
}

/** What `--json` prints. */
export interface StatusReport {
    readonly stack: string;
    readonly drift: boolean;
    readonly services: ServiceStatus[];
    readonly failedUpdate?: ReturnType<typeof failedUpdate>;
    readonly unfinished?: { readonly locks: Unfinished["locks"]; readonly pendingOperations: Unfinished["pending"] };
}

export interface StatusOptions {
    readonly stack?: string;
    readonly service?: string;
    readonly json: boolean;
}

/** What status asks of one service's own workload kind, started for every service at once. */
interface Listing {
    readonly live: LiveWorkload;
    readonly instances: Promise<LiveInstance[]>;
    readonly connection: Connection;
}

/** What one service's comparison says: its report, its lines for people, and whether it is as recorded. */
interface Judged {
    readonly report: ServiceStatus;
    readonly text: string;
    readonly healthy: boolean;
}

/**
 * Asks every service's workload and the user's own workloads at once (calls made together share one
 * listing where a kind allows it), and refuses when a workload answers from another cluster than
 * the stack recorded: nothing is reported from it.
 */
async function readLive(
    context: Context,
    stack: string,
    config: StackConfig,
    services: readonly ServiceState[],
): Promise<{ listings: Map<string, Listing>; owned: Map<string, Promise<OwnWorkloadLive[]>> }> {
    const asked = services.flatMap((service) => {
        if (!service.imageDigest || service.workload === undefined) {
            return [];
        }
        const connection = connectionOf(service.workload.kind, config, service.origin?.provider);
        const live = context.deps.live(service.workload, connection);
        const instances = live.instances({ digest: service.imageDigest, imageRef: service.imageRef });
        instances.catch(() => undefined);
        // A cluster that cannot say is left to the listing, which names why.
        const answer = identify(live).catch(() => undefined);
        return [{ service, listing: { live, instances, connection }, answer }];
    });
    const owned = new Map(
        services.flatMap((service) => {
            const { imageDigest: digest, imageRef } = service;
            if (!digest || !imageRef || service.ownWorkloads === undefined) {
                return [];
            }
            const reads = Promise.all(service.ownWorkloads.map((workload) => readOwnWorkload(context, config, workload, { imageRef, digest })));
            reads.catch(() => undefined);
            return [[service.name, reads] as const];
        }),
    );
    if (asked.length > 0) {
        const { live } = asked[0].listing;
        context.progress.update(asked.length === 1 ? `Listing ${live.noun.many} ${live.where}…` : `Listing what ${asked.length} services run…`);
    }
    const reached = await Promise.all(
        asked.map(async ({ service, listing, answer }) => {
            const answered = await answer;
            return answered === undefined ? [] : [{ service: service.name, record: service.workload!, origin: service.origin, connection: listing.connection, answer: answered }];
        }),
    );
    const wrong = wrongClusterRefusal(`status of stack ${stack} refused: `, stack, reached.flat(), await ownIdentities(context, config, services));
    if (wrong !== undefined) {
        context.progress.done();
        throw new CliError(wrong, ExitCode.Failure);
    }
    return { listings: new Map(asked.map(({ service, listing }) => [service.name, listing])), owned };
}

/** The release the config pins for a service when it is not the one recorded: what a restore-first rollback ran ahead of its record. */
function pinnedAhead(config: StackConfig, service: ServiceState): { readonly imageRef: string; readonly digest: string } | undefined {
    const pin = pinOf(config, service.name);
    const repository = repositoryOf(service.imageRef);
    return pin !== undefined && pin.digest !== service.imageDigest && repository !== undefined ? { imageRef: `${repository}@${pin.digest}`, digest: pin.digest } : undefined;
}

/** One service's comparison: its recorded release against its instances and own workloads as read. */
function judgeService(
    context: Context,
    stack: { readonly name: string; readonly configFile: string },
    service: ServiceState,
    read: { readonly listing?: Listing; readonly instances?: LiveInstance[]; readonly own?: OwnWorkloadLive[]; readonly pinned?: { readonly digest: string } },
    first: boolean,
): Judged {
    const { paint } = context;
    const { listing, own, pinned } = read;
    const lead = `${first ? "" : "\n"}Service ${service.name} of stack ${stack.name}`;
    const base = { service: service.name, recordedVersion: service.version ?? null, recordedDigest: service.imageDigest ?? null, imageRef: service.imageRef ?? null };
    const workloads = own?.map(ownStatus);
    const ownPending = (own ?? []).some((workload) => workload.state === "restored");
    const ownHealthy = (own ?? []).every((workload) => workload.state === "ok" || workload.state === "not read");
    const ownDrift = (own ?? []).some((workload) => workload.state === "drift");
    const records = `${lead} records ${service.version ?? "(no version)"} ${service.imageDigest}\n`;
    if (service.imageDigest && service.workload === undefined && own !== undefined) {
        return {
            report: { ...base, workloads, drift: ownDrift, ...(ownPending ? { recordPending: true } : {}) },
            text: `${records}  image ${service.imageRef}\n${renderOwn(own, service.imageDigest, paint)}`,
            healthy: ownHealthy,
        };
    }
    if (!service.imageDigest || listing === undefined || read.instances === undefined) {
        const why = !service.imageDigest ? "records no digest (not deployed yet)" : "records no workload (its component registered none)";
        return { report: { ...base, drift: false }, text: `Service ${service.name} of stack ${stack.name} ${why}.\n`, healthy: false };
    }
    const { live, connection } = listing;
    const off = read.instances.filter((instance) => instance.state === "drift");
    // Restored ahead of its record: every instance off the recorded digest runs the one the config pins.
    const pending = off.length > 0 && pinned !== undefined && off.every((instance) => instance.digest === pinned.digest);
    const drift = off.length > 0 && !pending;
    const instances = pending ? read.instances.map((instance): LiveInstance => (instance.state === "drift" ? { ...instance, state: "restored" } : instance)) : read.instances;
    const lines = [
        records,
        describeInstancesRead(context, stack, service, { live, connection, instances, off, pending: pending ? pinned!.digest : undefined, drift }),
        own === undefined ? "" : renderOwn(own, service.imageDigest, paint),
    ];
    return {
        report: {
            ...base,
            [live.noun.many]: instances.map(({ name, ...rest }): InstanceStatus => ({ [live.noun.one]: name, ...rest })),
            ...(workloads !== undefined ? { workloads } : {}),
            drift: drift || ownDrift,
            ...(pending || ownPending ? { recordPending: true } : {}),
            ...live.location,
        },
        text: lines.join(""),
        healthy: ownHealthy && off.length === 0 && instances.length > 0,
    };
}

/** A built-in workload's instances for people: where they were read, each instance, and a restore pending its record or drift. */
function describeInstancesRead(
    context: Context,
    stack: { readonly name: string; readonly configFile: string },
    service: ServiceState,
    read: { readonly live: LiveWorkload; readonly connection: Connection; readonly instances: readonly LiveInstance[]; readonly off: readonly LiveInstance[]; readonly pending?: string; readonly drift: boolean },
): string {
    const { paint } = context;
    const { live, instances, off } = read;
    const lines: string[] = [];
    if (service.imageRef) {
        lines.push(`  image ${service.imageRef}\n`);
    }
    const where = describeConnection(read.connection);
    if (where !== "") {
        lines.push(`  read on ${where}\n`);
    }
    lines.push(instances.length === 0 ? `${live.none}\n` : `\n${capital(live.noun.many)} (${live.where}):\n${renderInstances(instances, live.noun.one, paint)}`);
    if (read.pending !== undefined) {
        lines.push(
            `\n${paint("RESTORED, RECORD PENDING", "yellow")}: ${off.length} of ${instances.length} ${live.noun.many} run ${read.pending}, the release ${stack.configFile} pins, ` +
                `restored ahead of the update that records it (rollback --restore-first). pulumi up --stack ${stack.name} records it.\n`,
        );
    }
    if (read.drift) {
        const drifted = instances.filter((instance) => instance.state === "drift");
        const digests = [...new Set(drifted.map((instance) => `${instance.digest} (version label ${instance.version ?? "none"})`))];
        lines.push(
            `\n${paint("DRIFT", "red")}: ${drifted.length} of ${instances.length} ${live.noun.many} run ${digests.join(", ")}, not the recorded ${service.imageDigest}.\n` +
                `${live.driftCause}\n`,
        );
    }
    return lines.join("");
}

const capital = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);

/** With `json`, `report` gets the comparison (writeJson prints it, by default) and nothing else is printed. */
export async function status(context: Context, options: StatusOptions, report: (result: StatusReport) => void = (result) => writeJson(context, result)): Promise<number> {
    // The history and any lock are read while the state and config are.
    const {
        prepared: { stack, config, services: all },
        alongside: [history, unfinished],
    } = await prepareAlongside(context, { ...options, check: "service", cluster: "status" }, (opened) => Promise.all([opened.history(), unfinishedOf(context, opened)]));
    const services = all.filter((service) => options.service === undefined || service.name === options.service);
    if (!services.some((service) => service.imageDigest)) {
        context.progress.done();
        throw new CliError(`stack ${stack.name} records no release digest (of a ReleasedService or ReleasedImage): it has not been deployed yet (run pulumi up)`, ExitCode.NotOk);
    }
    const { listings, owned } = await readLive(context, stack.name, config, services);
    const judged: Judged[] = [];
    for (const service of services) {
        const listing = listings.get(service.name);
        const pinned = pinnedAhead(config, service);
        const ownRead = await owned.get(service.name);
        const read = {
            listing,
            instances: await listing?.instances,
            own: pinned === undefined ? ownRead : ownRead?.map((workload) => restoredAhead(workload, pinned)),
            pinned,
        };
        judged.push(judgeService(context, stack, service, read, judged.length === 0));
    }
    context.progress.done();
    const failed = failedUpdate(history, services, config);
    const left = unfinished.locks.length > 0 || unfinished.pending.length > 0;
    const locked = describeLock(stack.name, unfinished);
    if (options.json) {
        report({
            stack: stack.name,
            drift: judged.some(({ report }) => report.drift),
            services: judged.map(({ report }) => report),
            ...(failed ? { failedUpdate: failed } : {}),
            ...(left ? { unfinished: { locks: unfinished.locks, pendingOperations: unfinished.pending } } : {}),
        });
    } else {
        context.stdout.write(judged.map(({ text }) => text).join(""));
        context.stdout.write(describeFooter(context, stack.name, failed, unfinished));
    }
    return judged.every(({ healthy }) => healthy) && failed === undefined && locked === undefined ? ExitCode.Ok : ExitCode.NotOk;
}

/** What follows the services for people: a failed newest update, and a lock or pending operations. */
function describeFooter(context: Context, stack: string, failed: ReturnType<typeof failedUpdate>, unfinished: Unfinished): string {
    const lines: string[] = [];
    if (failed) {
        const asked = failed.configVersions.map((entry) => `${entry.service} ${entry.version}`).join(", ");
        lines.push(
            `\nThe newest update of stack ${stack}, #${failed.update}, failed: what runs is what the last successful update recorded, ` +
                (asked === "" ? "and it may have asked for a release that does not run." : `while it asked for ${asked}.`) +
                ` Roll back by config (released-service rollback --to <update> --stack ${stack}) so the config names what runs, or fix the release and run pulumi up.\n`,
        );
    }
    const locked = describeLock(stack, unfinished);
    const pending = describePending(stack, unfinished);
    if (locked !== undefined || pending !== undefined) {
        lines.push(`\n${locked !== undefined ? `${context.paint("LOCKED", "red")}: ${locked}.` : pending}\n`);
    }
    return lines.join("");
}

/** What the newest update asked a service to run: its pin, else the version its args asked (the component's recorded input). */
function askedVersion(service: ServiceState, config: StackConfig): string | undefined {
    return pinOf(config, service.name)?.version ?? service.asked?.version;
}

/**
 * The newest update when it failed: the recorded releases are the last successful update's (an
 * update a workload rolled back by itself, as Swarm does, records nothing new), so the config may
 * ask for a release that does not run. Each service's asked-for version, where it differs.
 */
function failedUpdate(
    history: readonly HistoryEntry[],
    services: readonly ServiceState[],
    config: StackConfig,
): { readonly update: number; readonly configVersions: readonly { readonly service: string; readonly version: string }[] } | undefined {
    const index = history.findIndex((entry) => entry.kind === "update");
    if (index < 0 || history[index].result !== "failed") {
        return undefined;
    }
    const configVersions = services.flatMap((service) => {
        const version = askedVersion(service, config);
        return version !== undefined && version !== service.version ? [{ service: service.name, version }] : [];
    });
    return { update: updateNumbers(history)[index], configVersions };
}

/** The own workloads of a release, one row each, and why any is not as recorded. */
function renderOwn(own: readonly OwnWorkloadLive[], digest: string, paint: Context["paint"]): string {
    const state = (text: string): string => (text === "ok" ? paint(text, "green") : text === "drift" || text === "missing" ? paint(text.toUpperCase(), "red") : paint(text, "yellow"));
    const runs = (workload: OwnWorkloadLive): string => {
        const images = [...new Set(workload.images.map((image) => image.live ?? "(none)"))];
        const instances = workload.instances === undefined || workload.noun === undefined ? "" : ` (${workload.instances.filter((instance) => instance.state === "ok").length} of ${workload.instances.length} ${workload.noun.many} on it)`;
        return `${images.length === 0 ? "-" : images.map(shortImage).join(", ")}${instances}`;
    };
    const table = renderTable(
        ["WORKLOAD", "TYPE", "WHERE", "RUNS", "STATE"],
        own.map((workload) => [workload.name, workload.type, workload.where ?? "-", workload.where === null ? "(not read live)" : runs(workload), state(workload.state)]),
    );
    const notes = own.flatMap((workload) => {
        if (workload.state === "drift") {
            return [`${paint("DRIFT", "red")}: ${workload.name} (${workload.type}) runs another image than the recorded ${digest}: it was changed outside Pulumi (kubectl set image, a rollout undo); \`pulumi up --refresh\` puts the recorded image back if the object has the annotation pulumi.com/patchForce: "true", else the Kubernetes provider refuses the field the other manager took.`];
        }
        if (workload.state === "missing") {
            return [`${workload.name} (${workload.type}): nothing of it runs at ${workload.where}.`];
        }
        if (workload.state === "restored") {
            return [
                `${paint("RESTORED, RECORD PENDING", "yellow")}: ${workload.name} (${workload.type}) runs the release the stack config pins, restored ahead of the update that records it (rollback --restore-first); pulumi up records it.`,
            ];
        }
        if (workload.state === "not read") {
            return [`${workload.name} (${workload.type}): the command does not read this type live; the state records it runs this release.`];
        }
        return [];
    });
    return `\nWorkloads that run it (found in the stack's state by the image they name):\n${table}${notes.map((note) => `${note}\n`).join("")}`;
}

/** `repo@sha256:0123456789ab`: an image reference with its digest shortened. */
function shortImage(reference: string): string {
    const at = reference.lastIndexOf("@");
    return at < 0 ? reference : `${reference.slice(0, at)}@${shortDigest(reference.slice(at + 1))}`;
}

function renderInstances(instances: readonly LiveInstance[], noun: string, paint: Context["paint"]): string {
    const state = (text: string): string => (text === "ok" ? paint(text, "green") : text === "drift" ? paint("DRIFT", "red") : paint(text, "yellow"));
    return renderTable(
        [noun.toUpperCase(), "PHASE", "READY", "VERSION", "DIGEST", "STATE"],
        instances.map((instance) => [
            instance.name,
            instance.phase,
            instance.ready ? "yes" : "no",
            instance.version ?? "-",
            instance.digest ? shortDigest(instance.digest) : "-",
            state(instance.state),
        ]),
    );
}

export const statusCommand: Command = {
    name: "status",
    summary: "each service's recorded digest against the digests its live instances run",
    help: HELP,
    options: { ...COMMON_OPTIONS, service: { type: "string" }, json: { type: "boolean" } },
    run: (context, values) => status(context, { stack: text(values, "stack"), service: text(values, "service"), json: flag(values, "json") }),
};
