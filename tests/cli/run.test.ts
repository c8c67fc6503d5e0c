// The command line itself: help for the command and each subcommand, usage errors and their exit
// code, colour only on a terminal without NO_COLOR, progress only on a terminal, and the bin entry.

import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describePulumiFailure, setAllBatches, updateFailure } from "../../cli/pulumi";
import { COMMANDS } from "../../cli/commands/index";
import { EXIT_CODES } from "../../cli/core/command";
import { EXIT_MEANINGS } from "../../cli/core/exitCodes";
import { progress } from "../../cli/core/output";
import { HELP } from "../../cli/run";
import { freePort } from "../support/registryServer";
import { runCli, tableRegistry } from "./fakes";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const REF = `localhost:5000/payment-api@${DIGEST}`;

describe("cli command line", () => {
    it("means the same by each exit code in its help and in docs/command.md, each line within 78 columns", () => {
        const docs = readFileSync(path.join(__dirname, "..", "..", "docs", "command.md"), "utf8");
        const table = ["| code | meaning |", "|---|---|", ...EXIT_MEANINGS.map(([code, meaning]) => `| ${code} | ${meaning} |`)].join("\n");
        assert.ok(docs.includes(table), "docs/command.md's exit code table differs from EXIT_MEANINGS");
        assert.equal(EXIT_CODES.split("\n").filter((line) => line.length > 78).length, 0, EXIT_CODES);
        assert.equal(EXIT_CODES.replace(/\s+/g, " "), `Exit codes: ${EXIT_MEANINGS.map(([code, meaning]) => `${code} ${meaning}`).join(" ")}`);
    });

    it("prints the command's help, with the exit codes, and exits 0", async () => {
        for (const argv of [["--help"], ["-h"], ["help"]]) {
            const outcome = await runCli(argv);
            assert.deepEqual([outcome.code, outcome.stdout, outcome.stderr], [0, HELP.main, ""], argv.join(" "));
        }
        assert.match(HELP.main, /Exit codes:\n {2}0 {2}done/);
    });

    it("prints each subcommand's help for --help and for help <command>", async () => {
        for (const command of ["history", "status", "rollback", "verify"]) {
            assert.deepEqual(await runCli([command, "--help"]), { code: 0, stdout: HELP[command], stderr: "", calls: [] }, command);
            assert.equal((await runCli(["help", command])).stdout, HELP[command]);
            assert.ok(HELP[command].startsWith(`Usage: released-service ${command} `), command);
        }
    });

    it("shows the exit codes once, in the main help: each subcommand's help ends pointing at it", () => {
        assert.ok(HELP.main.endsWith(`\n${EXIT_CODES}\n`), HELP.main);
        for (const command of COMMANDS.map((each) => each.name)) {
            assert.ok(HELP[command].endsWith("\n\nExit codes: released-service --help\n"), command);
            assert.equal(HELP[command].includes(EXIT_MEANINGS[0][1]), false, command);
        }
    });

    it("shows the help on stderr and exits 2 without a command", async () => {
        assert.deepEqual(await runCli([]), { code: 2, stdout: "", stderr: HELP.main, calls: [] });
    });

    it("exits 2 on usage errors, with one line that points at the help", async () => {
        const table: [string[], string][] = [
            [["frob"], 'error: unknown command "frob" (commands: history, status, rollback, release-hold, up, drill, verify) (see released-service --help)'],
            [["histroy"], 'error: unknown command "histroy"; did you mean history? (commands: history, status, rollback, release-hold, up, drill, verify) (see released-service --help)'],
            [["history", "--bogus"], "error: Unknown option '--bogus' (see released-service history --help)"],
            [["history", "--limit"], "error: Option '-n, --limit <value>' argument missing (see released-service history --help)"],
            [["history", "--limit", "0"], 'error: --limit must be a whole number of at least 1 (got "0") (see released-service history --help)'],
            [["verify", "--last", "ten"], 'error: --last must be a whole number of at least 1 (got "ten") (see released-service verify --help)'],
            [["status", "extra"], 'error: unexpected argument "extra" (see released-service status --help)'],
            [["rollback"], "error: --to is required: an update number (--to 12) or a version (--to v2.4.1) (see released-service rollback --help)"],
            [["verify", "--last", "-3"], 'error: --last must be a whole number of at least 1 (got "-3") (see released-service verify --help)'],
            [["history", "-n", "-1"], 'error: --limit must be a whole number of at least 1 (got "-1") (see released-service history --help)'],
            [
                ["verify", `127.0.0.1:5055/Demo@${DIGEST}`],
                `error: \`127.0.0.1:5055/Demo@${DIGEST}\` has an invalid repository: it must be a lower-case image repository such as localhost:5000/payment-api (got "127.0.0.1:5055/Demo") (see released-service verify --help)`,
            ],
            [
                ["verify", `http://localhost:5000/app@${DIGEST}`],
                `error: \`http://localhost:5000/app@${DIGEST}\` has an invalid repository: it must be a repository without a scheme: the registry's host comes first, as in localhost:5000/payment-api (got "http://localhost:5000/app") (see released-service verify --help)`,
            ],
            [["verify", `@${DIGEST}`], `error: \`@${DIGEST}\` is not a digest reference: expected <repository>@sha256:<64 hex> (see released-service verify --help)`],
            [["verify", `localhost:5000/@${DIGEST}`], `error: \`localhost:5000/@${DIGEST}\` has an invalid repository: it must be a lower-case image repository such as localhost:5000/payment-api (got "localhost:5000/") (see released-service verify --help)`],
        ];
        for (const [argv, message] of table) {
            const outcome = await runCli(argv);
            assert.deepEqual([outcome.code, outcome.stdout, outcome.stderr, outcome.calls], [2, "", `${message}\n`, []], argv.join(" "));
        }
    });

    it("colours only a terminal, and never with NO_COLOR", async () => {
        const registryClient = async () => tableRegistry([REF]);
        const terminal = await runCli(["verify", REF], { registryClient }, { stdoutTTY: true });
        assert.ok(terminal.stdout.includes("\u001b[32mpresent\u001b[39m"), terminal.stdout);
        for (const [env, stdoutTTY] of [[{ NO_COLOR: "1" }, true], [{}, false]] as const) {
            const plain = await runCli(["verify", REF], { registryClient }, { env, stdoutTTY });
            assert.equal(plain.stdout, `STATE    REFERENCE\npresent  ${REF}\n\nThe reference is present.\n`);
        }
    });

    it("checks a reference given twice, with or without a tag, once", async () => {
        const asked: string[] = [];
        const registryClient = async () => tableRegistry([REF], asked);
        const outcome = await runCli(["verify", REF, REF, `localhost:5000/payment-api:v1@${DIGEST}`], { registryClient });
        assert.equal(outcome.code, 0);
        assert.deepEqual(asked, [REF]);
        assert.equal(outcome.stdout, `STATE    REFERENCE\npresent  ${REF}\n\nThe reference is present.\n`);
    });

    it("shows progress on a terminal's stderr and clears it; elsewhere it writes nothing", async () => {
        const registryClient = async () => tableRegistry([REF]);
        const terminal = await runCli(["verify", REF], { registryClient }, { stderrTTY: true });
        assert.equal(terminal.stderr, "\r\u001b[2KChecking 1 reference…\r\u001b[2KChecking references… 1/1\r\u001b[2K");
        const piped = await runCli(["verify", REF], { registryClient });
        assert.equal(piped.stderr, "");
    });

    it("in a CI job (no terminal, CI set) writes a timestamped line per phase, not per count, on stderr", async () => {
        const registryClient = async () => tableRegistry([REF]);
        const ci = await runCli(["verify", REF], { registryClient }, { env: { CI: "true" } });
        assert.match(ci.stderr, /^\[\d\d:\d\d:\d\d\] Checking 1 reference…\n\[\d\d:\d\d:\d\d\] Checking references… 1\/1\n$/);
        assert.equal(ci.stdout, `STATE    REFERENCE\npresent  ${REF}\n\nThe reference is present.\n`);
        for (const off of ["false", "0", ""]) {
            assert.equal((await runCli(["verify", REF], { registryClient }, { env: { CI: off } })).stderr, "", `CI=${JSON.stringify(off)}`);
        }
    });

    it("in a CI job repeats a phase that waits, with how long it has waited, until the next phase or output", async () => {
        const written: string[] = [];
        let clock = Date.parse("2026-12-07T10:00:00Z");
        const status = progress({ write: (text: string) => written.push(text) }, { env: { CI: "1" }, now: () => new Date(clock), every: 20 });
        const lines = async (count: number): Promise<void> => {
            while (written.length < count) {
                await new Promise((resolve) => setTimeout(resolve, 5));
            }
        };
        status.update("Waiting for every pod of api to run sha256:1…");
        clock += 20_000;
        await lines(2);
        status.update("Waiting for every pod of api to run sha256:1… 1/2");
        clock += 10_000;
        await lines(3);
        status.done();
        const after = written.length;
        await new Promise((resolve) => setTimeout(resolve, 60));
        assert.equal(written.length, after, "nothing after done()");
        assert.deepEqual(written.slice(0, 3), [
            "[10:00:00] Waiting for every pod of api to run sha256:1…\n",
            "[10:00:20] Waiting for every pod of api to run sha256:1… (20 s)\n",
            "[10:00:30] Waiting for every pod of api to run sha256:1… 1/2 (30 s)\n",
        ]);
    });

    it("is a node script with a shebang, wired to the real registry client and exit codes", async () => {
        const main = path.join(__dirname, "..", "..", "cli", "main.ts");
        assert.ok(readFileSync(main, "utf8").startsWith("#!/usr/bin/env node\n"));
        const port = await freePort();
        const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", main, "verify", `127.0.0.1:${port}/app@sha256:${"ab".repeat(32)}`], {
            encoding: "utf8",
            env: { ...process.env, NO_COLOR: "1", DOCKER_CONFIG: path.join(__dirname, "fixtures") },
        });
        assert.equal(result.status, 3, result.stderr);
        assert.ok(result.stdout.endsWith(`127.0.0.1:${port}/app@sha256:${"ab".repeat(32)}: cannot reach registry 127.0.0.1:${port}: connection refused\n`), result.stdout);
    });
});

