// The state backends teams share, for real: a user's own program with two services keeps its
// stack in PostgreSQL, then in an S3-compatible bucket (SeaweedFS), each started on loopback for
// these scenarios. Every command reads each update's recorded state from there: history, a
// rollback of one service, status, verify, drill, release-hold and up --atomic, with the
// assertions the file-backend scenarios make (own-program.e2e.ts, command.e2e.ts, rollback.e2e.ts),
// and two operators rolling back the shared stack at once.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { type Environment, REPO_ROOT, type Result } from "./support/environment";
import { settledPodDigests, succeeded } from "./support/project";
import { drillShopApi, installShop, releaseShop, setShopConfig, SHOP_STACK, shopPods, shopSelector } from "./support/shop";
import { startPostgres, startSeaweedfs, type StateServer } from "./support/stateServers";
import { DiyCheckpoints, type StateBucket } from "../cli/core/state";
import { PostgresBucket, postgresLocation } from "../cli/core/states/postgres";
import { S3Bucket, s3Location } from "../cli/core/states/s3";

/** The worker's rollout deadline: a release whose pods never become ready fails its update after this. */
const DEADLINE_SECONDS = 20;

interface Row {
    readonly update: number;
    readonly service: string | null;
    readonly kind: string;
    readonly result: string;
    readonly version: string | null;
    readonly digest: string | null;
    readonly message: string;
}

/**
 * What the operator who lost the race reads: another update holds the stack, the lock named with
 * `pulumi cancel`, nothing changed. The command finds the lock itself when the winner's update
 * already holds it, else its own pulumi up meets it.
 */
function assertHeld(result: Result): void {
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.match(
        result.stderr,
        new RegExp(`^error: (another update holds stack ${SHOP_STACK}: the stack is currently locked by 1 lock\\(s\\)|stack ${SHOP_STACK} is locked by 1 lock in )`),
    );
    assert.match(result.stderr, /\.pulumi\/locks\/organization\/shop\/prod\/[^\s:]+\.json/);
    assert.match(result.stderr, /pulumi cancel/);
    assert.match(result.stderr, /\nnothing was changed\n$/);
}

/** Where a rollback is killed: when a line of its output matches, or when a file whose name matches appears in a directory. */
type Seam =
    | { readonly kind: "output"; readonly line: RegExp }
    | { readonly kind: "file"; readonly dir: () => string; readonly name: RegExp }
    /** When the stack's checkpoint on its backend lists a pending operation, read as the command reads it. */
    | { readonly kind: "pending"; readonly checkpoints: () => DiyCheckpoints }
    /** When the stack's backend holds a lock of it, read as the command reads it. */
    | { readonly kind: "locked"; readonly checkpoints: () => DiyCheckpoints };

/** Every process below `root`, from /proc. */
function descendants(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
        let stat: string;
        try {
            stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        } catch {
            continue;
        }
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last one.
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    }
    const found: number[] = [];
    for (const queue = [root]; queue.length > 0; ) {
        for (const child of children.get(queue.shift()!) ?? []) {
            found.push(child);
            queue.push(child);
        }
    }
    return found;
}

/**
 * Sends `signal` to a command's whole process tree at once: its group (the command and the pulumi
 * it runs) and every process below it in a group of its own (pulumi starts its plugins with setpgid).
 */
function signalTree(pid: number, signal: NodeJS.Signals): void {
    const tree = descendants(pid);
    process.kill(-pid, signal);
    for (const below of tree) {
        try {
            process.kill(below, signal);
        } catch {
            // Gone with its group.
        }
    }
}

interface Running {
    /** Resolves once `seam` is met, after `signal` went to the whole tree; rejects when the command ends first. */
    readonly atSeam: Promise<void>;
    /** Resolves when the command ends, with what it printed. */
    readonly ended: Promise<Result>;
    /** Sends `signal` to the command's whole process tree: SIGCONT lets a stopped command go on. */
    signal(signal: NodeJS.Signals): void;
}

/**
 * Runs released-service in a process group of its own and, at `seam`, sends `signal` to its whole
 * process tree: SIGKILL as a CI runner cancelling the job does (`kill -9` of the command alone would
 * leave its pulumi up running to the end), SIGSTOP to hold it there while another command runs.
 */
