// Waiting for a rollout to land: every pod of the service running one exact digest, ready.

import type { Context } from "./commands";
import { allRun, compareStatus, livePods, type PodReport } from "./status";

export interface Landing {
    readonly landed: boolean;
    /** The pods as last seen. */
    readonly pods: readonly PodReport[];
}

export const POLL_MS = 500;

/** Polls the pods until every one that stays runs `digest` and is ready, or `timeoutMs` passes. */
export async function waitForDigest(
    context: Context,
    where: { namespace: string; selector: string },
    digest: string,
    timeoutMs: number,
): Promise<Landing> {
    const start = context.deps.elapsed();
    for (;;) {
        const report = compareStatus("", { imageDigest: digest }, livePods(await context.deps.listPods(where.namespace, where.selector)));
        if (allRun(report, digest)) {
            return { landed: true, pods: report.pods };
        }
        if (context.deps.elapsed() - start >= timeoutMs) {
            return { landed: false, pods: report.pods };
        }
        context.progress.update(`Waiting for every pod ${where.selector} to run ${digest}…`);
        await context.deps.sleep(POLL_MS);
    }
}

/** `2 pods: 1 on sha256:…, 1 not ready`, for a rollout that did not land. */
export function describePods(pods: readonly PodReport[], digest: string): string {
    if (pods.length === 0) {
        return "no pods";
    }
    const off = pods.filter((pod) => pod.digest !== digest).map((pod) => `${pod.pod} runs ${pod.digest ?? "an unknown digest"}`);
    const unready = pods.filter((pod) => pod.digest === digest && !pod.ready).map((pod) => `${pod.pod} is not ready`);
    return [...off, ...unready].join(", ");
}
