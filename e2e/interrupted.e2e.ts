// An operator's Ctrl-C, as a terminal sends it (SIGINT to the command's process group), at each
// phase of a rollback, a drill and an up --atomic, with the stack on the file backend and on
// PostgreSQL: afterwards the stack config is byte for byte as it was or as the command writes it,
// every pod runs the old or the target digest, no lock is left, and the next rollback completes.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { REPO_ROOT, type Environment, type Result } from "./support/environment";
import { podDigests, succeeded } from "./support/project";
import { startPostgres, type StateServer } from "./support/stateServers";
import { DiyCheckpoints } from "../cli/core/state";
import { PostgresBucket, postgresLocation } from "../cli/core/states/postgres";

const PROJECT = "released-service";

interface Interrupted {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

/** Where the stack is kept: the suite's file backend, or a PostgreSQL server of the scenario's own. */
const BACKENDS: { readonly name: string; readonly key: string; readonly server?: () => Promise<StateServer> }[] = [
    { name: "the file backend", key: "file" },
    { name: "PostgreSQL", key: "pg", server: () => startPostgres((line) => process.stderr.write(`e2e: ${line}\n`)) },
];

for (const backend of BACKENDS) {
    describe(`interrupted: Ctrl-C during a rollback, a drill and an up --atomic leaves the stack whole, on ${backend.name}`, function () {
        const STACK = `intr-${backend.key}`;
        const NAME = `intr-${backend.key}-app`;
        let env: Environment;
        let server: StateServer | undefined;
        let runEnv: NodeJS.ProcessEnv;
        const digests: Record<string, string> = {};
        const selector = `app.kubernetes.io/name=${NAME}`;
        const configFile = (): string => path.join(env.project, "stacks", `Pulumi.${STACK}.yaml`);
        const config = (): string => fs.readFileSync(configFile(), "utf8");
        const pulumi = (...args: string[]): Promise<Result> => env.run(path.join(env.pulumiBin, "pulumi"), args, { cwd: env.project, replaceEnv: runEnv });
        const cli = (...args: string[]): Promise<Result> => env.cli([...args, "--stack", STACK, "--cwd", env.project], { replaceEnv: runEnv });
        const set = async (key: string, value: string): Promise<void> => {
            succeeded(await pulumi("config", "set", "--stack", STACK, `released-service:${key}`, "--", value), `pulumi config set ${key}`);
        };
        const up = (): Promise<Result> => pulumi("up", "--yes", "--non-interactive", "--stack", STACK);

        /** The stack's locks, read from its backend as the command reads them: none once an update has ended or cancelled. */
        async function locks(): Promise<string[]> {
            if (server === undefined) {
                const dir = path.join(env.stateDir, "locks", "organization", PROJECT, STACK);
                return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
            }
            const bucket = new PostgresBucket(postgresLocation(server.backendUrl), server.backendUrl);
            return (await new DiyCheckpoints(bucket, PROJECT, STACK).unfinished()).locks.map((lock) => lock.key);
        }

        /**
         * Runs released-service in a process group of its own, as a terminal runs a foreground job, and
         * sends SIGINT to the group once its output matches `at`. Fails when it ends before that.
         */
        function interruptedAt(args: readonly string[], at: RegExp): Promise<Interrupted> {
            return new Promise((resolve, reject) => {
                const child = spawn(process.execPath, [path.join(REPO_ROOT, "entry", "cli.js"), ...args, "--stack", STACK, "--cwd", env.project], {
                    env: runEnv,
                    detached: true,
                    stdio: ["ignore", "pipe", "pipe"],
                });
                let stdout = "";
                let stderr = "";
                let sent = false;
                const watch = (): void => {
                    if (!sent && child.pid !== undefined && at.test(stdout + stderr)) {
                        sent = true;
                        process.kill(-child.pid, "SIGINT");
                    }
                };
                child.stdout.setEncoding("utf8").on("data", (text: string) => {
                    stdout += text;
                    watch();
                });
                child.stderr.setEncoding("utf8").on("data", (text: string) => {
                    stderr += text;
                    watch();
                });
                child.on("error", reject);
                child.on("close", (code) =>
                    sent ? resolve({ code, stdout, stderr }) : reject(new Error(`released-service ${args.join(" ")} ended (exit ${code}) before ${at}:\n${stdout}\n${stderr}`)),
                );
            });
        }

        /** Which release every pod runs once they agree (v1 or v2), within a minute; never a mix. */
        async function podsOnOneRelease(): Promise<string> {
            const deadline = Date.now() + 60_000;
            for (;;) {
                const running = await podDigests(env, selector);
                const release = Object.keys(digests).find((name) => running.length > 0 && running.every((digest) => digest === digests[name]));
                if (release !== undefined) {
                    return release;
                }
                assert.ok(Date.now() < deadline, `every pod runs the old or the target digest: ${running.join(", ")}`);
                await new Promise((resolve) => setTimeout(resolve, 250));
            }
        }

        /** Back to v2 with no pin or hold, as before each interrupt. */
        async function backToV2(): Promise<void> {
            succeeded(await cli("release-hold"), "release-hold");
            succeeded(await up(), "pulumi up back to v2");
            assert.equal(await podsOnOneRelease(), "v2");
        }

        before(async () => {
            env = environment();
            server = await backend.server?.();
            runEnv = server === undefined ? env.env : { ...env.env, ...server.env, PULUMI_BACKEND_URL: server.backendUrl };
            const repository = `intr-${backend.key}-api`;
            digests.v1 = await env.registry.push(repository, "v1.0.0");
            digests.v2 = await env.registry.push(repository, "v2.0.0");
            succeeded(await pulumi("stack", "init", STACK, "--non-interactive"), `pulumi stack init ${STACK}`);
            for (const [key, value] of Object.entries({ image: `${env.registry.host}/${repository}`, name: NAME, version: "v1.0.0", build: "false", replicas: "2" })) {
                await set(key, value);
            }
            succeeded(await up(), "up v1");
            await set("version", "v2.0.0");
            succeeded(await up(), "up v2");
        });

        it("rollback, interrupted while it previews: the config as it was, nothing changed, no lock", async () => {
            const before = config();
            const result = await interruptedAt(["rollback", "--to", "1", "--yes"], /Previewing the rollback of stack/);
            assert.equal(result.code, 130, result.stdout + result.stderr);
            assert.match(result.stderr, new RegExp(`interrupted \\(SIGINT\\): the rollback of stack ${STACK} stopped before pulumi up; stacks/Pulumi\\.${STACK}\\.yaml is as it was, and nothing was changed`));
            assert.equal(config(), before, "the config, byte for byte");
            assert.equal(await podsOnOneRelease(), "v2");
            assert.deepEqual(await locks(), []);
        });

        it("rollback, interrupted during its pulumi up: pulumi cancels gracefully, no lock, the config and the pods agree", async () => {
            const before = config();
            const result = await interruptedAt(["rollback", "--to", "1", "--yes"], new RegExp(`running pulumi up on stack ${STACK}`));
            assert.equal(result.code, 130, result.stdout + result.stderr);
            assert.match(result.stderr, new RegExp(`SIGINT received: pulumi is cancelling the update of stack ${STACK}`));
            assert.deepEqual(await locks(), [], "a single interrupt leaves no lock");
            const runs = await podsOnOneRelease();
            if (config() === before) {
                assert.equal(runs, "v2", "the config as it was: the rollback did not happen");
            } else {
                assert.match(config(), /released-service:pins/, "the config pins the target");
                await backToV2();
            }
        });

        it("rollback, interrupted after its pulumi up: the rollback stands, pinned, no lock", async () => {
            const result = await interruptedAt(["rollback", "--to", "1", "--yes"], new RegExp(`Rolled back stack ${STACK} to`));
            assert.ok(result.code === 0 || result.code === 130, result.stdout + result.stderr);
            assert.match(config(), /released-service:pins/);
            assert.equal(await podsOnOneRelease(), "v1");
            assert.deepEqual(await locks(), []);
            await backToV2();
        });

        it("drill, interrupted during its rollback's pulumi up: the config as it began, no lock, and the next rollback completes", async () => {
            const before = config();
            const result = await interruptedAt(["drill", "--yes"], new RegExp(`rollback: running pulumi up on stack ${STACK}`));
            assert.equal(result.code, 130, result.stdout + result.stderr);
            assert.equal(config(), before, "the drill's config, byte for byte as it began");
            assert.deepEqual(await locks(), []);
            await podsOnOneRelease();
            succeeded(await up(), "pulumi up: what the config asks");
            assert.equal(await podsOnOneRelease(), "v2");
        });

        it("up --atomic, interrupted during its pulumi up: no lock, the pods on one release; then rollback --to 1 completes", async () => {
            await set("version", "v1.0.0");
            const result = await interruptedAt(["up", "--atomic", "--yes"], new RegExp(`Updating \\(${STACK}\\)`));
            assert.ok(result.code === 130 || result.code === 0, result.stdout + result.stderr);
            assert.deepEqual(await locks(), [], result.stdout + result.stderr);
            await podsOnOneRelease();
            await set("version", "v2.0.0");
            succeeded(await up(), "pulumi up back to v2");
            const rollback = await cli("rollback", "--to", "1", "--yes");
            assert.equal(rollback.code, 0, rollback.stdout + rollback.stderr);
            assert.equal(await podsOnOneRelease(), "v1");
            await backToV2();
        });

        after(async () => {
            await server?.stop();
        });
    });
}
