// Every setting of a ReleasedService, one row each: its type, its check, its default and what it
// means. The component's checks, the bundled program's stack config keys and the docs' config
// table all come from this table.
import { digestProblem, repositoryProblem, tagProblem } from "../registry/reference";
import { DEFAULT_COMPOSE_FILE } from "../workloads/compose/settings";
import { DEFAULT_RESTART, DEFAULT_WAIT_SECONDS, RESTART_POLICIES } from "../workloads/docker/settings";
import { DEFAULT_REVISION_HISTORY_LIMIT } from "../workloads/kubernetes/settings";
import { DEFAULT_PORT } from "../workloads/workload";
import { DEFAULT_CONVERGE_SECONDS, DEFAULT_MONITOR_SECONDS, DEFAULT_SWARM_REPLICAS, SWARM_MODES } from "../workloads/swarm/settings";
import { DEFAULT_WORKLOAD, WORKLOAD_KINDS, type WorkloadKind } from "../workloads/workload";

/** The config namespace: keys are `released-service:<key>`. */
export const CONFIG_NAMESPACE = "released-service";
/** The bundled program's service name when the stack does not set `name`. */
export const DEFAULT_NAME = "app";
export const DEFAULT_CONTEXT = "app";
/** Longest workload name: Kubernetes appends `-` and 8 characters to build a DNS label of 63. */
export const MAX_NAME_LENGTH = 54;
/** Kubernetes counts replicas and revisions in 32-bit integers. */
export const MAX_INT32 = 2 ** 31 - 1;
/** The organization every stack on a file (diy) backend belongs to; `pulumi.getOrganization()` says it. */
export const FILE_BACKEND_ORGANIZATION = "organization";

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const STACK_SEGMENT = /^[A-Za-z0-9_.-]+$/;

/** What is wrong with a present value, or undefined when it is allowed. */
export type Check = (value: unknown) => string | undefined;

/** A plain object (not null, not a list), as a structured input must be. */
export function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** How a refused value is quoted: strings as JSON, anything else as itself, whatever its prototype. */
export function got(value: unknown): string {
    if (typeof value === "string") {
        return JSON.stringify(value);
    }
    if (value !== null && typeof value === "object") {
        return Array.isArray(value) ? "an array" : "an object";
    }
    return String(value);
}

export const string = (then?: (s: string) => string | undefined): Check => (value) =>
    typeof value !== "string" ? `must be a string (got ${got(value)})` : then?.(value);

const boolean: Check = (value) => (typeof value === "boolean" ? undefined : `must be true or false (got ${got(value)})`);

export const integer = (min: number, max: number): Check => (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
        ? undefined
        : `must be a whole number from ${min} to ${max} (got ${got(value)})`;

/** Present values only; whether a value may be an Output (a secret) is the row's `type`. */
const anything: Check = () => undefined;

/** A path: any text but blank. */
const nonEmpty: Check = string((s) => (s.trim() === "" ? "must not be empty" : undefined));

const oneOf = (allowed: readonly string[]): Check =>
    string((s) => (allowed.includes(s) ? undefined : `must be one of ${allowed.join(", ")} (got ${got(s)})`));

const stringList: Check = (value) =>
    Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string")
        ? undefined
        : `must be a non-empty list of strings (got ${got(value)})`;

/** A health check: `tests` (required), and `interval`, `timeout`, `startPeriod` (durations) and `retries`. */
const healthcheck: Check = (value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return `must be an object with \`tests\` and, if wanted, \`interval\`, \`timeout\`, \`retries\` and \`startPeriod\` (got ${got(value)})`;
    }
    const check = value as Readonly<Record<string, unknown>>;
    const fields: Readonly<Record<string, Check>> = {
        tests: stringList,
        interval: string(duration),
        timeout: string(duration),
        startPeriod: string(duration),
        retries: integer(0, MAX_INT32),
    };
    const unknown = Object.keys(check).find((key) => !(key in fields));
    if (unknown !== undefined) {
        return `has a field \`${unknown}\` that is not a health check's (known: ${Object.keys(fields).join(", ")})`;
    }
    if (check.tests === undefined) {
        return "must have `tests`, the command that checks, e.g. [\"CMD\", \"/bin/busybox\", \"wget\", \"-q\", \"-O-\", \"http://127.0.0.1:8080/\"]";
    }
    for (const [field, fieldCheck] of Object.entries(fields)) {
        const problem = check[field] === undefined ? undefined : fieldCheck(check[field]);
        if (problem !== undefined) {
            return `\`.${field}\` ${problem}`;
        }
    }
    return undefined;
};

