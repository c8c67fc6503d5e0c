/**
 * The state backends teams share, as real servers on loopback, started by the scenarios that use
 * them: PostgreSQL from Debian's `postgresql` package in a data directory of its own, and
 * SeaweedFS (built by e2e/toolchain/seaweedfs.sh) serving S3 with a bucket of its own. Pulumi
 * keeps stacks in either through PULUMI_BACKEND_URL.
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

export interface StateServer {
    /** What the server is, with its version, for the log. */
    readonly name: string;
    /** `PULUMI_BACKEND_URL` for a stack kept there. */
    readonly backendUrl: string;
    /** The backend as released-service names it in a message: no credentials, no query. */
    readonly where: string;
    /** Variables every pulumi and released-service run against it needs besides the URL. */
    readonly env: Readonly<Record<string, string>>;
    stop(): Promise<void>;
}

const run = async (file: string, args: readonly string[]): Promise<string> => (await promisify(execFile)(file, [...args], { encoding: "utf8" })).stdout;

/** Debian installs PostgreSQL's server programs under /usr/lib/postgresql/<major>/bin, off PATH. */
function postgresBin(): string {
    const root = "/usr/lib/postgresql";
    const majors = fs.existsSync(root) ? fs.readdirSync(root).filter((major) => fs.existsSync(path.join(root, major, "bin", "initdb"))) : [];
    if (majors.length === 0) {
        throw new Error("PostgreSQL's server is not installed: apt-get install -y postgresql (the team-state scenarios start their own)");
    }
    return path.join(root, majors.sort((a, b) => Number(b) - Number(a))[0], "bin");
}

/**
 * PostgreSQL as the `postgres` account runs it (initdb refuses root), trusting loopback, on a free
 * port, its socket in its own directory. The superuser is `team`; Pulumi keeps its rows in the
 * table the URL names.
 */
