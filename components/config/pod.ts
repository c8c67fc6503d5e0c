// The checks of a Kubernetes workload's `pod` and `container` (workloads/kubernetes/pod.ts builds
// them): every problem, each naming its field, before anything is registered. The component's own
// container name and pod labels cannot be taken.
import { CONTAINER_NAME, MANAGED_BY_LABEL, NAME_LABEL, VERSION_LABEL } from "../workloads/kubernetes/settings";
import { got, isRecord } from "./schema";

/** The pod labels that are the component's own: the selector, the release and who manages it. */
const OWNED_LABELS = [NAME_LABEL, VERSION_LABEL, MANAGED_BY_LABEL];
const VOLUME_SOURCES = ["configMap", "secret", "emptyDir", "persistentVolumeClaim"] as const;
const TOLERATION_OPERATORS = ["Equal", "Exists"];
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
const CONTAINER_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const AFFINITY_FIELDS = ["nodeAffinity", "podAffinity", "podAntiAffinity"];

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
