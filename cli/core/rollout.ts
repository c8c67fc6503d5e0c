// Waiting for a rollout to land: every instance of the workload running one exact digest, ready.

import type { LiveInstance, LiveWorkload } from "../../components/workloads/live";
import type { Context } from "./context";

export interface Landing {
    readonly landed: boolean;
    /** The instances as last seen. */
    readonly instances: readonly LiveInstance[];
}

export const POLL_MS = 500;

/** True when there are instances, and every one runs `digest` and is ready. */
export function allRun(instances: readonly LiveInstance[], digest: string): boolean {
    return instances.length > 0 && instances.every((instance) => instance.digest === digest && instance.state === "ok" && instance.ready);
}

/** Polls the workload, every `pollMs`, until every instance that stays runs `digest` and is ready, or `timeoutMs` passes. */
export async function waitForDigest(context: Context, live: LiveWorkload, digest: string, timeoutMs: number, pollMs = POLL_MS): Promise<Landing> {
    const start = context.deps.elapsed();
    for (;;) {
        const instances = await live.instances({ digest });
        if (allRun(instances, digest)) {
            return { landed: true, instances };
        }
        if (context.deps.elapsed() - start >= timeoutMs) {
            return { landed: false, instances };
        }
        context.progress.update(`Waiting for every ${live.noun.one} ${live.where} to run ${digest}…`);
        await context.deps.sleep(pollMs);
    }
}

/** `2 pods: 1 on sha256:…, 1 not ready`, for a rollout that did not land. */
export function describeInstances(instances: readonly LiveInstance[], digest: string, noun: LiveWorkload["noun"]): string {
    if (instances.length === 0) {
        return `no ${noun.many}`;
    }
    const off = instances.filter((instance) => instance.digest !== digest).map((instance) => `${instance.name} runs ${instance.digest ?? "an unknown digest"}`);
    const unready = instances.filter((instance) => instance.digest === digest && !instance.ready).map((instance) => `${instance.name} is not ready`);
    return [...off, ...unready].join(", ");
}