function signalledAt(args: readonly string[], runEnv: NodeJS.ProcessEnv, seam: Seam, signal: NodeJS.Signals): Running {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "entry", "cli.js"), ...args], { env: runEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let met = false;
    let ended = false;
    let hit: () => void = () => undefined;
    let early: (error: Error) => void = () => undefined;
    const atSeam = new Promise<void>((resolve, reject) => {
        hit = resolve;
        early = reject;
    });
    const meet = (): void => {
        if (met || ended || child.pid === undefined) {
            return;
        }
        met = true;
        signalTree(child.pid, signal);
        hit();
    };
    const watcher = seam.kind === "file" ? fs.watch(seam.dir(), (_event, name) => name !== null && seam.name.test(name.toString()) && meet()) : undefined;
    if (seam.kind === "pending" || seam.kind === "locked") {
        void (async () => {
            while (!met && !ended) {
                const unfinished = await seam.checkpoints().unfinished();
                if ((seam.kind === "pending" ? unfinished.pending : unfinished.locks).length > 0) {
                    meet();
                } else {
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
            }
        })().catch(early);
    }
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
        stdout += text;
        if (seam.kind === "output" && seam.line.test(stdout)) {
            meet();
        }
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
        stderr += text;
    });
    const done = new Promise<Result>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code) => {
            ended = true;
            watcher?.close();
            if (!met) {
                early(new Error(`released-service ${args.join(" ")} ended (exit ${code}) before its ${seam.kind} seam:\n${stdout}\n${stderr}`));
            }
            resolve({ code: code ?? -1, stdout, stderr });
        });
    });
    return { atSeam, ended: done, signal: (sent) => child.pid !== undefined && !ended && signalTree(child.pid, sent) };
}

/** Runs released-service and SIGKILLs its whole process tree at `seam`. Fails when the command ends before the seam. */
async function killedAt(args: readonly string[], runEnv: NodeJS.ProcessEnv, seam: Seam): Promise<{ stdout: string; stderr: string }> {
    const running = signalledAt(args, runEnv, seam, "SIGKILL");
    await running.atSeam;
    return running.ended;
}

/** Every pod of `selector`, one being replaced included: the digest its spec names and the one it runs, if it runs yet. */
async function allPods(env: Environment, selector: string): Promise<{ name: string; spec: string; runs?: string }[]> {
    const pods = JSON.parse(await env.kubectl(["get", "pods", "-l", selector, "-o", "json"])) as {
        items: { metadata: { name: string }; spec: { containers: { image: string }[] }; status?: { containerStatuses?: { imageID?: string }[] } }[];
    };
    const digest = (reference: string): string => reference.slice(reference.lastIndexOf("@") + 1);
    return pods.items.map((pod) => {
        const runs = pod.status?.containerStatuses?.[0]?.imageID;
        return { name: pod.metadata.name, spec: digest(pod.spec.containers[0].image), ...(runs ? { runs: digest(runs) } : {}) };
    });
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const log = (line: string): void => {
    process.stderr.write(`e2e: ${line}\n`);
};

const BACKENDS: { name: string; key: string; start(env: Environment): Promise<StateServer>; bucket(server: StateServer, env: NodeJS.ProcessEnv): StateBucket }[] = [
    {
        name: "PostgreSQL",
        key: "pg",
        start: () => startPostgres(log),
        bucket: (server) => new PostgresBucket(postgresLocation(server.backendUrl), server.backendUrl),
    },
    {
        name: "S3-compatible storage",
        key: "s3",
        start: (env) => startSeaweedfs(path.join(env.toolchain, "seaweedfs", "bin", "weed"), "team-state", log),
        // The suite's own process has no AWS environment: the server's key pair goes to the reader.
        bucket: (server, env) => {
            const location = s3Location(server.backendUrl, env);
            const credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID ?? "", secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "" };
            return new S3Bucket({ ...location, client: { ...location.client, credentials } }, server.backendUrl, env);
        },
    },
];

