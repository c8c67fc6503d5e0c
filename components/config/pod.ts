// The checks of a Kubernetes workload's `pod` and `container` (workloads/kubernetes/pod.ts builds
// them): every problem, each naming its field, before anything is registered. The component's own
// container name, pod labels and the selector a topology spread counts cannot be taken.
import { CONTAINER_NAME, DEFAULT_WHEN_UNSATISFIABLE, MANAGED_BY_LABEL, NAME_LABEL, VERSION_LABEL, WHEN_UNSATISFIABLE } from "../workloads/kubernetes/settings";
import { got, integer, isRecord, MAX_INT32 } from "./schema";

/** The pod labels that are the component's own: the selector, the release and who manages it. */
const OWNED_LABELS = [NAME_LABEL, VERSION_LABEL, MANAGED_BY_LABEL];
const VOLUME_SOURCES = ["configMap", "secret", "emptyDir", "persistentVolumeClaim"] as const;
const TOLERATION_OPERATORS = ["Equal", "Exists"];
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const CONTAINER_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const AFFINITY_FIELDS = ["nodeAffinity", "podAffinity", "podAntiAffinity"];
const TOPOLOGY_SPREAD_FIELDS = ["topologyKey", "maxSkew", "whenUnsatisfiable", "minDomains"];
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const positiveInt32 = integer(1, MAX_INT32);

function listOf(value: unknown, field: string, problems: string[]): unknown[] {
    if (value === undefined) {
        return [];
    }
    if (!Array.isArray(value)) {
        problems.push(`\`${field}\` must be a list (got ${got(value)})`);
        return [];
    }
    return value;
}

function stringMap(value: unknown, field: string, problems: string[]): void {
    if (value !== undefined && (!isRecord(value) || Object.values(value).some((item) => typeof item !== "string"))) {
        problems.push(`\`${field}\` must be an object of strings (got ${got(value)})`);
    }
}

function text(value: unknown, field: string, problems: string[], required = false): void {
    if (value === undefined ? required : typeof value !== "string" || value === "") {
        problems.push(`\`${field}\` ${required && value === undefined ? "is required" : `must be a non-empty string (got ${got(value)})`}`);
    }
}

function mountProblems(value: unknown, field: string, volumes: readonly string[], problems: string[]): void {
    listOf(value, field, problems).forEach((mount, index) => {
        const at = `${field}[${index}]`;
        if (!isRecord(mount)) {
            problems.push(`\`${at}\` must be an object with \`name\` and \`mountPath\` (got ${got(mount)})`);
            return;
        }
        text(mount.name, `${at}.name`, problems, true);
        if (typeof mount.name === "string" && !volumes.includes(mount.name)) {
            problems.push(`\`${at}.name\` names no volume of \`pod.volumes\` (${volumes.length === 0 ? "it has none" : `its volumes: ${volumes.join(", ")}`}) (got ${got(mount.name)})`);
        }
        if (mount.mountPath === undefined || typeof mount.mountPath !== "string" || !mount.mountPath.startsWith("/")) {
            problems.push(`\`${at}.mountPath\` must be an absolute path such as /etc/app (got ${got(mount.mountPath)})`);
        }
    });
}

function secretEnvProblems(value: unknown, field: string, plain: unknown, problems: string[]): void {
    if (value === undefined) {
        return;
    }
    if (!isRecord(value)) {
        problems.push(`\`${field}\` must be an object of {secret, key} by variable name (got ${got(value)})`);
        return;
    }
    for (const [name, entry] of Object.entries(value)) {
        if (!isRecord(entry) || typeof entry.secret !== "string" || entry.secret === "" || typeof entry.key !== "string" || entry.key === "") {
            problems.push(`\`${field}.${name}\` must be {secret: <Secret name>, key: <its key>} (got ${got(entry)})`);
        }
        if (isRecord(plain) && name in plain) {
            problems.push(`\`${field}.${name}\` is set in \`env\` too: a variable has one value`);
        }
    }
}

/** A label key as the API server takes a topology key: an optional DNS-subdomain prefix of at most 253 characters and `/`, then a name of at most 63. */
function isLabelKey(key: string): boolean {
    const parts = key.split("/");
    const name = parts.pop()!;
    return parts.length <= 1 && parts.every((prefix) => prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix)) && LABEL_NAME.test(name);
}

