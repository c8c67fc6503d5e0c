// The checks of a Docker host container's `hostContainer` (the docker and swarm kinds): every
// problem, each naming its field, before anything is registered. The component's own labels
// cannot be taken.
import { RELEASE_LABEL, SERVICE_LABEL } from "../labels";
import { got, isRecord } from "./schema";

function strings(value: unknown, field: string, problems: string[]): void {
    if (value !== undefined && (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item === ""))) {
        problems.push(`\`${field}\` must be a list of non-empty strings (got ${got(value)})`);
    }
}

/** Every problem with `hostContainer`, each naming its field. */
export function hostContainerProblems(value: unknown): string[] {
    if (value === undefined) {
        return [];
    }
    if (!isRecord(value)) {
        return [`\`hostContainer\` must be an object (got ${got(value)})`];
    }
    const problems: string[] = [];
    if (value.mounts !== undefined && !Array.isArray(value.mounts)) {
        problems.push(`\`hostContainer.mounts\` must be a list (got ${got(value.mounts)})`);
    }
    (Array.isArray(value.mounts) ? value.mounts : []).forEach((mount: unknown, index) => {
        const at = `hostContainer.mounts[${index}]`;
        if (!isRecord(mount)) {
            problems.push(`\`${at}\` must be an object with \`source\` and \`target\` (got ${got(mount)})`);
            return;
        }
        if (typeof mount.source !== "string" || mount.source === "") {
            problems.push(`\`${at}.source\` must be a volume's name or an absolute host path (got ${got(mount.source)})`);
        }
        if (typeof mount.target !== "string" || !mount.target.startsWith("/")) {
            problems.push(`\`${at}.target\` must be an absolute path in the container such as /data (got ${got(mount.target)})`);
        }
    });
    strings(value.networks, "hostContainer.networks", problems);
    strings(value.command, "hostContainer.command", problems);
    strings(value.args, "hostContainer.args", problems);
    if (value.labels !== undefined) {
        if (!isRecord(value.labels) || Object.values(value.labels).some((item) => typeof item !== "string")) {
            problems.push(`\`hostContainer.labels\` must be an object of strings (got ${got(value.labels)})`);
        } else {
            for (const label of Object.keys(value.labels).filter((key) => key === SERVICE_LABEL || key === RELEASE_LABEL)) {
                problems.push(`\`hostContainer.labels.${label}\` is the component's own label (the command finds the service and its release by it); leave it out`);
            }
        }
    }
    return problems;
}