/** An object of known fields, each checked when present; `required` ones must be. */
function fields(what: string, known: Readonly<Record<string, Check>>, required: readonly string[] = []): Check {
    return (value) => {
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            return `must be ${what} (got ${got(value)})`;
        }
        const object = value as Readonly<Record<string, unknown>>;
        const unknown = Object.keys(object).find((key) => !(key in known));
        if (unknown !== undefined) {
            return `has a field \`${unknown}\` that is not ${what}'s (known: ${Object.keys(known).join(", ")})`;
        }
        const missing = required.find((key) => object[key] === undefined);
        if (missing !== undefined) {
            return `must have \`${missing}\``;
        }
        for (const [field, check] of Object.entries(known)) {
            const problem = object[field] === undefined ? undefined : check(object[field]);
            if (problem !== undefined) {
                return `\`.${field}\` ${problem}`;
            }
        }
        return undefined;
    };
}

const PROBE_CHECKS = ["httpGet", "tcpSocket", "exec"] as const;
const port = integer(1, 65535);
const probeFields = fields("a readiness probe", {
    httpGet: fields("an HTTP check", { path: string((s) => (s.startsWith("/") ? undefined : `must start with / (got ${got(s)})`)), port }, ["path"]),
    tcpSocket: fields("a TCP check", { port }),
    exec: fields("a command check", { command: stringList }, ["command"]),
    initialDelaySeconds: integer(0, MAX_INT32),
    periodSeconds: integer(1, MAX_INT32),
    timeoutSeconds: integer(1, MAX_INT32),
    successThreshold: integer(1, MAX_INT32),
    failureThreshold: integer(1, MAX_INT32),
});

/** A readiness probe: at most one of `httpGet`, `tcpSocket` and `exec`, and Kubernetes' timings. */
const readinessProbe: Check = (value) => {
    const problem = probeFields(value);
    if (problem !== undefined) {
        return problem;
    }
    const checks = PROBE_CHECKS.filter((check) => (value as Readonly<Record<string, unknown>>)[check] !== undefined);
    return checks.length > 1 ? `must have one of ${PROBE_CHECKS.join(", ")}, not ${checks.join(" and ")}` : undefined;
};

/** A Docker duration such as `5s`, `1m30s` or `500ms`. */
function duration(text: string): string | undefined {
    return /^(\d+(ns|us|ms|s|m|h))+$/.test(text) ? undefined : `must be a duration such as 5s, 1m30s or 500ms (got ${got(text)})`;
}

/**
 * How a setting reaches the component: `both` as a component arg and a stack config key of the
 * bundled program; `arg` as a component arg alone (a structured Kubernetes value); `program` as the
 * bundled program's stack config alone; `config` read by the component itself from its namespace,
 * whatever the program (the command writes these).
 */
export type SettingScope = "both" | "arg" | "program" | "config";

export interface Setting {
    readonly key: string;
    /** The workload kinds that read it; a value for any other kind is refused. Defaults to every kind. */
    readonly kinds?: readonly WorkloadKind[];
    /** How a stack config value is read: `secret` is read with getSecret, `object` as JSON. */
    readonly type: "string" | "boolean" | "integer" | "object" | "secret";
    readonly scope: SettingScope;
    /** The check of a present value; objects have checks of their own (validate.ts). */
    readonly check: Check;
    /** The default as the docs state it. */
    readonly default: string;
    /** What it means, for the docs table (Markdown). */
    readonly meaning: string;
}