for (const backend of BACKENDS) {
    describe(`team state on ${backend.name}: every command for a user's own program with two services`, function () {
        let env: Environment;
        let server: StateServer;
        let shop: string;
        let teamEnv: NodeJS.ProcessEnv;
        const digests: Record<string, string> = {};
        const pulumi = (...args: string[]): Promise<Result> => env.run(path.join(env.pulumiBin, "pulumi"), args, { cwd: shop, replaceEnv: teamEnv });
        const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", SHOP_STACK, "--cwd", shop], { replaceEnv: teamEnv });
        const rows = async (): Promise<Row[]> => {
            const result = await cli("history", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            return JSON.parse(result.stdout) as Row[];
        };
        const configFile = (dir: string): string => path.join(dir, `Pulumi.${SHOP_STACK}.yaml`);
        /** A second checkout of the same program and stack config, as a teammate's clone would be. */
        const secondCheckout = (name: string): string => {
            const other = path.join(env.scratch, `team-${backend.key}-${name}`);
            fs.mkdirSync(other);
            for (const file of ["Pulumi.yaml", "index.js", "package.json", `Pulumi.${SHOP_STACK}.yaml`]) {
                fs.copyFileSync(path.join(shop, file), path.join(other, file));
            }
            fs.symlinkSync(path.join(shop, "node_modules"), path.join(other, "node_modules"));
            return other;
        };
        const digestOf = (version: string): string => (version === "v1.0.0" ? digests.v1 : digests.v2);
        /** The bytes pulumi writes when it sets the pins and holds of `values` in a stack config file that held `before`. */
        const pulumiWrites = async (before: Buffer, values: Record<string, { objectValue?: unknown }>): Promise<Buffer> => {
            const file = path.join(env.scratch, `team-${backend.key}-expected-${SHOP_STACK}.yaml`);
            fs.writeFileSync(file, before);
            const set = Object.fromEntries(
                ["released-service:pins", "released-service:holds"].map((key) => [key, { value: JSON.stringify(values[key].objectValue), objectValue: values[key].objectValue, secret: false }]),
            );
            succeeded(await pulumi("config", "set-all", "--json", JSON.stringify(set), "--config-file", file, "--stack", SHOP_STACK), "pulumi config set-all --config-file");
            return fs.readFileSync(file);
        };
        const config = async (): Promise<Record<string, { value?: string; objectValue?: unknown }>> =>
            JSON.parse(succeeded(await pulumi("config", "--json", "--stack", SHOP_STACK), "pulumi config --json").stdout) as Record<string, { value?: string; objectValue?: unknown }>;

        before(async function () {
            // A server, packing, installing and two updates with a build: longer than one scenario's step.
            this.timeout(30 * 60_000);
            env = environment();
            const started = Date.now();
            const step = (what: string): void => log(`team state on ${backend.name}: ${what} after ${Math.round((Date.now() - started) / 1000)} s`);
            server = await backend.start(env);
            step(`${server.name} started`);
            teamEnv = { ...env.env, ...server.env, PULUMI_BACKEND_URL: server.backendUrl };
            shop = path.join(env.scratch, `team-${backend.key}`);
            await installShop(env, shop);
            step("installed");
            digests.w3 = await env.registry.push(`team-${backend.key}-worker`, "w3.0.0-unready");
            Object.assign(digests, await releaseShop(env, pulumi, { repository: `team-${backend.key}`, config: { workerDeadline: String(DEADLINE_SECONDS) }, step }));
            const whoami = succeeded(await pulumi("whoami", "--json"), "pulumi whoami");
            assert.equal((JSON.parse(whoami.stdout) as { url: string }).url, server.backendUrl, "the stack is kept on the shared backend");
        });

        it("history lists both services in every update, with the digest each ran, read from the backend", async () => {
            assert.deepEqual(
                (await rows()).map((row) => [row.update, row.service, row.version, row.digest]),
                [
                    [2, "api", "v2.0.0", digests.v2],
                    [2, "worker", "w2.0.0", digests.w2],
                    [1, "api", "v1.0.0", digests.v1],
                    [1, "worker", "w1.0.0", digests.w1],
                ],
            );
            assert.deepEqual(await shopPods(env), { api: [digests.v2, digests.v2], worker: [digests.w2] });
        });

        it("rollback --restore-first --to 1 --service api brings the API's pods back to update 1's digest before its update records it on the backend, pushing nothing", async () => {
            const writes = env.manifestWrites().length;
            const result = await cli("rollback", "--to", "1", "--service", "api", "--restore-first", "--yes", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as { result: string; restoreFirst: { restoredSeconds: number | null; recordedSeconds: number; workloads: string[] } };
            assert.equal(report.result, "rolled back");
            assert.equal(report.restoreFirst.workloads.length, 1, report.restoreFirst.workloads.join(", "));
            assert.match(report.restoreFirst.workloads[0], /^Deployment \S+\/api-\w+$/);
            assert.ok(report.restoreFirst.restoredSeconds !== null && report.restoreFirst.restoredSeconds <= report.restoreFirst.recordedSeconds, JSON.stringify(report.restoreFirst));
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v1), [digests.v1, digests.v1]);
            assert.deepEqual((await shopPods(env)).worker, [digests.w2]);
            assert.equal(env.manifestWrites().length, writes, "nothing pushed");
            assert.deepEqual(
                (await rows()).slice(0, 2).map((row) => [row.update, row.service, row.version, row.digest]),
                [
                    [3, "api", "v1.0.0", digests.v1],
                    [3, "worker", "w2.0.0", digests.w2],
                ],
            );
        });

        it("status finds every pod of both services on its recorded digest", async () => {
            const result = await cli("status", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as { drift: boolean; services: { service: string; recordedDigest: string; drift: boolean; pods: { state: string; digest: string }[] }[] };
            assert.equal(report.drift, false);
            assert.deepEqual(
                report.services.map((service) => [service.service, service.recordedDigest, service.drift, service.pods.map((pod) => [pod.state, pod.digest])]),
                [
                    ["api", digests.v1, false, [["ok", digests.v1], ["ok", digests.v1]]],
                    ["worker", digests.w2, false, [["ok", digests.w2]]],
                ],
            );
        });

        it("verify checks every digest the updates ran in its registry", async () => {
            const result = await cli("verify", "--last", "3", "--json");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as { checked: number; missing: number; errors: number; references: { reference: string; state: string }[] };
            assert.deepEqual([report.checked, report.missing, report.errors], [4, 0, 0]);
            assert.deepEqual(
                report.references.map((reference) => [reference.reference.slice(reference.reference.indexOf("@") + 1), reference.state]).sort(),
                [digests.v1, digests.v2, digests.w1, digests.w2].map((digest) => [digest, "present"]).sort(),
            );
        });

        it("release-hold --service api lifts the rollback's hold, and the program's args run v2 again", async () => {
            succeeded(await pulumi("config", "rm", "--stack", SHOP_STACK, "released-service:pins"), "pulumi config rm released-service:pins");
            const result = await cli("release-hold", "--service", "api");
            assert.equal(result.code, 0, result.stdout + result.stderr);
            assert.match(result.stdout, /api/);
            assert.match(result.stdout, /v2\.0\.0/);
            assert.equal((await config())["released-service:holds"], undefined);
            succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK, "--message", "api forward to its args"), "roll forward");
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v2), [digests.v2, digests.v2]);
        });

        it("drill --service api rehearses the API's rollback and roll forward on their exact digests", () => drillShopApi(env, cli, digests));

        /**
         * Runs the same command from two checkouts, the second while the first's update holds the
         * stack: the first is stopped (SIGSTOP to its whole tree) as soon as the backend holds its
         * lock, the second runs to its end, and then the first goes on. Two commands started "at
         * the same moment" race: one may end before the other looks at the stack.
         */
        const whileHeld = async (args: readonly string[], name: string): Promise<{ checkouts: string[]; winner: Result; loser: Result }> => {
            const checkouts = [shop, secondCheckout(name)];
            const first = signalledAt(
                [...args, "--stack", SHOP_STACK, "--cwd", checkouts[0]],
                teamEnv,
                { kind: "locked", checkpoints: () => new DiyCheckpoints(backend.bucket(server, teamEnv), "shop", SHOP_STACK) },
                "SIGSTOP",
            );
            await first.atSeam;
            let loser: Result;
            try {
                loser = await env.cli([...args, "--stack", SHOP_STACK, "--cwd", checkouts[1]], { replaceEnv: teamEnv });
            } finally {
                first.signal("SIGCONT");
            }
            return { checkouts, winner: await first.ended, loser };
        };

        it("two operators roll back at once from two checkouts: the one that starts while the other's update holds the stack changes nothing and says the stack is held", async () => {
            const before = fs.readFileSync(configFile(shop));
            const { checkouts, winner, loser } = await whileHeld(["rollback", "--to", "1", "--service", "api", "--yes"], "other");
            assertHeld(loser);
            assert.ok(fs.readFileSync(configFile(checkouts[1])).equals(before), "the loser's stack config is byte for byte as it was");
            assert.equal(winner.code, 0, winner.stdout + winner.stderr);
            assert.match(winner.stdout, new RegExp(`^Rolled back stack ${SHOP_STACK} to #1 \\(api v1\\.0\\.0 ${digests.v1}\\)\\.$`, "m"));
            const preview = await env.run(path.join(env.pulumiBin, "pulumi"), ["preview", "--expect-no-changes", "--non-interactive", "--stack", SHOP_STACK], { cwd: checkouts[0], replaceEnv: teamEnv });
            assert.equal(preview.code, 0, preview.stdout + preview.stderr);
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v1), [digests.v1, digests.v1]);
            // The team lifts the hold and runs v2 again.
            const lifted = await cli("release-hold", "--service", "api");
            assert.equal(lifted.code, 0, lifted.stdout + lifted.stderr);
            succeeded(await pulumi("config", "rm", "--stack", SHOP_STACK, "released-service:pins"), "pulumi config rm released-service:pins");
            succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK, "--message", "api v2 again"), "roll forward");
            assert.deepEqual(await settledPodDigests(env, shopSelector("api"), digests.v2), [digests.v2, digests.v2]);
        });

        it("two operators run up --atomic at once from two checkouts: the one that starts while the other's update holds the stack changes nothing and says the stack is held", async () => {
            // Both checkouts ask for worker w1.0.0 by the program's own key, as a teammate's pull would.
            await setShopConfig(pulumi, { workerVersion: "w1.0.0" });
            const before = fs.readFileSync(configFile(shop));
            const { checkouts, winner, loser } = await whileHeld(["up", "--atomic", "--yes"], "atomic");
            assertHeld(loser);
            assert.ok(!loser.stdout.includes("--atomic: returning stack"), `the loser undid nothing:\n${loser.stdout}`);
            assert.equal(winner.code, 0, winner.stdout + winner.stderr);
            checkouts.forEach((dir) => assert.ok(fs.readFileSync(configFile(dir)).equals(before), `the stack config in ${dir} is byte for byte as it was`));
            const preview = await env.run(path.join(env.pulumiBin, "pulumi"), ["preview", "--expect-no-changes", "--non-interactive", "--stack", SHOP_STACK], { cwd: checkouts[0], replaceEnv: teamEnv });
            assert.equal(preview.code, 0, preview.stdout + preview.stderr);
            assert.deepEqual(await settledPodDigests(env, shopSelector("worker"), digests.w1), [digests.w1]);
            assert.deepEqual((await shopPods(env)).api, [digests.v2, digests.v2]);
            // The worker's own release again, for the scenarios after this one.
            await setShopConfig(pulumi, { workerVersion: "w2.0.0" });
            succeeded(await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK, "--message", "worker w2 again"), "worker w2 again");
            assert.deepEqual(await settledPodDigests(env, shopSelector("worker"), digests.w2), [digests.w2]);
        });

        it("up --atomic: a worker release that never becomes ready fails at its deadline and is undone to its last good digest", async () => {
            await setShopConfig(pulumi, { workerVersion: "w3.0.0-unready" });
            const result = await cli("up", "--atomic", "--yes");
            assert.equal(result.code, 1, result.stdout + result.stderr);
            assert.ok(result.stdout.includes(`failed after the workload changed to ${env.registry.host}/team-${backend.key}-worker@${digests.w3}:\n`), result.stdout + result.stderr);
            assert.ok(result.stdout.includes(`, and every instance runs its digest.\n`), result.stdout);
            // The program's own config keys name each release, so the failed update's row has the
            // version its recorded state holds; the update that undid it runs the pinned worker w2.
            const [undone, failed] = (await rows()).filter((row) => row.service === "worker").slice(0, 2);
            assert.deepEqual([failed.result, failed.message], ["failed", "released-service up --atomic"]);
            assert.deepEqual([undone.result, undone.version, undone.digest], ["succeeded", "w2.0.0", digests.w2]);
            assert.deepEqual(await settledPodDigests(env, shopSelector("worker"), digests.w2), [digests.w2]);
            assert.deepEqual((await shopPods(env)).api, [digests.v2, digests.v2]);
        });

        // A rollback of the API killed at three points, twice each, alternating its target between
        // v1 and v2 so that each round starts from what the last one ran.
        let runs = "v2.0.0";
        const KILL_POINTS: { title: string; leavesLock: boolean; rounds: { seam: Seam; what: string }[] }[] = [
            {
                title: "while and right after it edits the stack config",
                leavesLock: false,
                rounds: [
                    { seam: { kind: "file", dir: () => shop, name: new RegExp(`^\\.Pulumi\\.${SHOP_STACK}\\.\\d+\\.edit\\.yaml$`) }, what: "its copy of the config appears" },
                    { seam: { kind: "output", line: new RegExp(`^Previewing the rollback of stack ${SHOP_STACK} to `, "m") }, what: "it says it previews, the edit done" },
                ],
            },
            {
                title: "during its pulumi up",
                leavesLock: true,
                rounds: [
                    {
                        seam: { kind: "output", line: /running pulumi up on stack [^\n]*\n[\s\S]*kubernetes:apps\/v1:Deployment \S*api\S* updating/ },
                        what: "pulumi up says it updates the API's Deployment",
                    },
                    {
                        seam: { kind: "pending", checkpoints: () => new DiyCheckpoints(backend.bucket(server, teamEnv), "shop", SHOP_STACK) },
                        what: "the checkpoint lists the Deployment's update as pending",
                    },
                ],
            },
            {
                title: "after the update, before the command ends",
                leavesLock: false,
                rounds: [1, 2].map(() => ({ seam: { kind: "output", line: new RegExp(`^Rolled back stack ${SHOP_STACK} to `, "m") } as Seam, what: "it says it rolled back" })),
            },
        ];
        for (const point of KILL_POINTS) {
            it(`a rollback killed ${point.title} (its whole process tree, SIGKILL) leaves each pod on the old or the target digest and the config whole; the next commands name any lock left and pulumi cancel, and a rollback then completes`, async function () {
                this.timeout(10 * 60_000);
                for (const round of point.rounds) {
                    const from = runs;
                    const to = from === "v2.0.0" ? "v1.0.0" : "v2.0.0";
                    const [old, target] = [digestOf(from), digestOf(to)];
                    const before = fs.readFileSync(configFile(shop));
                    const started = Date.now();
                    const killed = await killedAt(["rollback", "--to", to, "--service", "api", "--yes", "--stack", SHOP_STACK, "--cwd", shop], teamEnv, round.seam);
                    log(`team state on ${backend.name}: rollback to ${to} killed when ${round.what}, after ${((Date.now() - started) / 1000).toFixed(1)} s`);
                    // Only these two digests, whatever the moment: a pod being replaced included.
                    for (const pod of await allPods(env, shopSelector("api"))) {
                        assert.ok([old, target].includes(pod.spec), `pod ${pod.name} is told to run ${pod.spec}\n${killed.stdout}`);
                        assert.ok(pod.runs === undefined || [old, target].includes(pod.runs), `pod ${pod.name} runs ${pod.runs}`);
                    }
                    const after = fs.readFileSync(configFile(shop));
                    const edited = !after.equals(before);
                    if (edited) {
                        // Whole, and exactly what pulumi writes for the rollback's pin and hold of the API on the target.
                        const values = (await config()) as Record<string, { objectValue?: Record<string, { digest?: string }> }>;
                        assert.equal(values["released-service:pins"]?.objectValue?.api?.digest, target, after.toString());
                        assert.equal(values["released-service:holds"]?.objectValue?.api?.digest, target, after.toString());
                        assert.ok(after.equals(await pulumiWrites(before, values)), `the config is what the rollback writes:\n${after.toString()}`);
                    }
                    assert.ok(edited || round.seam.kind === "file", `the rollback had edited the config when ${round.what}`);
                    const status = await cli("status");
                    const lockLine = status.stdout.split("\n").filter((line) => line.startsWith("LOCKED: "));
                    if (point.leavesLock) {
                        // The lock is left, named with what the checkpoint lists and the one command that lifts it.
                        assert.equal(status.code, 1, status.stdout + status.stderr);
                        assert.equal(lockLine.length, 1, status.stdout);
                        assert.match(
                            lockLine[0],
                            new RegExp(
                                `^LOCKED: stack ${SHOP_STACK} is locked by 1 lock in ${escape(server.where)}: (\\.pulumi/locks/organization/shop/${SHOP_STACK}/[0-9a-f-]+\\.json), taken by \\S+@\\S+ \\(pid \\d+\\) at \\S+` +
                                    // Killed once the checkpoint lists the update, the line names it.
                                    `( and its checkpoint lists \\d+ pending operations? \\([^)]*updating urn:pulumi:${SHOP_STACK}::shop::[^)]*kubernetes:apps/v1:Deployment::api[^)]*\\))${round.seam.kind === "pending" ? "" : "?"}\\. ` +
                                    `Another update of it is running, or one was killed and left this behind: once none is running, pulumi cancel --stack ${SHOP_STACK} deletes the lock\\.$`,
                            ),
                        );
                        log(`team state on ${backend.name}: status: ${lockLine[0]}`);
                        const lockKey = /(\.pulumi\/locks\/\S+\.json)/.exec(lockLine[0])![1];
                        const refused = await cli("rollback", "--to", to, "--service", "api", "--yes");
                        assert.equal(refused.code, 3, refused.stdout + refused.stderr);
                        assert.equal(refused.stderr, `error: ${lockLine[0].slice("LOCKED: ".length, -1)}\nnothing was changed\n`);
                        assert.ok(fs.readFileSync(configFile(shop)).equals(after), "the refused rollback changed nothing");
                        const plain = await pulumi("up", "--yes", "--non-interactive", "--stack", SHOP_STACK);
                        assert.notEqual(plain.code, 0, plain.stdout + plain.stderr);
                        assert.ok(
                            (plain.stdout + plain.stderr).includes(
                                "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
                            ),
                            plain.stdout + plain.stderr,
                        );
                        assert.match(plain.stdout + plain.stderr, new RegExp(`/${escape(lockKey)}(\\?\\S*)?: created by `));
                        succeeded(await pulumi("cancel", "--yes", "--non-interactive", "--stack", SHOP_STACK), "pulumi cancel");
                    } else {
                        assert.deepEqual(lockLine, [], status.stdout);
                    }
                    const again = await cli("rollback", "--to", to, "--service", "api", "--yes");
                    assert.equal(again.code, 0, again.stdout + again.stderr);
                    if (round.seam.kind === "pending") {
                        // pulumi cancel deletes the lock only: the rollback names what the checkpoint still lists, and its update clears it.
                        assert.match(again.stdout, new RegExp(`^The checkpoint of stack ${SHOP_STACK} lists \\d+ pending operations? \\(.*updating urn:pulumi:.*kubernetes:apps/v1:Deployment::api`, "m"));
                    }
                    assert.deepEqual(await settledPodDigests(env, shopSelector("api"), target), [target, target]);
                    const preview = await pulumi("preview", "--expect-no-changes", "--non-interactive", "--stack", SHOP_STACK);
                    assert.equal(preview.code, 0, preview.stdout + preview.stderr);
                    runs = to;
                }
            });
        }

        after(async function () {
            this.timeout(10 * 60_000);
            if (shop !== undefined && teamEnv !== undefined) {
                await pulumi("destroy", "--yes", "--non-interactive", "--stack", SHOP_STACK);
            }
            await server?.stop();
        });
    });
}