/** Kubernetes' affinity is passed through as given: only its three kinds are checked by name. */
function affinityProblems(value: unknown, problems: string[]): void {
    if (value === undefined) {
        return;
    }
    if (!isRecord(value)) {
        problems.push(`\`pod.affinity\` must be an object of ${AFFINITY_FIELDS.join(", ")} (got ${got(value)})`);
        return;
    }
    for (const [field, kind] of Object.entries(value)) {
        if (!AFFINITY_FIELDS.includes(field)) {
            problems.push(`\`pod.affinity.${field}\` is not a field of an affinity: ${AFFINITY_FIELDS.join(", ")}`);
        } else if (kind !== undefined && !isRecord(kind)) {
            problems.push(`\`pod.affinity.${field}\` must be an object (got ${got(kind)})`);
        }
    }
}

/**
 * Each spread's fields, and what the API server would refuse only once the Deployment is applied:
 * `minDomains` with `ScheduleAnyway`, and two spreads of one topology key and one `whenUnsatisfiable`.
 */
function topologySpreadProblems(value: unknown, problems: string[]): void {
    const earlier: string[] = [];
    listOf(value, "pod.topologySpread", problems).forEach((spread, index) => {
        const at = `pod.topologySpread[${index}]`;
        if (!isRecord(spread)) {
            problems.push(`\`${at}\` must be an object with \`topologyKey\` (got ${got(spread)})`);
            return;
        }
        for (const field of Object.keys(spread)) {
            if (field === "labelSelector") {
                problems.push(`\`${at}.labelSelector\` is the component's own (a spread counts the service's pods, those its selector matches); leave it out`);
            } else if (!TOPOLOGY_SPREAD_FIELDS.includes(field)) {
                problems.push(`\`${at}.${field}\` is not a field of a topology spread: ${TOPOLOGY_SPREAD_FIELDS.join(", ")}`);
            }
        }
        const key = spread.topologyKey;
        if (key === undefined) {
            problems.push(`\`${at}.topologyKey\` is required: the node label whose values are the domains, such as topology.kubernetes.io/zone`);
        } else if (typeof key !== "string" || !isLabelKey(key)) {
            problems.push(`\`${at}.topologyKey\` must be a node label key such as topology.kubernetes.io/zone or kubernetes.io/hostname (got ${got(key)})`);
        }
        for (const field of ["maxSkew", "minDomains"] as const) {
            const problem = spread[field] === undefined ? undefined : positiveInt32(spread[field]);
            if (problem !== undefined) {
                problems.push(`\`${at}.${field}\` ${problem}`);
            }
        }
        const when = spread.whenUnsatisfiable ?? DEFAULT_WHEN_UNSATISFIABLE;
        if (!(WHEN_UNSATISFIABLE as readonly unknown[]).includes(when)) {
            problems.push(`\`${at}.whenUnsatisfiable\` must be one of ${WHEN_UNSATISFIABLE.join(", ")} (got ${got(when)})`);
            return;
        }
        if (spread.minDomains !== undefined && when !== "DoNotSchedule") {
            problems.push(`\`${at}.minDomains\` needs \`whenUnsatisfiable\` DoNotSchedule: with ${String(when)} no pod waits for a domain`);
        }
        if (typeof key === "string") {
            const constraint = `${key} ${String(when)}`;
            if (earlier.includes(constraint)) {
                problems.push(`\`${at}\` spreads over ${got(key)} with ${String(when)}, as an earlier entry does: one spread per topology key and \`whenUnsatisfiable\``);
            }
            earlier.push(constraint);
        }
    });
}

