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

/** What to run instead of each while the stack renders. */
const INSTEAD: Readonly<Record<ClusterCommand, string>> = {
    rollback:
        "roll back with `pulumi config set version <earlier version> --stack <stack>` then `npm run up`, which renders the manifests again",
    up: "run `npm run up`, which renders the manifests again",
    drill: "run it once a cluster answers `npm run up`",
    status: "read what the manifests in rendered/ pin, or run it once a cluster answers `npm run up`",
};

/** Refuses `command` on a stack whose manifests `npm run up` renders, in one line saying why and what to run instead. */
export function refuseRendered(stack: ReleaseStack, command: ClusterCommand): void {
    if (!stack.rendered) {
        return;
    }
    const why =
        command === "status" || command === "drill"
            ? `${command} reads what runs in a cluster`
            : `${command} would apply the manifests to a cluster, replacing the rendered Deployment and Service`;
    throw new CliError(
        `stack ${stack.name} renders its manifests instead of applying them (npm run up found no cluster; ${stack.rendered}), and ${why}: ${INSTEAD[command].replace("<stack>", stack.name)}`,
        ExitCode.Failure,
    );
}