describe("cli pulumi adapter errors", () => {
    it("names a missing pulumi CLI, and otherwise keeps pulumi's own stderr", () => {
        const missing = new Error("code: -2\n stdout: \n stderr: Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT\n err?: Error: Command failed with ENOENT: pulumi version\nspawn pulumi ENOENT\n");
        assert.deepEqual(
            [describePulumiFailure("cannot start pulumi", missing).message, describePulumiFailure("cannot start pulumi", missing).exitCode],
            ["cannot start pulumi: the pulumi CLI is not installed or not on PATH (https://www.pulumi.com/docs/install/)", 3],
        );
        const noStack = new Error("code: 255\n stdout: \n stderr: error: no stack named 'qa' found\n\n err?: Error: exit status 255\n");
        assert.equal(describePulumiFailure("cannot select stack qa", noStack).message, "cannot select stack qa: error: no stack named 'qa' found");
    });

    it("says why an update failed with pulumi's error diagnostics, each once", () => {
        const failed = new Error(
            "code: 255\n stdout: Updating (dev):\n    ~ kubernetes:apps/v1:Deployment app updating\nDiagnostics:\n  kubernetes:apps/v1:Deployment (app):\n" +
                "    error: Deployment default/app-1 did not become ready within 20s\n  pulumi:pulumi:Stack (released-service-dev):\n    error: update failed\n" +
                " stderr: error: update failed\n err?: Error: exit status 255\n",
        );
        assert.equal(updateFailure("pulumi up of stack dev failed", failed).message, "Deployment default/app-1 did not become ready within 20s\nupdate failed");
        // A DIY backend's lock stops the update before the engine starts: its error is stderr's first line, and each lock's.
        const locked = new Error(
            "code: 255\n stdout: \n stderr: error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
                "  s3://team-state/.pulumi/locks/organization/shop/prod/85a5.json: created by ada@laptop (pid 3) at 2026-12-06T04:43:23Z\n err?: Error: exit status 255\n",
        );
        assert.equal(
            updateFailure("pulumi up of stack prod failed", locked).message,
            "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
                "  s3://team-state/.pulumi/locks/organization/shop/prod/85a5.json: created by ada@laptop (pid 3) at 2026-12-06T04:43:23Z",
        );
        const quiet = new Error("code: 1\n stdout: \n stderr: killed\n err?: Error: exit status 1\n");
        assert.equal(updateFailure("pulumi up of stack dev failed", quiet).message, "pulumi up of stack dev failed: killed");
    });
});

describe("cli pulumi config edits", () => {
    it("sets every key in one pulumi run, and key by key only when one argument could not hold them", () => {
        const json = { "released-service:pins": { value: "{}" }, "released-service:holds": { value: "{}" } };
        assert.deepEqual(setAllBatches(json), [json]);
        assert.deepEqual(setAllBatches(json, JSON.stringify(json).length), [json]);
        assert.deepEqual(setAllBatches(json, JSON.stringify(json).length - 1), [
            { "released-service:pins": { value: "{}" } },
            { "released-service:holds": { value: "{}" } },
        ]);
    });
});
