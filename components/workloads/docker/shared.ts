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
