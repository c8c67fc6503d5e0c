/**
 * Everything one run of the real-engine suite uses, started once and stopped at the end: a
 * plain-HTTP registry on loopback (behind a proxy that counts what is written to it), a TLS
 * registry with a token service over the same storage, BuildKit as a remote buildx builder,
 * a Kubernetes control plane with kwok nodes, Debian's dockerd with a one-node Swarm (see
 * docker.ts), a file backend, and a copy of this project.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import { startCluster, type Cluster } from "./cluster";
import { startDocker, type DockerDaemon } from "./docker";
import { freePort, startRegistry, type TestRegistry } from "../../tests/support/registryServer";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
/** The name the TLS registry is served under: not loopback by name, so clients speak HTTPS to it. */
export const PRIVATE_REGISTRY_NAME = "registry.released-service.test";
export const PRIVATE_USER = "deployer";
export const PRIVATE_PASSWORD = "s3cret-registry-pa55word";
/** The passphrase of every stack the suite makes: the dev stack's, empty (see stacks/Pulumi.dev.yaml). */
export const PASSPHRASE = "";
export const BUILDER = "released-service-e2e";
/**
 * The quickstart's registry address. BuildKit is told it is plain HTTP and that it mirrors Docker
 * Hub, which cannot be reached here: the quickstart scenario serves app/'s base image from it.
 */
export const QUICKSTART_REGISTRY = "localhost:5000";