/** The settings, in the order the docs list them. */
export const SETTINGS: readonly Setting[] = [
    {
        key: "image",
        type: "string",
        scope: "both",
        check: string(repositoryProblem),
        default: "required",
        meaning: "repository without tag or digest, e.g. `localhost:5000/payment-api`",
    },
    {
        key: "version",
        type: "string",
        scope: "both",
        check: string(tagProblem),
        default: "required, unless `promoteFrom` is set",
        meaning: "the release this stack runs: a tag such as `v2.4.1` or a git SHA; `latest` is refused",
    },
    {
        key: "digest",
        type: "string",
        scope: "both",
        check: string(digestProblem),
        default: "none",
        meaning: "exact pin `sha256:<64 hex>`: that image runs, nothing is resolved",
    },
    {
        key: "build",
        type: "boolean",
        scope: "both",
        check: boolean,
        default: "`true`",
        meaning: "whether this stack may build the source in `context`",
    },
    {
        key: "sourceVersion",
        type: "string",
        scope: "both",
        check: string(tagProblem),
        default: "`<context>/VERSION`, else the git short SHA",
        meaning: "the version of the source in `context`",
    },
    {
        key: "context",
        type: "string",
        scope: "both",
        check: nonEmpty,
        default: `\`${DEFAULT_CONTEXT}\``,
        meaning: "build context directory, with a Dockerfile",
    },
    {
        key: "revisionHistoryLimit",
        kinds: ["kubernetes"],
        type: "integer",
        scope: "both",
        check: integer(0, MAX_INT32),
        default: `\`${DEFAULT_REVISION_HISTORY_LIMIT}\``,
        meaning: "old ReplicaSets Kubernetes keeps (`kubectl rollout undo`)",
    },
    {
        key: "progressDeadlineSeconds",
        kinds: ["kubernetes", "docker", "swarm"],
        type: "integer",
        scope: "both",
        check: integer(1, MAX_INT32),
        default: `none (kubernetes: Kubernetes' 600 s, and \`pulumi up\` waits 10 minutes); docker: \`${DEFAULT_WAIT_SECONDS}\`; swarm: \`${DEFAULT_CONVERGE_SECONDS}\``,
        meaning: "whole seconds, 1 or more, a release may take to be running before `pulumi up` fails. kubernetes: the Deployment's " +
            "`progressDeadlineSeconds` and its annotation `pulumi.com/timeoutSeconds`, the kubernetes provider's wait, which does not stop " +
            "at the deadline on its own; the wait counts the whole rollout, so leave room for a healthy one. docker: how long a " +
            "health-checked container may take to be healthy. swarm: how long an update may take to converge (not in `global` mode)",
    },
    {
        key: "promoteFrom",
        type: "string",
        scope: "both",
        check: string((s) =>
            s.split("/").length === 3 && s.split("/").every((part) => STACK_SEGMENT.test(part))
                ? undefined
                : `must name a stack as <organization>/<project>/<stack>, on a file backend ${FILE_BACKEND_ORGANIZATION}/<project>/<stack> (got ${got(s)})`,
        ),
        default: "none",
        meaning:
            "the stack whose `imageDigest` this stack runs; never builds. On the file backend `organization/<project>/<stack>` " +
            "(its only organization is the word `organization`), on Pulumi Cloud `<org>/<project>/<stack>`",
    },
    {
        key: "name",
        type: "string",
        scope: "program",
        check: string((s) =>
            DNS_LABEL.test(s) && s.length <= MAX_NAME_LENGTH
                ? undefined
                : `must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most ${MAX_NAME_LENGTH} characters (got ${got(s)})`,
        ),
        default: `\`${DEFAULT_NAME}\``,
        meaning: "the service's name: the ReleasedService's resource name, its Deployment's and Service's name prefix and pod label",
    },
    {
        key: "namespace",
        kinds: ["kubernetes"],
        type: "string",
        scope: "both",
        check: string((s) =>
            NAMESPACE.test(s) && s.length <= 63
                ? undefined
                : `must be a Kubernetes namespace: lower-case letters, digits and '-', at most 63 characters (got ${got(s)})`,
        ),
        default: "the provider's",
        meaning: "namespace of the Deployment and Service",
    },
    {
        key: "replicas",
        kinds: ["kubernetes", "swarm"],
        type: "integer",
        scope: "both",
        check: integer(0, MAX_INT32),
        default: `kubernetes: none (Kubernetes creates 1, and a HorizontalPodAutoscaler may own the count); swarm: \`${DEFAULT_SWARM_REPLICAS}\``,
        meaning: "pods (kubernetes) or tasks (swarm, `replicated` mode) to run",
    },
    {
        key: "port",
        kinds: ["kubernetes", "docker", "swarm"],
        type: "integer",
        scope: "both",
        check: integer(1, 65535),
        default: `\`${DEFAULT_PORT}\``,
        meaning: "the port the container listens on (and the Kubernetes Service exposes)",
    },
    {
        key: "registryUsername",
        type: "string",
        scope: "both",
        // Credentials may be secrets (Outputs); only their presence is checked.
        check: anything,
        default: "none, then Docker's",
        meaning:
            "registry credentials for builds and look-ups, with `registryPassword`. Without them, those `docker login` left " +
            "(`~/.docker/config.json`, its credential helpers)",
    },
    {
        key: "registryPassword",
        type: "secret",
        scope: "both",
        check: anything,
        default: "none",
        meaning: "the registry password; set it with `pulumi config set --secret`, it stays a Pulumi secret",
    },
    {
        key: "insecureRegistry",
        type: "boolean",
        scope: "both",
        check: boolean,
        default: "`false`",
        meaning: "the registry speaks plain HTTP although it is not on loopback (`localhost` and `127.*` always do)",
    },
    {
        key: "builder",
        type: "string",
        scope: "both",
        check: string((s) => (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s) ? undefined : `must name a buildx builder: letters, digits, '_', '.' and '-' (got ${got(s)})`)),
        default: "Docker's current builder",
        meaning: "the buildx builder that builds: `docker-container`, `kubernetes` or `remote` driver",
    },
    {
        key: "buildOnPreview",
        type: "boolean",
        scope: "arg",
        check: boolean,
        default: "`false`",
        meaning: "whether `pulumi preview` builds the image too",
    },
    {
        key: "env",
        kinds: ["kubernetes", "docker", "swarm"],
        type: "object",
        scope: "arg",
        check: anything,
        default: "none",
        meaning: "environment variables of the container",
    },
    {
        key: "resources",
        kinds: ["kubernetes"],
        type: "object",
        scope: "arg",
        check: anything,
        default: "requests of 50m CPU and 64Mi memory",
        meaning: "the container's resources",
    },
    {
        key: "readinessProbe",
        kinds: ["kubernetes"],
        type: "object",
        scope: "arg",
        check: readinessProbe,
        default: "a TCP check of `port`",
        meaning: "the container's readiness probe",
    },
    {
        key: "workload",
        type: "string",
        scope: "both",
        check: oneOf(WORKLOAD_KINDS),
        default: `\`${DEFAULT_WORKLOAD}\``,
        meaning:
            "what runs the release: `kubernetes` (a Deployment and a Service), `docker` (one container on a Docker host), `swarm` " +
            "(a Swarm service) or `compose` (a Compose file pinning the service, for `docker compose` to run); each reads its own keys",
    },
    {
        key: "publishedPort",
        kinds: ["docker", "swarm"],
        type: "integer",
        scope: "both",
        check: integer(1, 65535),
        default: "none",
        meaning: "the host port (docker) or routing-mesh port (swarm) that publishes `port`",
    },
    {
        key: "restart",
        kinds: ["docker"],
        type: "string",
        scope: "both",
        check: oneOf(RESTART_POLICIES),
        default: `\`${DEFAULT_RESTART}\``,
        meaning: "the container's restart policy: `no`, `on-failure`, `always` or `unless-stopped`",
    },
    {
        key: "healthcheck",
        kinds: ["docker", "swarm"],
        type: "object",
        scope: "both",
        check: healthcheck,
        default: "the image's own",
        meaning:
            "`{tests: [...], interval, timeout, retries, startPeriod}`: with it `pulumi up` waits for a new container to be healthy " +
            "(docker), and Swarm's update watches it (swarm)",
    },
    {
        key: "mode",
        kinds: ["swarm"],
        type: "string",
        scope: "both",
        check: oneOf(SWARM_MODES),
        default: "`replicated`",
        meaning: "`replicated` (`replicas` tasks) or `global` (a task on every node)",
    },
    {
        key: "monitorSeconds",
        kinds: ["swarm"],
        type: "integer",
        scope: "both",
        check: integer(1, 3600),
        default: `\`${DEFAULT_MONITOR_SECONDS}\``,
        meaning: "seconds Swarm watches each new task for failure before the update goes on; a failure rolls the update back",
    },
    {
        key: "composeFile",
        kinds: ["compose"],
        type: "string",
        scope: "both",
        check: nonEmpty,
        default: `\`${DEFAULT_COMPOSE_FILE}\``,
        meaning: "the Compose file written on every `pulumi up`, pinning the service's image to its digest",
    },
    {
        key: "composeService",
        kinds: ["compose"],
        type: "string",
        scope: "both",
        check: string((s) => (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(s) ? undefined : `must be a Compose service name: letters, digits, '_', '.' and '-' (got ${got(s)})`)),
        default: "the service's name",
        meaning: "the service's name in the Compose project",
    },
    {
        key: "pins",
        type: "object",
        scope: "config",
        check: anything,
        default: "none",
        meaning:
            "per service, by its resource name: `{ \"<service>\": { \"version\": …, \"digest\": \"sha256:…\", \"update\": …, \"asked\": { \"version\": … } } }`. " +
            "That service runs that release while its args ask what they asked when it was set (`asked`), with a warning; once they ask " +
            "for another, the update fails in preview. `released-service rollback` writes it, `release-hold` removes it",
    },
    {
        key: "holds",
        type: "object",
        scope: "config",
        check: anything,
        default: "none",
        meaning:
            "per service: `{ \"<service>\": { \"digest\": \"sha256:…\", \"by\", \"at\", \"reason\" } }`. While it is set, an update that " +
            "would run another digest of that service fails before anything changes; `released-service rollback` sets it",
    },
];

/** The row of `key`. */
export function setting(key: string): Setting {
    const row = SETTINGS.find((s) => s.key === key);
    if (row === undefined) {
        throw new Error(`no setting ${key}`);
    }
    return row;
}

/** The keys of the stack config: the bundled program's and those the component reads itself. */
export const STACK_CONFIG_KEYS: readonly string[] = SETTINGS.filter((s) => s.scope !== "arg").map((s) => s.key);

/** The docs' config table, as Markdown. */
export function settingsTable(): string {
    const rows = SETTINGS.filter((s) => s.scope !== "arg").map(
        (s) => `| \`${s.key}\` | ${s.type} | ${(s.kinds ?? ["all"]).join(", ")} | ${s.default} | ${s.meaning} |`,
    );
    return ["| key | type | workloads | default | meaning |", "|---|---|---|---|---|", ...rows].join("\n");
}
