// Input checks for ReleasedService: every problem found, each naming its field and saying
// what is allowed, before any resource exists. Each field's own check is its row in schema.ts.
import { digestProblem } from "../registry/reference";
import { DEFAULT_WORKLOAD, WORKLOAD_KINDS, type WorkloadKind } from "../workloads/workload";
import { hostContainerProblems } from "./hostContainer";
import { podProblems } from "./pod";
import { type Check, FILE_BACKEND_ORGANIZATION, got, SETTINGS, string } from "./schema";

/** The plain inputs the checks read, by setting key, plus `hold`; Kubernetes values pass through as given. */
export type CheckedInputs = Readonly<Record<string, unknown>>;

const HOLD_CHECKS: Readonly<Record<string, Check>> = {
    digest: string(digestProblem),
    by: string(),
    at: string(),
    reason: string(),
};

/** "`<prefix><field>` must …" for each field whose value its check refuses. */
function fieldProblems(checks: Readonly<Record<string, Check>>, values: Readonly<Record<string, unknown>>, prefix = ""): string[] {
    return Object.keys(checks).flatMap((field) => {
        const value = values[field];
        const problem = value === undefined ? undefined : checks[field](value);
        return problem === undefined ? [] : [`\`${prefix}${field}\` ${problem}`];
    });
}

/** Every problem with a hold, each naming `<field>` or `<field>.<key>` (`hold.digest`). */
export function holdProblems(hold: unknown, field = "hold"): string[] {
    const fields = Object.keys(HOLD_CHECKS);
    if (hold === null || typeof hold !== "object" || Array.isArray(hold)) {
        return [`\`${field}\` must be an object with \`digest\` and, if wanted, \`by\`, \`at\` and \`reason\` (got ${got(hold)})`];
    }
    const values = hold as Readonly<Record<string, unknown>>;
    const problems = Object.keys(values)
        .filter((key) => !fields.includes(key))
        .map((key) => `\`${field}.${key}\` is not a field of a hold (known: ${fields.join(", ")})`);
    problems.push(...fieldProblems(HOLD_CHECKS, values, `${field}.`));
    if (values.digest === undefined) {
        problems.push(`\`${field}.digest\` is required: the digest the stack keeps running, sha256: followed by 64 hex digits`);
    }
    return problems;
}

/** The checks of every plain setting an input may carry. */
const CHECKS: Readonly<Record<string, Check>> = Object.fromEntries(SETTINGS.filter((s) => s.scope !== "config").map((s) => [s.key, s.check]));

/**
 * Every problem with the inputs, each as "`field` must …"; empty when all is well. `organization`
 * is the stack's own: on a file backend, the only one a stack reference can name.
 */
export function inputProblems(inputs: CheckedInputs, organization?: string): string[] {
    const problems = fieldProblems(CHECKS, inputs);
    if (inputs.hold !== undefined) {
        problems.push(...holdProblems(inputs.hold));
    }
    if (inputs.image === undefined) {
        problems.push("`image` is required: the repository to push to and run from, e.g. localhost:5000/payment-api");
    }
    if (inputs.version === undefined && inputs.promoteFrom === undefined) {
        problems.push("`version` is required unless `promoteFrom` is set: a release tag such as v2.4.1 or a git SHA");
    }
    if (
        organization === FILE_BACKEND_ORGANIZATION &&
        typeof inputs.promoteFrom === "string" &&
        problems.every((p) => !p.startsWith("`promoteFrom`")) &&
        inputs.promoteFrom.split("/")[0] !== FILE_BACKEND_ORGANIZATION
    ) {
        const [, project, stack] = inputs.promoteFrom.split("/");
        problems.push(
            `\`promoteFrom\` must be ${FILE_BACKEND_ORGANIZATION}/${project}/${stack} on a file backend, whose only organization is ` +
                `\`${FILE_BACKEND_ORGANIZATION}\` (got ${got(inputs.promoteFrom)})`,
        );
    }
    if (inputs.digest !== undefined && inputs.promoteFrom !== undefined) {
        problems.push("`digest` and `promoteFrom` exclude each other: pin a digest or promote from a stack, not both");
    }
    if ((inputs.registryUsername === undefined) !== (inputs.registryPassword === undefined)) {
        problems.push("`registryUsername` and `registryPassword` go together: set both or neither");
    }
    problems.push(...workloadProblems(inputs));
    return problems;
}

/** Settings of another workload kind than the service's, and combinations its provider refuses. */
function workloadProblems(inputs: CheckedInputs): string[] {
    const workload = inputs.workload ?? DEFAULT_WORKLOAD;
    if (!(WORKLOAD_KINDS as readonly unknown[]).includes(workload)) {
        return [];
    }
    const kind = workload as WorkloadKind;
    const own = SETTINGS.filter((s) => s.kinds?.includes(kind)).map((s) => s.key);
    const problems = SETTINGS.filter((s) => s.kinds !== undefined && !s.kinds.includes(kind) && inputs[s.key] !== undefined).map(
        (s) => `\`${s.key}\` is a setting of the ${listed(s.kinds!)}, not of ${kind} (${kind}'s settings: ${own.join(", ")})`,
    );
    // The structured additions: a pod's for Kubernetes, a container's on a Docker host.
    for (const key of ["pod", "container"]) {
        if (kind !== "kubernetes" && inputs[key] !== undefined) {
            problems.push(`\`${key}\` is a setting of the kubernetes workload, not of ${kind}: a pod has volumes, init containers and sidecars`);
        }
    }
    if (kind !== "docker" && kind !== "swarm" && inputs.hostContainer !== undefined) {
        problems.push(`\`hostContainer\` is a setting of the docker and swarm workloads, not of ${kind}${kind === "kubernetes" ? " (kubernetes: `pod` and `container`)" : ""}`);
    }
    if (kind === "kubernetes") {
        problems.push(...podProblems(inputs.pod, inputs.container, inputs.env));
    }
    if (kind === "docker" || kind === "swarm") {
        problems.push(...hostContainerProblems(inputs.hostContainer));
    }
    if (kind === "swarm" && inputs.mode === "global") {
        if (inputs.progressDeadlineSeconds !== undefined) {
            problems.push("`progressDeadlineSeconds` needs `mode` replicated: the Docker provider cannot wait for a global service's update to converge");
        }
        if (inputs.replicas !== undefined) {
            problems.push("`replicas` needs `mode` replicated: a global service runs one task on every node");
        }
    }
    return problems;
}

/** `kubernetes workload`, `docker and swarm workloads`, `kubernetes, docker and swarm workloads`. */
function listed(kinds: readonly string[]): string {
    const names = kinds.length === 1 ? kinds[0] : `${kinds.slice(0, -1).join(", ")} and ${kinds[kinds.length - 1]}`;
    return `${names} workload${kinds.length === 1 ? "" : "s"}`;
}

/** One message for one or several problems, so a user fixes them all in one pass. */
export function describeProblems(problems: readonly string[]): string {
    return problems.length === 1 ? problems[0] : `${problems.length} invalid inputs:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}
