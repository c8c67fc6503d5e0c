/**
 * The suite's Docker: Debian's dockerd started as root on a socket of its own in the run's
 * scratch directory, a one-node Swarm on it when a scenario asks for one, pulls by digest from
 * the suite's loopback registry, and small `FROM scratch` images of Debian's static busybox (an
 * HTTP server with a health check that really passes, and one whose container exits at once)
 * pushed there.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";

import { freePort } from "../../tests/support/registryServer";

/** Debian's binaries (docker.io, busybox-static); another `docker` on PATH may be another version. */
export const DOCKERD = "/usr/sbin/dockerd";
export const DOCKER_CLI = "/usr/bin/docker";
export const BUSYBOX = "/usr/bin/busybox";
/** The port the busybox images serve on, inside the container. */
export const HTTP_PORT = 8080;

export interface StartDockerOptions {
    /** A directory of this run (socket, data, exec root, build contexts); removed by the caller. */
    readonly workDir: string;
    /** `127.0.0.1:<port>` of the suite's plain-HTTP registry (loopback registries are insecure to dockerd by default). */
    readonly registry: string;
    /** The suite's DOCKER_CONFIG; `docker compose` is linked into its cli-plugins. */
    readonly dockerConfig: string;
    /** `docker-compose` built by e2e/toolchain/docker.sh. */
    readonly composePlugin: string;
    readonly log: (line: string) => void;
}

/** An image pushed to the suite's registry. */
export interface PushedImage {
    /** `127.0.0.1:<port>/<repository>`. */
    readonly repository: string;
    readonly tag: string;
    /** `sha256:<64 hex>`, the manifest digest the registry holds. */
    readonly digest: string;
    /** `<repository>@<digest>`. */
    readonly ref: string;
}

export interface ImageOptions {
    /** What `GET /` answers; different content gives a different digest. */
    readonly content: string;
    /** An image whose container exits at once (status 1) instead of serving. */
    readonly exits?: boolean;
}

export interface DockerDaemon {
    /** `unix://<workDir>/docker.sock`. */
    readonly host: string;
    /** Makes the daemon a one-node Swarm manager, once; later calls wait for the first. */
    swarm(): Promise<void>;
    /** `DOCKER_HOST` (and `DOCKER_CONFIG`) for any docker, compose or pulumi run against this daemon. */
    dockerEnv(): { DOCKER_HOST: string; DOCKER_CONFIG: string };
    /** Runs Debian's docker CLI against this daemon; rejects with its stderr on a non-zero exit. */
    docker(args: readonly string[], options?: { cwd?: string }): Promise<string>;
    /** Builds a busybox image, pushes `<registry>/<repository>:<tag>` and returns what the registry holds. */
    pushImage(repository: string, tag: string, options: ImageOptions): Promise<PushedImage>;
    /**
     * The digest (`sha256:…`) of the registry image a running container runs, from the daemon:
     * the repo digest of the container's image for the repository the container names. Rejects when
     * the container does not run.
     */
    containerDigest(name: string): Promise<string>;
    /** The digests of the containers of a service's running tasks (desired and current state running), sorted. */
    serviceTaskDigests(service: string): Promise<string[]>;
    /** The service's UpdateStatus.State (`updating`, `completed`, `rollback_completed`, …), or `""` when none. */
    serviceUpdateState(service: string): Promise<string>;
    stop(): Promise<void>;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(file, [...args], { env, cwd, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
            if (error) {
                reject(new Error(`docker ${args.join(" ")} failed (${error.code}): ${stderr.trim() || stdout.trim()}`));
            } else {
                resolve(stdout);
            }
        });
    });
}