export async function startPostgres(log: (line: string) => void): Promise<StateServer> {
    const bin = postgresBin();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "released-service-postgres-"));
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
        // The package's postgres account owns its home, /var/lib/postgresql.
        const { uid, gid } = fs.statSync("/var/lib/postgresql");
        fs.chownSync(dir, uid, gid);
    }
    const asPostgres = (program: string, args: readonly string[]): Promise<string> =>
        asRoot ? run("runuser", ["-u", "postgres", "--", path.join(bin, program), ...args]) : run(path.join(bin, program), args);
    const data = path.join(dir, "data");
    const [port] = await listenablePorts(1);
    await asPostgres("initdb", ["-D", data, "-A", "trust", "-U", "team", "-E", "UTF8", "--no-locale", "--no-sync"]);
    await asPostgres("pg_ctl", ["-D", data, "-l", path.join(dir, "postgres.log"), "-w", "-t", "60", "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start"]).catch(
        (error: Error) => {
            throw new Error(`PostgreSQL did not start: ${error.message}\n${fs.readFileSync(path.join(dir, "postgres.log"), "utf8")}`);
        },
    );
    const version = (await run(path.join(bin, "postgres"), ["--version"])).trim();
    log(`team state: ${version} on 127.0.0.1:${port}`);
    return {
        name: version,
        backendUrl: `postgres://team@127.0.0.1:${port}/postgres?sslmode=disable&table=team_state`,
        where: `postgres://127.0.0.1:${port}/postgres (table team_state)`,
        env: {},
        async stop() {
            await asPostgres("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]).catch((error: Error) => log(`stopping PostgreSQL: ${error.message}`));
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * SeaweedFS's master, volume server, filer and S3 gateway in one process, every port free and on
 * loopback, serving S3 with no identities configured (anonymous access, so any AWS key signs).
 */
export async function startSeaweedfs(weed: string, bucket: string, log: (line: string) => void): Promise<StateServer> {
    if (!fs.existsSync(weed)) {
        throw new Error(`no SeaweedFS at ${weed}: bash e2e/toolchain/build seaweedfs`);
    }
    // A port free when chosen can be taken before the server binds it; then it starts again on others.
    for (let attempt = 1; ; attempt++) {
        try {
            return await startSeaweedfsOnce(weed, bucket, log);
        } catch (error) {
            if (attempt === 3 || !/address already in use/.test(String(error))) {
                throw error;
            }
            log(`team state: SeaweedFS found a port taken (${String(error).match(/listen tcp [^:]+:\d+/)?.[0] ?? "a port"}), starting it again on others`);
        }
    }
}

/** Free loopback ports below the kernel's ephemeral range, which outgoing connections draw from. */
async function listenablePorts(count: number): Promise<number[]> {
    const [ephemeralStart] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    const low = 10_000;
    const ports = new Set<number>();
    while (ports.size < count) {
        const port = low + Math.floor(Math.random() * (ephemeralStart - low));
        const free = await new Promise<boolean>((resolve) => {
            const server = net.createServer();
            server.once("error", () => resolve(false));
            server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
        });
        if (free) {
            ports.add(port);
        }
    }
    return [...ports];
}

async function startSeaweedfsOnce(weed: string, bucket: string, log: (line: string) => void): Promise<StateServer> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "released-service-seaweedfs-"));
    const ports = await listenablePorts(8);
    const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = ports;
    const logFile = path.join(dir, "weed.log");
    const args = [
        "server",
        `-dir=${path.join(dir, "data")}`,
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        `-master.port=${master}`,
        `-master.port.grpc=${masterGrpc}`,
        "-master.volumeSizeLimitMB=64",
        `-volume.port=${volume}`,
        `-volume.port.grpc=${volumeGrpc}`,
        "-volume.preStopSeconds=0",
        "-filer",
        `-filer.port=${filer}`,
        `-filer.port.grpc=${filerGrpc}`,
        `-filer.localSocket=${path.join(dir, "filer.sock")}`,
        "-s3",
        `-s3.port=${s3}`,
        `-s3.port.grpc=${s3Grpc}`,
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        `-s3.localSocket=${path.join(dir, "s3.sock")}`,
    ];
    fs.mkdirSync(path.join(dir, "data"));
    const out = fs.openSync(logFile, "a");
    const child = spawn(weed, args, { stdio: ["ignore", out, out], detached: true });
    const stop = async (): Promise<void> => {
        if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise((resolve) => child.once("exit", resolve));
            process.kill(-child.pid!, "SIGTERM");
            const killer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 20_000);
            await exited;
            clearTimeout(killer);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    // The gateway answers once the master has a volume server and the filer is up; the bucket is made then.
    const deadline = Date.now() + 120_000;
    for (;;) {
        if (child.exitCode !== null) {
            const text = fs.readFileSync(logFile, "utf8");
            await stop();
            throw new Error(`weed server exited (${child.exitCode}):\n${text}`);
        }
        const made = await fetch(`http://127.0.0.1:${s3}/${bucket}`, { method: "PUT" }).catch(() => undefined);
        if (made?.ok) {
            break;
        }
        if (Date.now() > deadline) {
            const text = fs.readFileSync(logFile, "utf8");
            await stop();
            throw new Error(`SeaweedFS made no bucket within 120 s (last answer ${made?.status ?? "none"}):\n${text.slice(-4000)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const version = (await run(weed, ["version"])).trim().split("\n")[0];
    log(`team state: SeaweedFS ${version}, S3 on 127.0.0.1:${s3}, bucket ${bucket}`);
    return {
        name: `SeaweedFS ${version}`,
        backendUrl: `s3://${bucket}?endpoint=127.0.0.1:${s3}&s3ForcePathStyle=true&disableSSL=true&region=us-east-1`,
        where: `s3://${bucket}/`,
        // No identities are configured: any key pair signs, and both are needed to sign at all.
        env: { AWS_ACCESS_KEY_ID: "team-state", AWS_SECRET_ACCESS_KEY: "team-state-secret-key" },
        stop,
    };
}
