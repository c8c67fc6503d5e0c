// `npm run up` renders a stack's manifests into a directory when no cluster answers, from a copy of
// the stack's config that sets `kubernetes:renderYamlToDirectory` (scripts/up). A command that
// would update the stack without that copy would apply the manifests to a cluster instead: the
// kubernetes provider changes, and every Deployment and Service would be replaced under new names.
// One that reads what runs in a cluster has nothing to read. Both refuse before anything changes.
import * as path from "node:path";

import { CliError, ExitCode } from "./exitCodes";
import type { ReleaseStack } from "./context";

/** The render copy of a stack's config, relative to the project: while it exists, the stack renders. */
export function renderCopy(stack: string): string {
    return path.join(".pulumi", `Pulumi.${stack.split("/").pop()}.rendered.yaml`);
}

/** The commands that need a cluster: they apply to it, or read from it. */
export type ClusterCommand = "rollback" | "up" | "drill" | "status";

/**
 * Why each cannot run while the stack renders, and what to run instead; one clause each, after
 * which stack renders and why.
 */
const REFUSALS: Readonly<Record<ClusterCommand, string>> = {
    rollback:
        "rollback would apply them to a cluster, replacing the rendered Deployment and Service: " +
        "roll back with `pulumi config set version <earlier version> --stack <stack>` then `npm run up`, which renders the manifests again",
    up: "up would apply them to a cluster, replacing the rendered Deployment and Service: run `npm run up` instead, which renders the manifests again",
    drill: "drill rehearses a rollback on what runs in a cluster, where this stack runs nothing: start a cluster and run `npm run up` to apply the manifests to it, then run the drill",
    status:
        "status reads what runs in a cluster, where this stack runs nothing: read the digest the manifests in rendered/ pin, " +
        "or start a cluster and run `npm run up` to apply them to it, then run status again",
};

/**
 * Refuses `command` on a stack whose manifests `npm run up` renders, in one sentence: what the stack
 * does, why the command cannot run, and what to run instead.
 */
export function refuseRendered(stack: ReleaseStack, command: ClusterCommand): void {
    if (!stack.rendered) {
        return;
    }
    throw new CliError(
        `stack ${stack.name} renders its manifests instead of applying them because npm run up found no cluster (${stack.rendered} says so), ` +
            `and ${REFUSALS[command].replace("<stack>", stack.name)}`,
        ExitCode.Failure,
    );
}
