// What the Docker host kinds (a container, a Swarm service) declare alike.
import { RELEASE_LABEL, SERVICE_LABEL } from "../../labels";

/** A Docker health check, as `docker run --health-*` and a Compose file's `healthcheck` take it. */
export interface Healthcheck {
    /** The test, e.g. `["CMD", "/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/"]`. Required. */
    readonly tests: string[];
    /** Time between checks, e.g. `5s`. Defaults to Docker's 30s. */
    readonly interval?: string;
    /** Time one check may take. Defaults to Docker's 30s. */
    readonly timeout?: string;
    /** Failures in a row that make the container unhealthy. Defaults to Docker's 3. */
    readonly retries?: number;
    /** Time after start during which failures do not count. Defaults to none. */
    readonly startPeriod?: string;
}


/** What the container adds on a Docker host (the docker and swarm kinds): mounts, networks, its command, labels. */
export interface HostContainerSettings {
    /** Named volumes and host paths mounted in it. Defaults to none. */
    readonly mounts?: HostMount[];
    /** Networks it joins, by name. Defaults to Docker's default bridge (docker), none (swarm). */
    readonly networks?: string[];
    /** The command, in place of the image's entrypoint. Defaults to the image's. */
    readonly command?: string[];
    /** The arguments, in place of the image's command. Defaults to the image's. */
    readonly args?: string[];
    /** Labels added (on the container; on a Swarm service, the service's); the component's own cannot be set here. Defaults to none. */
    readonly labels?: Record<string, string>;
}

/** A volume or a host path mounted in the container. */
export interface HostMount {
    /** A volume's name, or an absolute host path. Required. */
    readonly source: string;
    /** Where it appears in the container, an absolute path. Required. */
    readonly target: string;
    /** Whether the container may only read it. Defaults to false. */
    readonly readOnly?: boolean;
}

/** A mount's kind: a host path is absolute, anything else names a volume. */
export function mountType(mount: HostMount): "bind" | "volume" {
    return mount.source.startsWith("/") ? "bind" : "volume";
}

/** The labels a container or service carries: the user's, then which service and which release. */
export function hostLabels(name: string, version: string, added: Readonly<Record<string, string>> | undefined): { label: string; value: string }[] {
    const own = releaseLabels(name, version);
    return [
        ...Object.keys(added ?? {})
            .sort()
            .map((label) => ({ label, value: added![label] })),
        ...own,
    ];
}

/** The labels a container or service carries: which service, which release. */
export function releaseLabels(name: string, version: string): { label: string; value: string }[] {
    return [
        { label: SERVICE_LABEL, value: name },
        { label: RELEASE_LABEL, value: version },
    ];
}

/** `KEY=value` lines, sorted, as Docker takes a container's environment. */
export function envList(env: Record<string, string>): string[] {
    return Object.keys(env)
        .sort()
        .map((key) => `${key}=${env[key]}`);
}