/** Every problem with `pod` and `container` (of a kubernetes workload), each naming its field. */
export function podProblems(pod: unknown, container: unknown, env: unknown): string[] {
    const problems: string[] = [];
    if (pod !== undefined && !isRecord(pod)) {
        problems.push(`\`pod\` must be an object (got ${got(pod)})`);
    }
    if (container !== undefined && !isRecord(container)) {
        problems.push(`\`container\` must be an object (got ${got(container)})`);
    }
    const p = isRecord(pod) ? pod : {};
    const c = isRecord(container) ? container : {};
    const volumes: string[] = [];
    listOf(p.volumes, "pod.volumes", problems).forEach((volume, index) => {
        const at = `pod.volumes[${index}]`;
        if (!isRecord(volume)) {
            problems.push(`\`${at}\` must be an object with \`name\` and one source (got ${got(volume)})`);
            return;
        }
        text(volume.name, `${at}.name`, problems, true);
        if (typeof volume.name === "string") {
            if (volumes.includes(volume.name)) {
                problems.push(`\`${at}.name\` ${got(volume.name)} is the name of an earlier volume too`);
            }
            volumes.push(volume.name);
        }
        const sources = VOLUME_SOURCES.filter((source) => volume[source] !== undefined && volume[source] !== false);
        if (sources.length !== 1) {
            problems.push(`\`${at}\` must have exactly one source of ${VOLUME_SOURCES.join(", ")} (got ${sources.length === 0 ? "none" : sources.join(" and ")})`);
        }
    });
    text(p.serviceAccountName, "pod.serviceAccountName", problems);
    listOf(p.imagePullSecrets, "pod.imagePullSecrets", problems).forEach((name, index) => text(name, `pod.imagePullSecrets[${index}]`, problems));
    stringMap(p.nodeSelector, "pod.nodeSelector", problems);
    stringMap(p.annotations, "pod.annotations", problems);
    stringMap(p.labels, "pod.labels", problems);
    for (const label of isRecord(p.labels) ? Object.keys(p.labels) : []) {
        if (OWNED_LABELS.includes(label)) {
            problems.push(`\`pod.labels.${label}\` is the component's own label (it selects the service's pods and names their release); leave it out`);
        }
    }
    listOf(p.tolerations, "pod.tolerations", problems).forEach((toleration, index) => {
        const at = `pod.tolerations[${index}]`;
        if (!isRecord(toleration)) {
            problems.push(`\`${at}\` must be an object (got ${got(toleration)})`);
        } else if (toleration.operator !== undefined && !TOLERATION_OPERATORS.includes(toleration.operator as string)) {
            problems.push(`\`${at}.operator\` must be one of ${TOLERATION_OPERATORS.join(", ")} (got ${got(toleration.operator)})`);
        } else if (toleration.effect !== undefined && !TAINT_EFFECTS.includes(toleration.effect as string)) {
            problems.push(`\`${at}.effect\` must be one of ${TAINT_EFFECTS.join(", ")} (got ${got(toleration.effect)})`);
        }
    });
    affinityProblems(p.affinity, problems);
    topologySpreadProblems(p.topologySpread, problems);
    const names = [CONTAINER_NAME];
    for (const key of ["initContainers", "sidecars"] as const) {
        listOf(p[key], `pod.${key}`, problems).forEach((extra, index) => {
            const at = `pod.${key}[${index}]`;
            if (!isRecord(extra)) {
                problems.push(`\`${at}\` must be an object with \`name\` (got ${got(extra)})`);
                return;
            }
            if (typeof extra.name !== "string" || !CONTAINER_NAME_PATTERN.test(extra.name)) {
                problems.push(`\`${at}.name\` must be a DNS label: lower-case letters, digits and '-' (got ${got(extra.name)})`);
            } else if (names.includes(extra.name)) {
                problems.push(
                    extra.name === CONTAINER_NAME
                        ? `\`${at}.name\` \`${CONTAINER_NAME}\` is the component's own container; give it another name`
                        : `\`${at}.name\` ${got(extra.name)} is the name of another container of the pod`,
                );
            } else {
                names.push(extra.name);
            }
            text(extra.image, `${at}.image`, problems);
            stringMap(extra.env, `${at}.env`, problems);
            secretEnvProblems(extra.secretEnv, `${at}.secretEnv`, extra.env, problems);
            mountProblems(extra.mounts, `${at}.mounts`, volumes, problems);
        });
    }
    mountProblems(c.mounts, "container.mounts", volumes, problems);
    secretEnvProblems(c.secretEnv, "container.secretEnv", env, problems);
    listOf(c.envFrom, "container.envFrom", problems).forEach((source, index) => {
        const at = `container.envFrom[${index}]`;
        if (!isRecord(source) || (source.configMap === undefined) === (source.secret === undefined)) {
            problems.push(`\`${at}\` must name exactly one of \`configMap\` and \`secret\` (got ${got(source)})`);
        }
    });
    return problems;
}
