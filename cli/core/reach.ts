// What a command that changes or waits on workloads needs before it changes anything: the cluster
// or Docker daemon of every workload it acts on answers, and is the one the stack recorded it on
// (cli/core/cluster.ts). Asked once, for every workload at once, so that a missing or wrong cluster
// is one line before any update, not a failure half-way through one.

import type { WorkloadKind, WorkloadRecord } from "../../components/workloads/workload";
import { identify, wrongClusterRefusal } from "./cluster";
import type { StackConfig } from "./config";
import { type Connection, connectionOf, type WorkloadOrigin } from "./connection";
import type { Context } from "./context";
import { ownIdentity, ownWorkloadLive } from "./ownLive";
import type { OwnWorkload } from "./ownWorkloads";
import { CliError, ExitCode } from "./exitCodes";
import type { ServiceState } from "./services";

/** The kubernetes provider's setting that writes manifests into a directory instead of applying them. */
export const RENDER_KEY = "kubernetes:renderYamlToDirectory";

/** The commands that check their workloads first: they update them, and the drill also waits on them. */
export type ReachingCommand = "rollback" | "up" | "drill";

/**
 * A workload a command must reach, by the service it runs, and where it reaches it: the workload its
 * component recorded, or a resource of the user's own that runs its image.
 */
export type Reach = {
    readonly service: string;
    readonly kind: WorkloadKind;
    readonly connection: Connection;
} & ({ readonly record: WorkloadRecord; readonly origin?: WorkloadOrigin } | { readonly own: OwnWorkload });

/**
 * The workloads `command` must reach before it changes anything: those of the services it acts on
 * (every one, or `only`). A Kubernetes workload of a stack that renders its manifests (`RENDER_KEY`
 * in its config) has no cluster: an update only rewrites files, so it is not asked; the drill,
 * which waits for pods, is refused. Pure.
 */
export function workloadsToReach(
    stack: string,
    command: ReachingCommand,
    config: StackConfig,
    services: readonly ServiceState[],
    only: string | undefined,
): Reach[] {
    const rendered = config[RENDER_KEY];
    const acted = services.filter((service) => only === undefined || service.name === only);
    const reach = acted.flatMap((service): Reach[] => [
        ...(service.workload === undefined
            ? []
            : [
                  {
                      service: service.name,
                      kind: service.workload.kind,
                      record: service.workload,
                      ...(service.origin !== undefined ? { origin: service.origin } : {}),
                      connection: connectionOf(service.workload.kind, config, service.origin?.provider),
                  },
              ]),
        ...(service.ownWorkloads ?? []).flatMap((own) =>
            own.live === undefined ? [] : [{ service: service.name, kind: own.live.kind, own, connection: connectionOf(own.live.kind, config, own.provider) }],
        ),
    ]);
    if (typeof rendered !== "string" || rendered === "") {
        return reach;
    }
    const renderedOnes = reach.filter((one) => one.kind === "kubernetes");
    if (command === "drill" && renderedOnes.length > 0) {
        throw new CliError(
            `stack ${stack} renders its Kubernetes manifests into ${rendered} (${RENDER_KEY}) instead of applying them, and the drill waits for pods to run ` +
                `what each update wrote: drill a stack that deploys to a cluster; nothing was changed`,
            ExitCode.Failure,
        );
    }
    return reach.filter((one) => one.kind !== "kubernetes");
}

/**
 * Refuses `command` in one line, before anything changes, when a workload's cluster or Docker daemon
 * does not answer, or answers with another object than the stack recorded: what runs there is asked
 * for every workload at once, and the first failure in the services' order is named (with how many
 * more failed).
 */
export async function refuseUnreachable(context: Context, stack: string, command: ReachingCommand, reach: readonly Reach[]): Promise<void> {
    if (reach.length === 0) {
        return;
    }
    context.progress.update(`Checking that the workloads of stack ${stack} answer…`);
    const asked = await Promise.allSettled(
        reach.map(async (one) => {
            if ("own" in one) {
                // Reached when it can be read; a Kubernetes object is also asked what holds its name.
                await ownWorkloadLive(context, one.own, one.connection)?.instances({});
                return ownIdentity(context, one.own, one.connection);
            }
            const live = context.deps.live(one.record, one.connection);
            const answer = identify(live);
            answer.catch(() => undefined);
            // When the cluster does not answer, the listing's words name why.
            await live.instances({});
            return answer;
        }),
    );
    context.progress.done();
    const failed = asked.flatMap((answer, index) => (answer.status === "rejected" ? [{ service: reach[index].service, reason: answer.reason as unknown }] : []));
    if (failed.length === 0) {
        const answered = reach.flatMap((one, index) => {
            const answer = asked[index].status === "fulfilled" ? asked[index].value : undefined;
            return answer === undefined ? [] : [{ one, answer }];
        });
        const reached = answered.flatMap(({ one, answer }) => ("own" in one ? [] : [{ ...one, answer }]));
        const owned = answered.flatMap(({ one, answer }) => ("own" in one ? [{ service: one.service, workload: one.own, connection: one.connection, answer }] : []));
        const wrong = wrongClusterRefusal(`${command} of stack ${stack} refused before changing anything: `, stack, reached, owned);
        if (wrong !== undefined) {
            throw new CliError(wrong, ExitCode.Failure);
        }
        return;
    }
    const [first] = failed;
    const cause = first.reason instanceof Error ? first.reason.message : String(first.reason);
    const more = failed.length > 1 ? ` (and ${failed.length - 1} more service${failed.length === 2 ? "" : "s"})` : "";
    throw new CliError(
        `${command} of stack ${stack} refused before changing anything: service ${first.service}${more} cannot be reached: ${cause.trim().split("\n")[0]}`,
        ExitCode.Failure,
    );
}
