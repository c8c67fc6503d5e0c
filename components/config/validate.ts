// Input checks for ReleasedService: every problem found, each naming its field and saying
// what is allowed, before any resource exists.
import { digestProblem, repositoryProblem, tagProblem } from "../registry/reference";

/** Longest workload name: Kubernetes appends `-` and 8 characters to build a DNS label of 63. */
export const MAX_NAME_LENGTH = 54;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const STACK_SEGMENT = /^[A-Za-z0-9_.-]+$/;

/** The plain inputs the checks read; everything else is passed through to Kubernetes as given. */
export interface CheckedInputs {
    readonly name?: unknown;
    readonly image?: unknown;
    readonly version?: unknown;
    readonly digest?: unknown;
    readonly promoteFrom?: unknown;
    readonly build?: unknown;
    readonly buildOnPreview?: unknown;
    readonly context?: unknown;
    readonly sourceVersion?: unknown;
    readonly revisionHistoryLimit?: unknown;
    readonly progressDeadlineSeconds?: unknown;
    readonly namespace?: unknown;
    readonly replicas?: unknown;
    readonly port?: unknown;
    readonly registryUsername?: unknown;
    readonly registryPassword?: unknown;
    readonly insecureRegistry?: unknown;
    readonly builder?: unknown;
    readonly hold?: unknown;
}

/** The organization every stack on a file (diy) backend belongs to; `pulumi.getOrganization()` says it. */
export const FILE_BACKEND_ORGANIZATION = "organization";

type Check = (value: unknown) => string | undefined;

/** Kubernetes counts replicas and revisions in 32-bit integers. */
export const MAX_INT32 = 2 ** 31 - 1;

/** How a refused value is quoted: strings as JSON, anything else as itself, whatever its prototype. */
function got(value: unknown): string {
    if (typeof value === "string") {
        return JSON.stringify(value);
    }
    if (value !== null && typeof value === "object") {
        return Array.isArray(value) ? "an array" : "an object";
    }
    return String(value);
}

const string = (then?: (s: string) => string | undefined): Check => (value) =>
    typeof value !== "string" ? `must be a string (got ${got(value)})` : then?.(value);

const boolean: Check = (value) => (typeof value === "boolean" ? undefined : `must be true or false (got ${got(value)})`);

const integer = (min: number, max: number): Check => (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
        ? undefined
        : `must be a whole number from ${min} to ${max} (got ${got(value)})`;

/** One check per field; a hold, an object, has checks of its own (HOLD_CHECKS). */
const CHECKS: { readonly [K in Exclude<keyof CheckedInputs, "hold">]-?: Check } = {
    name: string((s) =>
        DNS_LABEL.test(s) && s.length <= MAX_NAME_LENGTH
            ? undefined
            : `must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most ${MAX_NAME_LENGTH} characters (got ${got(s)})`,
    ),
    image: string(repositoryProblem),
    version: string(tagProblem),
    digest: string(digestProblem),
    promoteFrom: string((s) =>
        s.split("/").length === 3 && s.split("/").every((part) => STACK_SEGMENT.test(part))
            ? undefined
            : `must name a stack as <organization>/<project>/<stack>, on a file backend ${FILE_BACKEND_ORGANIZATION}/<project>/<stack> (got ${got(s)})`,
    ),
    build: boolean,
    buildOnPreview: boolean,
    insecureRegistry: boolean,
    builder: string((s) => (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s) ? undefined : `must name a buildx builder: letters, digits, '_', '.' and '-' (got ${got(s)})`)),
    context: string((s) => (s.trim() === "" ? "must not be empty" : undefined)),
    sourceVersion: string(tagProblem),
    revisionHistoryLimit: integer(0, MAX_INT32),
    progressDeadlineSeconds: integer(1, MAX_INT32),
    namespace: string((s) =>
        NAMESPACE.test(s) && s.length <= 63
            ? undefined
            : `must be a Kubernetes namespace: lower-case letters, digits and '-', at most 63 characters (got ${got(s)})`,
    ),
    replicas: integer(0, MAX_INT32),
    port: integer(1, 65535),
    // Credentials may be secrets (Outputs); only their presence is checked here.
    registryUsername: () => undefined,
    registryPassword: () => undefined,
};

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

/** Every problem with a hold, each naming `hold` or the field as `hold.<field>`. */
function holdProblems(hold: unknown): string[] {
    const fields = Object.keys(HOLD_CHECKS);
    if (hold === null || typeof hold !== "object" || Array.isArray(hold)) {
        return [`\`hold\` must be an object with \`digest\` and, if wanted, \`by\`, \`at\` and \`reason\` (got ${got(hold)})`];
    }
    const values = hold as Readonly<Record<string, unknown>>;
    const problems = Object.keys(values)
        .filter((key) => !fields.includes(key))
        .map((key) => `\`hold.${key}\` is not a field of a hold (known: ${fields.join(", ")})`);
    problems.push(...fieldProblems(HOLD_CHECKS, values, "hold."));
    if (values.digest === undefined) {
        problems.push("`hold.digest` is required: the digest the stack keeps running, sha256: followed by 64 hex digits");
    }
    return problems;
}

/**
 * Every problem with the inputs, each as "`field` must …"; empty when all is well. `organization`
 * is the stack's own: on a file backend, the only one a stack reference can name.
 */
export function inputProblems(inputs: CheckedInputs, organization?: string): string[] {
    const problems = fieldProblems(CHECKS, inputs as Readonly<Record<string, unknown>>);
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
    return problems;
}

/** One message for one or several problems, so a user fixes them all in one pass. */
export function describeProblems(problems: readonly string[]): string {
    return problems.length === 1
        ? problems[0]
        : `${problems.length} invalid inputs:\n${problems.map((p) => `  - ${p}`).join("\n")}`;
}