/** GET /_ping on the daemon's socket: "OK" once it serves the API. */
function ping(socket: string): Promise<boolean> {
    return new Promise((resolve) => {
        const request = http.get({ socketPath: socket, path: "/_ping", timeout: 2_000 }, (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => (body += chunk.toString()));
            response.on("end", () => resolve(response.statusCode === 200 && body === "OK"));
        });
        request.on("error", () => resolve(false));
        request.on("timeout", () => {
            request.destroy();
            resolve(false);
        });
    });
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, detail: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) {
            throw new Error(`${what} within ${timeoutMs / 1000} s:\n${detail()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

/** Mount points at or below `dir` (dockerd leaves some behind when it is killed). */
function mountsBelow(dir: string): string[] {
    return fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .map((line) => line.split(" ")[4])
        .filter((mount): mount is string => mount !== undefined && (mount === dir || mount.startsWith(`${dir}/`)))
        .sort((a, b) => b.length - a.length);
}

function dockerfile(options: ImageOptions): string {
    const entrypoint = options.exits ? `["/bin/busybox","false"]` : `["/bin/busybox","httpd","-f","-p","${HTTP_PORT}","-h","/www"]`;
    return [
        "FROM scratch",
        "COPY busybox /bin/busybox",
        "COPY www /www",
        // A check that really asks the server; the exiting image never gets to pass it.
        `HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD ["/bin/busybox","wget","-q","-O","/dev/null","http://127.0.0.1:${HTTP_PORT}/"]`,
        // busybox as PID 1 ignores SIGTERM: without this every stop waits out the 10 s grace period.
        "STOPSIGNAL SIGKILL",
        `ENTRYPOINT ${entrypoint}`,
        "",
    ].join("\n");
}

export async function startDocker(options: StartDockerOptions): Promise<DockerDaemon> {
    for (const file of [DOCKERD, DOCKER_CLI, BUSYBOX]) {
        if (!fs.existsSync(file)) {
            throw new Error(`${file} is missing: apt-get install docker.io busybox-static`);
        }
    }
    if (!fs.existsSync(options.composePlugin)) {
        throw new Error(`${options.composePlugin} is missing: build it with e2e/toolchain/docker.sh`);
    }
    const dir = options.workDir;
    fs.mkdirSync(dir, { recursive: true });
    const socket = path.join(dir, "docker.sock");
    const host = `unix://${socket}`;
    const plugins = path.join(options.dockerConfig, "cli-plugins");
    fs.mkdirSync(plugins, { recursive: true });
    fs.symlinkSync(options.composePlugin, path.join(plugins, "docker-compose"));
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: options.dockerConfig, DOCKER_BUILDKIT: "0" };
    const docker = (args: readonly string[], runOptions: { cwd?: string } = {}): Promise<string> => run(DOCKER_CLI, args, env, runOptions.cwd);

    const logFile = path.join(dir, "dockerd.log");
    const log = fs.openSync(logFile, "a");
    const readLog = (): string => fs.readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
    // No bridge and no iptables: the daemon leaves the machine's network alone; containers get
    // their own network namespace with loopback only, so every container can serve on one port.
    const dockerd: ChildProcess = spawn(
        DOCKERD,
        ["--host", host, "--data-root", path.join(dir, "data"), "--exec-root", path.join(dir, "exec"), "--pidfile", path.join(dir, "docker.pid"), "--iptables=false", "--bridge=none"],
        { stdio: ["ignore", log, log], detached: true },
    );
    const exited = new Promise<void>((resolve) => dockerd.once("exit", () => resolve()));
    const stop = async (): Promise<void> => {
        if (dockerd.exitCode === null && dockerd.signalCode === null) {
            process.kill(-dockerd.pid!, "SIGTERM");
            const killed = setTimeout(() => process.kill(-dockerd.pid!, "SIGKILL"), 60_000);
            await exited;
            clearTimeout(killed);
        }
        for (const mount of mountsBelow(dir)) {
            await run("umount", ["-l", mount], process.env).catch((error: unknown) => options.log(`docker: ${(error as Error).message}`));
        }
    };
    try {
        await waitUntil(
            "dockerd did not answer",
            60_000,
            async () => {
                if (dockerd.exitCode !== null) {
                    throw new Error(`dockerd exited (${dockerd.exitCode}):\n${readLog()}`);
                }
                return ping(socket);
            },
            readLog,
        );
        const version = (await docker(["version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"])).trim();
        options.log(`docker: dockerd ${version} on ${host}`);
        // A Swarm only for the scenarios that ask: it makes host-wide networks (docker_gwbridge),
        // which a second suite's daemon on this machine must not find taken. Ports of its own, so
        // that another Swarm on this machine (2377, VXLAN 4789) does not collide either.
        let swarm: Promise<void> | undefined;
        const initSwarm = async (): Promise<void> => {
            const swarmPort = await freePort();
            const dataPathPort = await freePort();
            await docker(["swarm", "init", "--advertise-addr", `127.0.0.1:${swarmPort}`, "--listen-addr", `127.0.0.1:${swarmPort}`, "--data-path-port", String(dataPathPort)]);
            options.log(`docker: one-node Swarm initialised (127.0.0.1:${swarmPort})`);
        };

        const repoDigest = async (reference: string, repository: string): Promise<string> => {
            const digests = JSON.parse(await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", reference])) as string[] | null;
            const found = (digests ?? []).find((entry) => entry.startsWith(`${repository}@`));
            if (found === undefined) {
                throw new Error(`${reference} has no digest in ${repository} (repo digests: ${JSON.stringify(digests)})`);
            }
            return found.slice(repository.length + 1);
        };

        const contexts = path.join(dir, "contexts");
        let built = 0;
        const pushImage = async (repository: string, tag: string, image: ImageOptions): Promise<PushedImage> => {
            const context = path.join(contexts, String(built++));
            fs.mkdirSync(path.join(context, "www"), { recursive: true });
            fs.copyFileSync(BUSYBOX, path.join(context, "busybox"));
            fs.chmodSync(path.join(context, "busybox"), 0o755);
            fs.writeFileSync(path.join(context, "www", "index.html"), image.content);
            fs.writeFileSync(path.join(context, "Dockerfile"), dockerfile(image));
            const full = `${options.registry}/${repository}`;
            await docker(["build", "--quiet", "--tag", `${full}:${tag}`, context]);
            await docker(["push", "--quiet", `${full}:${tag}`]);
            const digest = await repoDigest(`${full}:${tag}`, full);
            return { repository: full, tag, digest, ref: `${full}@${digest}` };
        };

        const containerDigest = async (name: string): Promise<string> => {
            const [state, imageId, reference] = (await docker(["container", "inspect", "--format", "{{.State.Status}} {{.Image}} {{.Config.Image}}", name])).trim().split(" ");
            if (state !== "running") {
                throw new Error(`container ${name} is ${state}, not running`);
            }
            // The repository part of what the container was created from (`repo@sha256:…` or `repo:tag`).
            const repository = reference.replace(/@sha256:[0-9a-f]{64}$/, "").replace(/:[^:/]+$/, "");
            return repoDigest(imageId, repository);
        };

        return {
            host,
            swarm: () => (swarm ??= initSwarm()),
            dockerEnv: () => ({ DOCKER_HOST: host, DOCKER_CONFIG: options.dockerConfig }),
            docker,
            pushImage,
            containerDigest,
            serviceTaskDigests: async (service) => {
                const tasks = (await docker(["service", "ps", "--no-trunc", "--filter", "desired-state=running", "--format", "{{.ID}}", service])).trim().split("\n").filter(Boolean);
                const digests: string[] = [];
                for (const task of tasks) {
                    const [state, container] = (await docker(["inspect", "--type", "task", "--format", "{{.Status.State}} {{with .Status.ContainerStatus}}{{.ContainerID}}{{end}}", task])).trim().split(" ");
                    if (state === "running") {
                        digests.push(await containerDigest(container));
                    }
                }
                return digests.sort();
            },
            serviceUpdateState: async (service) =>
                (await docker(["service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", service])).trim(),
            stop,
        };
    } catch (error) {
        await stop();
        throw error;
    }
}
