// What runs on a Docker host now: containers as `docker inspect` reports them, each judged by the
// reference it was created from (`repo@sha256:…`). The compose kind reads its containers the same way.
import { execFile } from "node:child_process";

import { RELEASE_LABEL } from "../../labels";
import { DIGEST_PATTERN } from "../../registry/reference";
import { type ExpectedRelease, judge, type LiveInstance, type LiveWorkload, type Noun } from "../live";
import type { DockerWorkloadRecord } from "../workload";

/** What this kind calls one instance of a workload, and several. */
export const NOUN: Noun = { one: "container", many: "containers" };

/** The parts of `docker inspect <container>` read here. */
export interface ContainerInspect {
    readonly Name: string;
    readonly Config: { readonly Image: string; readonly Labels?: Readonly<Record<string, string>> | null };
    readonly State: { readonly Status: string; readonly Running: boolean; readonly Health?: { readonly Status: string } | null };
}

/** The digest a `repo@sha256:…` reference names, or null for a tag or a local image. */
export function digestOfReference(reference: string): string | null {
    const digest = reference.slice(reference.lastIndexOf("@") + 1);
    return reference.includes("@") && DIGEST_PATTERN.test(digest) ? digest : null;
}

/** Each container as an instance: ready when running (and healthy, when it has a check). */
export function containerInstances(containers: readonly ContainerInspect[], expected: ExpectedRelease): LiveInstance[] {
    return containers.map((container) => {
        const digest = digestOfReference(container.Config.Image);
        const health = container.State.Health?.Status;
        return {
            name: container.Name.replace(/^\//, ""),
            phase: health === undefined ? container.State.Status : `${container.State.Status} (${health})`,
            ready: container.State.Running && (health === undefined || health === "healthy"),
            version: container.Config.Labels?.[RELEASE_LABEL] ?? null,
            digest,
            state: judge(digest, expected),
        };
    });
}

/** Runs the Docker CLI; each kind's reader takes one, so the command can point it at the stack's daemon. */
export type DockerRun = (args: readonly string[]) => Promise<string>;

/** Runs the Docker CLI against `host` (its DOCKER_HOST), by default the user's daemon (`DOCKER_HOST`, or its current context). */
export function docker(args: readonly string[], host?: string): Promise<string> {
    const env = host === undefined ? undefined : { ...process.env, DOCKER_HOST: host };
    return new Promise((resolve, reject) => {
        execFile("docker", [...args], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000, env }, (error, stdout, stderr) => {
            if (error) {
                const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "the docker CLI is not installed or not on PATH" : (stderr || error.message).trim();
                reject(new Error(`docker ${args.join(" ")} failed: ${reason}`));
                return;
            }
            resolve(stdout);
        });
    });
}

/** The containers of one name, or none when it does not exist. */
export async function inspectContainer(name: string, run: DockerRun = docker): Promise<ContainerInspect[]> {
    const ids = (await run(["ps", "--all", "--quiet", "--filter", `name=^/?${name}$`])).trim();
    return ids === "" ? [] : (JSON.parse(await run(["inspect", ...ids.split("\n")])) as ContainerInspect[]);
}


/** The Docker workload's container, live. */
export function dockerLive(record: DockerWorkloadRecord, inspect: (name: string) => Promise<ContainerInspect[]> = inspectContainer): LiveWorkload {
    return {
        noun: NOUN,
        location: { container: record.container },
        where: `container ${record.container}`,
        none: `No container ${record.container} on the Docker host.`,
        driftCause:
            `The container was replaced outside Pulumi (for example by docker rm and docker run). Remove it (docker rm --force ${record.container}) ` +
            "and run `pulumi up --refresh`: the container is created again on the recorded digest. `released-service rollback --to <update>` records another one.",
        instances: async (expected) => containerInstances(await inspect(record.container), expected),
    };
}


/** The type of the resource whose recorded outputs say which image the host was last told to run. */
export const CONTAINER_TYPE = "docker:index/container:Container";

/** The image a recorded container names. */
export function containerImage(outputs: Readonly<Record<string, unknown>>): unknown {
    return outputs.image;
}