export interface Result {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface RunOptions {
    readonly cwd?: string;
    readonly input?: string;
    /** Variables to leave out of the environment, e.g. the passphrase. */
    readonly without?: readonly string[];
    /** The whole environment instead of the suite's (a user's machine). */
    readonly replaceEnv?: NodeJS.ProcessEnv;
}

export interface Environment {
    /** The copy of this project every `pulumi` command runs in. */
    readonly project: string;
    /** Where the file backend keeps its state (`<PULUMI_BACKEND_URL>/.pulumi`). */
    readonly stateDir: string;
    /** `127.0.0.1:<port>`, plain HTTP, through the counting proxy. */
    readonly registry: TestRegistry;
    /** `registry.released-service.test:<port>`, HTTPS with a token service, the same storage. */
    readonly privateRegistry: TestRegistry;
    /** Registry API requests that wrote a manifest (`PUT …/manifests/…`), in order. */
    manifestWrites(): string[];
    /** Every request line the counting proxy has seen (`GET /v2/…`), in order. */
    registryRequests(): readonly string[];
    /** Makes the counting proxy answer requests as `fault` says, until it is set to undefined. */
    faultRegistry(fault: RegistryFault | undefined): void;
    readonly cluster: Cluster;
    /** The suite's dockerd (DOCKER_HOST of `env`); `docker.swarm()` makes it a one-node Swarm. */
    readonly docker: DockerDaemon;
    /** Environment of every pulumi, kubectl and released-service run. */
    readonly env: NodeJS.ProcessEnv;
    /** The directory of scratch files (build contexts, fixtures). */
    readonly scratch: string;
    /** The toolchain directory (pulumi/, kube/, node/, docker/, buildx/). */
    readonly toolchain: string;
    /** BuildKit's socket, for builders other than the suite's own. */
    readonly buildkitSocket: string;
    /** The directory holding the `pulumi` the suite runs. */
    readonly pulumiBin: string;
    run(command: string, args: readonly string[], options?: RunOptions): Promise<Result>;
    pulumi(args: readonly string[], options?: { cwd?: string }): Promise<Result>;
    kubectl(args: readonly string[]): Promise<string>;
    /** `released-service` as users run it: the package's bin. */
    cli(args: readonly string[], options?: RunOptions): Promise<Result>;
    stop(): Promise<void>;
}

/** The toolchain the suite runs: `$E2E_TOOLCHAIN`, else what `e2e/toolchain/build` builds (or finds). */
function toolchain(log: (line: string) => void): string {
    if (process.env.E2E_TOOLCHAIN) {
        return process.env.E2E_TOOLCHAIN;
    }
    log("building or finding the toolchain (e2e/toolchain/build)…");
    const out = execFileSync("bash", [path.join(REPO_ROOT, "e2e", "toolchain", "build")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    return out.trim().split("\n").pop()!;
}

/** Whether `name` is on PATH (a user's official pulumi CLI is preferred over the toolchain's). */
function onPath(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        const file = path.join(dir, name);
        if (dir !== "" && fs.existsSync(file)) {
            return file;
        }
    }
    return undefined;
}

/** `registry.released-service.test` must resolve to 127.0.0.1; as root the suite says so in /etc/hosts. */
function ensurePrivateName(): void {
    const hosts = fs.readFileSync("/etc/hosts", "utf8");
    if (!new RegExp(`^127\\.0\\.0\\.1\\s.*\\b${PRIVATE_REGISTRY_NAME.replace(/\./g, "\\.")}\\b`, "m").test(hosts)) {
        try {
            fs.appendFileSync("/etc/hosts", `127.0.0.1 ${PRIVATE_REGISTRY_NAME}\n`);
        } catch (error) {
            throw new Error(`${PRIVATE_REGISTRY_NAME} must resolve to 127.0.0.1: add "127.0.0.1 ${PRIVATE_REGISTRY_NAME}" to /etc/hosts (${(error as Error).message})`);
        }
    }
}

/** A CA and a server certificate for the TLS registry, made with openssl. */
function makeCertificates(dir: string): { nodeExtra: string; certificate: string; key: string } {
    const file = (name: string): string => path.join(dir, name);
    const openssl = (...args: string[]): void => {
        execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    };
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=released-service e2e CA", "-keyout", file("ca.key"), "-out", file("ca.pem"));
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${PRIVATE_REGISTRY_NAME}`, "-keyout", file("registry.key"), "-out", file("registry.csr"));
    fs.writeFileSync(file("san.ext"), `subjectAltName=DNS:${PRIVATE_REGISTRY_NAME}\n`);
    openssl("x509", "-req", "-in", file("registry.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", file("san.ext"), "-out", file("registry.pem"));
    // Node trusts one extra bundle: this CA beside whatever the machine already adds (npm, run by
    // the toolchain's Node, reads no machine-wide npmrc and reaches its registry with this alone).
    const inherited = process.env.NODE_EXTRA_CA_CERTS;
    const extra = [inherited && fs.existsSync(inherited) ? fs.readFileSync(inherited, "utf8") : "", fs.readFileSync(file("ca.pem"), "utf8")];
    fs.writeFileSync(file("node-extra-ca.pem"), extra.filter(Boolean).join("\n"));
    return { nodeExtra: file("node-extra-ca.pem"), certificate: file("registry.pem"), key: file("registry.key") };
}

/**
 * What the proxy does with a request instead of passing it on: an answer of its own, or a reset
 * connection; undefined passes it on. `seen` counts the requests with this line so far, this one included.
 */
export type RegistryFault = (line: string, seen: number) => { readonly status: number; readonly headers?: Record<string, string> } | "reset" | undefined;

/**
 * A transparent proxy in front of the registry that records every request line; `latencyMs`
 * holds each request back that long first, as a registry that far away would, and `faults.current`
 * answers in the registry's place, as a throttling or failing one would.
 */
async function countingProxy(
    target: string,
    requests: string[],
    latencyMs = 0,
    faults: { current?: RegistryFault } = {},
): Promise<{ host: string; close(): Promise<void> }> {
    const [targetHost, targetPort] = target.split(":");
    const seen = new Map<string, number>();
    const server = http.createServer((request, response) => {
        const line = `${request.method} ${request.url}`;
        requests.push(line);
        seen.set(line, (seen.get(line) ?? 0) + 1);
        const fault = faults.current?.(line, seen.get(line)!);
        if (fault === "reset") {
            request.socket.destroy();
            return;
        }
        if (fault !== undefined) {
            response.writeHead(fault.status, fault.headers).end();
            return;
        }
        const forward = (): void => {
            const upstream = http.request(
                { host: targetHost, port: Number(targetPort), method: request.method, path: request.url, headers: request.headers },
                (answer) => {
                    response.writeHead(answer.statusCode ?? 502, answer.headers);
                    answer.pipe(response);
                },
            );
            upstream.on("error", (error) => response.writeHead(502).end(error.message));
            request.pipe(upstream);
        };
        if (latencyMs > 0) {
            // The body waits unread (a paused stream) while the request is held back.
            setTimeout(forward, latencyMs);
        } else {
            forward();
        }
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return {
        host: `127.0.0.1:${port}`,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

function waitForSocket(file: string, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
        const check = (): void => {
            if (child.exitCode !== null) {
                reject(new Error(`buildkitd exited (${child.exitCode}):\n${log()}`));
            } else if (fs.existsSync(file)) {
                const socket = net.connect(file, () => {
                    socket.end();
                    resolve();
                });
                socket.once("error", () => setTimeout(check, 200));
            } else if (Date.now() > deadline) {
                reject(new Error(`buildkitd did not listen on ${file} within ${timeoutMs / 1000} s:\n${log()}`));
            } else {
                setTimeout(check, 200);
            }
        };
        check();
    });
}

/** Copies the project as a user's checkout would have it: program, components, stacks, policy. */
function copyProject(into: string): void {
    fs.mkdirSync(into, { recursive: true });
    for (const entry of ["Pulumi.yaml", "index.ts", "package.json", "tsconfig.json", "tsconfig.pulumi.json", "components", "stacks"]) {
        fs.cpSync(path.join(REPO_ROOT, entry), path.join(into, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(into, "node_modules"));
}

export interface EnvironmentOptions {
    /** Added to every request through the counting proxy (a remote registry); none by default. */
    readonly registryLatencyMs?: number;
}

export async function startEnvironment(log: (line: string) => void, options: EnvironmentOptions = {}): Promise<Environment> {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "released-service-e2e-"));
    const stops: (() => Promise<void>)[] = [];
    const stop = async (): Promise<void> => {
        for (const step of stops.reverse()) {
            await step().catch((error: unknown) => log(`stopping: ${(error as Error).message}`));
        }
        fs.rmSync(scratch, { recursive: true, force: true });
    };
    try {
        // The command as users run it is the package's bin, which loads dist/ when it is current:
        // compiled once here rather than transpiled on every run.
        execFileSync("npm", ["run", "build"], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] });
        const official = onPath("pulumi");
        const tools = toolchain(log);
        const pulumiBin = official ? path.dirname(official) : path.join(tools, "pulumi", "bin");
        const home = path.join(scratch, "home");
        fs.mkdirSync(home);

        // Registries: the quickstart's plain-HTTP one, and a private one over the same storage.
        const requests: string[] = [];
        const plain = await startRegistry();
        stops.push(() => plain.stop());
        const faults: { current?: RegistryFault } = {};
        const proxy = await countingProxy(plain.host, requests, options.registryLatencyMs, faults);
        stops.push(() => proxy.close());
        const certificates = makeCertificates(scratch);
        ensurePrivateName();
        const privateRegistry = await startRegistry({
            storage: plain.storage,
            tokenAuth: { username: PRIVATE_USER, password: PRIVATE_PASSWORD },
            tls: { hostname: PRIVATE_REGISTRY_NAME, certificate: certificates.certificate, key: certificates.key },
        });
        stops.push(() => privateRegistry.stop());
        const registry: TestRegistry = { ...plain, host: proxy.host };

        // BuildKit as a remote buildx builder: docker-build refuses the docker driver.
        const dockerConfig = path.join(scratch, "docker");
        const buildkitDir = path.join(scratch, "buildkit");
        fs.mkdirSync(path.join(dockerConfig, "buildx", "instances"), { recursive: true });
        fs.mkdirSync(buildkitDir);
        const socket = path.join(buildkitDir, "buildkitd.sock");
        fs.writeFileSync(
            path.join(buildkitDir, "buildkitd.toml"),
            [proxy.host, QUICKSTART_REGISTRY].map((host) => `[registry."${host}"]\n  http = true\n  insecure = true\n`).join("") +
                `[registry."docker.io"]\n  mirrors = ["${QUICKSTART_REGISTRY}"]\n`,
        );
        const buildkitLog = path.join(scratch, "buildkitd.log");
        const buildkitd = spawn(
            path.join(tools, "pulumi", "bin", "buildkitd"),
            ["--config", path.join(buildkitDir, "buildkitd.toml"), "--root", path.join(buildkitDir, "root"), "--addr", `unix://${socket}`, "--oci-worker=true", "--oci-worker-binary=runc", "--containerd-worker=false"],
            { stdio: ["ignore", fs.openSync(buildkitLog, "a"), fs.openSync(buildkitLog, "a")], detached: true },
        );
        stops.push(async () => {
            if (buildkitd.exitCode === null) {
                const exited = new Promise((resolve) => buildkitd.once("exit", resolve));
                process.kill(-buildkitd.pid!, "SIGTERM");
                await exited;
            }
        });
        await waitForSocket(socket, buildkitd, () => fs.readFileSync(buildkitLog, "utf8"), 60_000);
        fs.writeFileSync(
            path.join(dockerConfig, "buildx", "instances", BUILDER),
            JSON.stringify({ Name: BUILDER, Driver: "remote", Nodes: [{ Name: `${BUILDER}0`, Endpoint: `unix://${socket}`, Platforms: null, DriverOpts: null, Flags: null, Files: null }], Dynamic: false }),
        );

        const cluster = await startCluster({ binDir: path.join(tools, "kube", "bin"), workDir: path.join(scratch, "cluster"), log: (line) => log(`cluster: ${line}`) });
        stops.push(() => cluster.stop());

        const docker = await startDocker({
            workDir: path.join(scratch, "dockerd"),
            registry: registry.host,
            dockerConfig,
            composePlugin: path.join(tools, "docker", "cli-plugins", "docker-compose"),
            log,
        });
        stops.push(() => docker.stop());

        fs.mkdirSync(path.join(scratch, "state"));
        const project = path.join(scratch, "project");
        copyProject(project);
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            // kubectl for `released-service status`, Node 22 for the programs the CLI starts.
            PATH: [pulumiBin, path.join(tools, "kube", "bin"), path.join(tools, "node", "node22", "bin"), process.env.PATH].join(path.delimiter),
            HOME: home,
            PULUMI_HOME: official ? path.join(home, ".pulumi-home") : path.join(tools, "pulumi", "pulumi-home"),
            PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
            // Pulumi.yaml says file://~, which Pulumi expands to the account's home, whatever HOME
            // says: the variable keeps this run's state in its scratch directory.
            PULUMI_BACKEND_URL: `file://${path.join(scratch, "state")}`,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            // Plugins come from PULUMI_HOME, never from PATH, where the toolchain's binaries also are.
            PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: official ? "false" : "true",
            KUBECONFIG: cluster.kubeconfig,
            DOCKER_CONFIG: dockerConfig,
            DOCKER_HOST: docker.host,
            NODE_EXTRA_CA_CERTS: certificates.nodeExtra,
            NO_COLOR: "1",
        };
        // The commands run as a user's terminal-less scripts run them: a CI job's progress lines
        // (CI set) are for its log, and the scenarios assert what the commands print otherwise.
        delete env.CI;
        const run = (command: string, args: readonly string[], options: RunOptions = {}): Promise<Result> =>
            new Promise((resolve) => {
                const runEnv = Object.fromEntries(Object.entries(options.replaceEnv ?? env).filter(([key]) => !options.without?.includes(key)));
                const child = execFile(command, [...args], { cwd: options.cwd ?? project, env: runEnv, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
                    resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
                });
                // A command that exits, or closes its input, before reading it makes this write fail
                // with EPIPE: what it printed and its exit code say what happened, not the write.
                child.stdin?.on("error", () => undefined);
                child.stdin?.end(options.input ?? "");
            });
        const environment: Environment = {
            project,
            stateDir: path.join(scratch, "state", ".pulumi"),
            registry,
            privateRegistry,
            manifestWrites: () => requests.filter((line) => /^PUT \/v2\/.+\/manifests\//.test(line)),
            registryRequests: () => requests,
            faultRegistry: (fault) => {
                faults.current = fault;
            },
            cluster,
            docker,
            env,
            scratch,
            toolchain: tools,
            buildkitSocket: socket,
            pulumiBin,
            run,
            pulumi: (args, options) => run(path.join(pulumiBin, "pulumi"), args, options),
            kubectl: async (args) => {
                const result = await run(path.join(tools, "kube", "bin", "kubectl"), args);
                if (result.code !== 0) {
                    throw new Error(`kubectl ${args.join(" ")} failed: ${result.stderr}`);
                }
                return result.stdout;
            },
            cli: (args, options) => run(process.execPath, [path.join(REPO_ROOT, "entry", "cli.js"), ...args], options),
            stop,
        };
        return environment;
    } catch (error) {
        await stop();
        throw error;
    }
}

