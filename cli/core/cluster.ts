// Whether the command reached the cluster the stack's workloads were recorded on (contract rule 18).
// The state keeps each Deployment's metadata.uid: a live Deployment of the same name with another
// uid is another object, on another cluster or deleted and re-created; none of that name is a
// workload that is missing, which status reports as it always has. Pure.

import type { LiveIdentity, LiveWorkload } from "../../components/workloads/live";
import type { WorkloadRecord } from "../../components/workloads/workload";
import { CLUSTER_KEY, CONTEXT_KEY, type Connection, KUBECONFIG_KEY, looksLikeContent, type RecordedProvider, type WorkloadOrigin } from "./connection";
import type { OwnWorkload } from "./ownWorkloads";

/** One workload as the command reached it: where the state says it was deployed, and what answered. */
export interface Reached {
    readonly service: string;
    readonly record: WorkloadRecord;
    readonly origin?: WorkloadOrigin;
    readonly connection: Connection;
    readonly answer: LiveIdentity;
}

/** The workload's object in words: `Deployment payments/payment-api`. */
function objectOf(record: WorkloadRecord): string {
    return record.kind === "kubernetes" ? `Deployment ${record.namespace}/${record.deployment}` : `${record.kind} workload`;
}

/** The recorded provider's cluster setting, when it had one: its context, cluster or kubeconfig path. */
function recordedSetting(provider: RecordedProvider | undefined): { readonly context?: string; readonly text?: string } {
    const text = (key: string): string | undefined => {
        const value = provider?.inputs[key];
        return typeof value === "string" && value !== "" ? value : undefined;
    };
    const context = text("context");
    const cluster = text("cluster");
    const kubeconfig = text("kubeconfig");
    if (context !== undefined) {
        return { context, text: `kube context ${context}` };
    }
    if (cluster !== undefined) {
        return { text: `cluster ${cluster}` };
    }
    return kubeconfig !== undefined && !looksLikeContent(kubeconfig) ? { text: `kubeconfig ${kubeconfig}` } : {};
}

/** How to point the command (and pulumi up) at the stack's cluster, by where the connection came from. */
function howToPoint(stack: string, connection: Connection, recordedContext: string | undefined): string {
    const context = recordedContext ?? "<context>";
    const set = `pulumi config set ${CONTEXT_KEY} ${context} --stack ${stack}`;
    if (typeof connection.from === "object") {
        const inputs = (["kubeconfig", "context", "cluster"] as const).filter((input) => connection[input] !== undefined);
        const secret = connection.secret === undefined ? "" : `; its ${connection.secret.join(" and ")}, a secret in the state, is not read by this command`;
        return `Provider ${connection.from.provider} of the stack chose it (its recorded ${inputs.join(", ") || "inputs"}${secret}): make them reach the stack's cluster from this machine`;
    }
    if (connection.from === "stack config") {
        const keys = ([["kubeconfig", KUBECONFIG_KEY], ["context", CONTEXT_KEY], ["cluster", CLUSTER_KEY]] as const).filter(([field]) => connection[field] !== undefined);
        return `The stack config chose it (${keys.map(([, key]) => key).join(", ")}): point it at the stack's cluster, e.g. ${set}`;
    }
    return `Point the command at the stack's cluster: kubectl config use-context ${context}, or ${set}`;
}

/** Why one reached workload is on another cluster than recorded, or undefined when it is the recorded one or none of its name is there. */
export function wrongCluster(stack: string, reached: Reached): string | undefined {
    const recorded = reached.origin?.uid;
    const live = reached.answer.uid;
    if (recorded === undefined || live === null || live === recorded) {
        return undefined;
    }
    const setting = recordedSetting(reached.origin?.provider);
    const where = setting.text === undefined ? "" : ` (deployed on ${setting.text})`;
    return (
        `service ${reached.service}'s ${objectOf(reached.record)} is recorded with uid ${recorded}${where}, but ${reached.answer.reached} holds a Deployment ` +
        `of that name with uid ${live}: another cluster, or the Deployment was deleted and re-created there. ` +
        `${howToPoint(stack, reached.connection, setting.context)}; if it was re-created, pulumi refresh --stack ${stack} records the new one`
    );
}

/** One of a release's own Kubernetes objects as the command reached it. */
export interface OwnReached {
    readonly service: string;
    readonly workload: OwnWorkload;
    readonly connection: Connection;
    readonly answer: LiveIdentity;
}

/** Why one of a release's own objects answers with another uid than its last update recorded, or undefined when it is the recorded one, none of its name is there, or none was recorded. */
export function ownWrongCluster(stack: string, reached: OwnReached): string | undefined {
    const live = reached.workload.live;
    const recorded = live?.kind === "kubernetes" ? live.uid : undefined;
    if (live?.kind !== "kubernetes" || recorded === undefined || reached.answer.uid === null || reached.answer.uid === recorded) {
        return undefined;
    }
    const setting = recordedSetting(reached.workload.provider);
    const where = setting.text === undefined ? "" : ` (deployed on ${setting.text})`;
    return (
        `service ${reached.service}'s ${live.objectKind} ${live.namespace}/${live.name} (resource ${reached.workload.name}) is recorded with uid ${recorded}${where}, ` +
        `but ${reached.answer.reached} holds a ${live.objectKind} of that name with uid ${reached.answer.uid}: another cluster, or the ${live.objectKind} was deleted and re-created there. ` +
        `${howToPoint(stack, reached.connection, setting.context)}; if it was re-created, pulumi refresh --stack ${stack} records the new one`
    );
}

/**
 * The first workload (in the services' order) on another cluster than recorded, in one line after
 * `lead`, with how many more are; undefined when none is. `owned`: the releases' own objects, after
 * the ReleasedServices' workloads.
 */
export function wrongClusterRefusal(lead: string, stack: string, reached: readonly Reached[], owned: readonly OwnReached[] = []): string | undefined {
    const wrong = [...reached.map((one) => wrongCluster(stack, one)), ...owned.map((one) => ownWrongCluster(stack, one))].flatMap((why) => (why === undefined ? [] : [why]));
    if (wrong.length === 0) {
        return undefined;
    }
    const more = wrong.length > 1 ? ` (and ${wrong.length - 1} more service${wrong.length === 2 ? "" : "s"} the same way)` : "";
    return `${lead}${wrong[0]}${more}`;
}

/** Asks each live workload that can say what it is (a Kubernetes Deployment) which object answers; the others are not asked. */
export function identify(live: LiveWorkload): Promise<LiveIdentity | undefined> {
    return live.identify === undefined ? Promise.resolve(undefined) : live.identify();
}
