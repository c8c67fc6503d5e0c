// Restore first (`rollback --restore-first`), the runbook's emergency path: every live workload of
// the services rolled back is given its target in one write each, at once, before the update that
// records the rollback. Which writes, and what is refused before any of them, is decided here from
// the state alone (pure); the writes go through Deps.write.

import { restoringApply } from "../../components/workloads/kubernetes/restore";
import { DEPLOYMENT_TYPE } from "../../components/workloads/kubernetes/live";
import { swarmRestoreArgs } from "../../components/workloads/swarm/restore";
import type { WorkloadRecord } from "../../components/workloads/workload";
import type { StackConfig } from "./config";
import { type Connection, connectionOf } from "./connection";
import { CliError, ExitCode } from "./exitCodes";
import { RENDER_KEY } from "./reach";
import type { LiveWrite } from "./workloads";
import type { OwnWorkload } from "./ownWorkloads";
import type { Target } from "./release";
import type { ServiceState } from "./services";

/** A write the restore makes, for the service it restores, and how its instances are then watched. */
export interface RestoreWrite {
    readonly service: string;
    /** For people: `Deployment shop/api-1a2b3c`, `Swarm service shop-web`. */
    readonly what: string;
    readonly connection: Connection;
    readonly write: LiveWrite;
    /** The workload whose instances must come to the target. */
    readonly watch: { readonly record: WorkloadRecord } | { readonly own: OwnWorkload };
}

/** What a restore writes: the target's image reference and version for one service. */
export interface RestoreTarget {
    readonly service: string;
    readonly imageRef: string;
    readonly version: string;
}

/** Why the kinds the command does not write first are left to the update, which is as fast there. */
const PULUMI_IS_FAST: Readonly<Record<string, string>> = {
    docker:
        "a Docker host container runs one image for its life: the provider replaces it (a new container, by pulumi up), " +
        "so a container started ahead of the update would be one the update replaces again; the rollback's pulumi up is the fast path there",
    compose:
        "a Compose file is written by the update and its containers recreated by docker compose, which is what the rollback's pulumi up runs; " +
        "there is no faster write",
};

/** A restore's write to a Kubernetes object, or why the object cannot be written ahead of its update. */
function applyWrite(
    service: ServiceState,
    outputs: Readonly<Record<string, unknown>>,
    from: string,
    target: RestoreTarget,
    builtIn: boolean,
    placed: Pick<RestoreWrite, "connection" | "watch">,
): RestoreWrite | string {
    const apply = restoringApply(outputs, { imageRef: from, version: service.version ?? "" }, target, builtIn);
    if ("refused" in apply) {
        return apply.refused;
    }
    const { reference } = apply;
    return { service: service.name, what: `${reference.kind} ${reference.namespace}/${reference.name}`, write: { kind: "apply", ...apply }, ...placed };
}

/** A restore's write to a Swarm service: its image, and its release label when it is the component's own. */
function swarmWrite(service: string, swarmService: string, target: RestoreTarget, builtIn: boolean, placed: Pick<RestoreWrite, "connection" | "watch">): RestoreWrite {
    return { service, what: `Swarm service ${swarmService}`, write: { kind: "docker", args: swarmRestoreArgs(swarmService, target.imageRef, target.version, builtIn) }, ...placed };
}

/** The writes that restore one service's own Kubernetes or Swarm workloads, or why one cannot be. */
function ownWrites(service: ServiceState, target: RestoreTarget, config: StackConfig): (RestoreWrite | string)[] {
    const from = service.imageRef;
    return (service.ownWorkloads ?? []).map((own): RestoreWrite | string => {
        const subject = `${own.name} (${own.type})`;
        if (own.live === undefined || from === undefined) {
            return `${subject}: a resource of this type is not written ahead of the update`;
        }
        const placed = { connection: connectionOf(own.live.kind, config, own.provider), watch: { own } };
        if (own.live.kind === "kubernetes") {
            const write = applyWrite(service, own.outputs ?? {}, from, target, false, placed);
            return typeof write === "string" ? `${subject}: ${write}` : write;
        }
        return own.live.kind === "swarm" ? swarmWrite(service.name, own.live.service, target, false, placed) : `${subject}: ${PULUMI_IS_FAST.docker}`;
    });
}

/** The write that restores a ReleasedService's own workload, or why it cannot be. */
function builtInWrite(service: ServiceState, target: RestoreTarget, config: StackConfig): RestoreWrite | string | undefined {
    const record = service.workload;
    if (record === undefined) {
        return undefined;
    }
    const subject = `its ${record.kind} workload`;
    if (record.kind === "docker" || record.kind === "compose") {
        return `${subject}: ${PULUMI_IS_FAST[record.kind]}`;
    }
    const placed = { connection: connectionOf(record.kind, config, service.origin?.provider), watch: { record } };
    if (record.kind === "swarm") {
        return swarmWrite(service.name, record.service, target, true, placed);
    }
    const resource = service.workloadResource;
    const from = service.deployedImage ?? service.imageRef;
    if (resource?.type !== DEPLOYMENT_TYPE || from === undefined) {
        return `${subject}: its state records no Deployment and the image it runs`;
    }
    const write = applyWrite(service, resource.outputs, from, target, true, placed);
    return typeof write === "string" ? `${subject}: ${write}` : write;
}

/**
 * Every write that restores `targets`, in the services' order, or a refusal naming every workload
 * that cannot be written ahead of its update and why (nothing is written then). A service already
 * on its target is written too: a write that changes nothing starts no rollout. Pure.
 */
export function restorePlan(stack: string, targets: readonly RestoreTarget[], current: readonly ServiceState[], config: StackConfig): RestoreWrite[] {
    const writes: RestoreWrite[] = [];
    const refused: string[] = [];
    const rendered = config[RENDER_KEY];
    for (const target of targets) {
        const service = current.find((one) => one.name === target.service);
        if (service === undefined) {
            refused.push(`service ${target.service}: stack ${stack} does not run it now, so there is no workload to write`);
            continue;
        }
        const found = [builtInWrite(service, target, config), ...ownWrites(service, target, config)].filter((one) => one !== undefined);
        if (found.length === 0) {
            refused.push(`service ${target.service}: no workload of it is recorded in the state`);
        }
        for (const one of found) {
            if (typeof one === "string") {
                refused.push(`service ${target.service}, ${one}`);
            } else if (one.write.kind === "apply" && typeof rendered === "string" && rendered !== "") {
                refused.push(`service ${target.service}, ${one.what}: stack ${stack} renders its Kubernetes manifests into ${rendered} (${RENDER_KEY}), so there is no cluster to write`);
            } else {
                writes.push(one);
            }
        }
    }
    if (refused.length > 0) {
        throw new CliError(
            `rollback --restore-first of stack ${stack} refused before changing anything, since it writes every workload of a service or none:\n  ${refused.join("\n  ")}\n` +
                "Roll back without --restore-first: its pulumi up moves these workloads.",
            ExitCode.Failure,
        );
    }
    return writes;
}

/** The target of each service as the restore writes it: `<repository>@<digest>` and the version. */
export function restoreTargets(targets: readonly Target[], imageRefOf: (target: Target) => string): RestoreTarget[] {
    return targets.map((target) => ({ service: target.service, imageRef: imageRefOf(target), version: target.version }));
}
