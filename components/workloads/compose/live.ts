// What runs for a Compose service now: the containers `docker compose up` created from the pinned
// file. Pulumi runs nothing for this kind, so the command reruns docker compose itself when it must
// see a release land (the drill): the way the service's containers were started, same project,
// directory and files, which must include the pinned file.
import * as path from "node:path";

import { SERVICE_LABEL } from "../../labels";
import { containerInstances, type ContainerInspect, docker, type DockerRun } from "../docker/live";
import type { LiveWorkload, Noun } from "../live";
import type { ComposeWorkloadRecord } from "../workload";

/** What this kind calls one instance of a workload, and several. */
export const NOUN: Noun = { one: "container", many: "containers" };

/** Labels docker compose gives every container it creates. */
const COMPOSE_SERVICE = "com.docker.compose.service";
const COMPOSE_PROJECT = "com.docker.compose.project";
const COMPOSE_DIRECTORY = "com.docker.compose.project.working_dir";
const COMPOSE_FILES = "com.docker.compose.project.config_files";

/** The running containers of a Compose service that a pinned file labelled. */
export async function inspectComposeService(service: string, run: DockerRun = docker): Promise<ContainerInspect[]> {
    const ids = (await run(["ps", "--quiet", "--filter", `label=${COMPOSE_SERVICE}=${service}`, "--filter", `label=${SERVICE_LABEL}`])).trim();
    return ids === "" ? [] : (JSON.parse(await run(["inspect", ...ids.split("\n")])) as ContainerInspect[]);
}

/**
 * The `docker compose` arguments that recreate `service` the way its containers were started, or why
 * there are none: no container runs, they were not started by docker compose, they come from several
 * projects, or the files they were started from leave out `pinnedFile` (an absolute path).
 */
export function composeRerun(containers: readonly ContainerInspect[], service: string, pinnedFile: string): { readonly args: string[] } | { readonly problem: string } {
    const start = `start it once with docker compose -f compose.yaml -f ${pinnedFile} up -d`;
    if (containers.length === 0) {
        return { problem: `no container of Compose service ${service} runs, so there is no docker compose project to rerun: ${start}` };
    }
    const runs = new Set(containers.map((container) => [COMPOSE_PROJECT, COMPOSE_DIRECTORY, COMPOSE_FILES].map((label) => container.Config.Labels?.[label] ?? "").join("\n")));
    if (runs.size > 1) {
        return { problem: `the containers of Compose service ${service} come from ${runs.size} docker compose projects; stop all but one` };
    }
    const [project, directory, files] = [...runs][0].split("\n");
    if (project === "" || directory === "" || files === "") {
        return { problem: `the containers of Compose service ${service} were not started by docker compose (they have no ${COMPOSE_PROJECT} labels): ${start}` };
    }
    const list = files.split(",");
    if (!list.includes(pinnedFile)) {
        return { problem: `Compose service ${service} runs from ${list.join(", ")}, without ${pinnedFile}, so the digest it pins would not run: ${start}` };
    }
    return { args: ["compose", "--project-name", project, "--project-directory", directory, ...list.flatMap((file) => ["-f", file]), "up", "--detach", "--no-deps", service] };
}

/** A Compose service's containers, live; `projectDir` is the Pulumi project's, which the file is relative to. */
export function composeLive(
    record: ComposeWorkloadRecord,
    projectDir: string,
    inspect: (service: string) => Promise<ContainerInspect[]> = inspectComposeService,
    run: (args: readonly string[]) => Promise<unknown> = docker,
): LiveWorkload {
    const pinnedFile = path.resolve(projectDir, record.file);
    const rerun = async (): Promise<ReturnType<typeof composeRerun>> => composeRerun(await inspect(record.service), record.service, pinnedFile);
    return {
        noun: NOUN,
        location: { composeFile: record.file, composeService: record.service },
        where: `Compose service ${record.service} (${record.file})`,
        none: `No container of Compose service ${record.service} runs: run docker compose -f compose.yaml -f ${record.file} up -d.`,
        driftCause:
            `docker compose up has not run since ${record.file} was written, or ran without it. Run ` +
            `docker compose -f compose.yaml -f ${record.file} up -d to run the recorded digest.`,
        instances: async (expected) => containerInstances(await inspect(record.service), expected),
        rerun: {
            problem: async () => {
                const plan = await rerun();
                return "problem" in plan ? plan.problem : undefined;
            },
            run: async () => {
                const plan = await rerun();
                if ("problem" in plan) {
                    throw new Error(plan.problem);
                }
                await run(plan.args);
                return `docker ${plan.args.join(" ")}`;
            },
        },
    };
}