/** Versions of what the suite runs, for its log: the CLI, and each provider with what it was built from. */
export async function versions(environment: Environment): Promise<string[]> {
    const lines: string[] = [];
    const pulumiVersion = await environment.pulumi(["version"]);
    const official = !environment.pulumiBin.startsWith(environment.toolchain);
    lines.push(`pulumi CLI ${pulumiVersion.stdout.trim()} (${official ? environment.pulumiBin : "built from github.com/pulumi/pulumi/pkg/v3 at that version"})`);
    const plugins = JSON.parse((await environment.pulumi(["plugin", "ls", "--json"])).stdout) as { kind: string; name: string; version: string }[];
    const built = (file: string, part = "pulumi"): string | undefined => {
        const at = path.join(environment.toolchain, part, file);
        return fs.existsSync(at) ? fs.readFileSync(at, "utf8").trim() : undefined;
    };
    for (const plugin of plugins.filter((p) => p.kind === "resource")) {
        let origin = official ? "as the CLI installed it" : "not built by e2e/toolchain/pulumi.sh";
        if (!official && plugin.name === "kubernetes") {
            const module = built("kubernetes-module-version");
            origin = `built from github.com/pulumi/pulumi-kubernetes/provider/v4@${module ?? "(unrecorded)"}: installed as ${plugin.version}, the version @pulumi/kubernetes asks for, but the code is that module's, a commit of the 4.24 line`;
        } else if (!official && plugin.name === "docker") {
            // e2e/toolchain/docker.sh records `go list -m` of the wrapper module: upstream (its go.mod's path => the
            // path served), the bridge, the Terraform plugin SDK fork.
            const modules = built("provider-modules", "docker")?.split("\n").join("; ");
            origin = `built by e2e/toolchain/docker.sh from ${modules ?? "(unrecorded modules)"}, the Terraform provider bridged as pulumi-docker bridges it`;
        } else if (!official && plugin.name === "docker-build") {
            origin = `built from github.com/pulumi/pulumi-docker-build@v${plugin.version}`;
        }
        lines.push(`  provider ${plugin.name} ${plugin.version}: ${origin}`);
    }
    lines.push(`node ${process.version} (suite), ${(await environment.run("node", ["--version"])).stdout.trim()} (pulumi programs)`);
    const kube = JSON.parse(await environment.kubectl(["version", "-o", "json"])) as { serverVersion?: { gitVersion?: string } };
    lines.push(`docker ${(await environment.docker.docker(["version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"])).trim()} (Debian's dockerd), ${(await environment.docker.docker(["compose", "version", "--short"])).trim()} (docker compose)`);
    lines.push(`Kubernetes API ${kube.serverVersion?.gitVersion ?? "unknown"} (kube-apiserver with kwok nodes)`);
    return lines;
}
