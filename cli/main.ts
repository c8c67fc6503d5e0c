#!/usr/bin/env node
// Entry point of the `released-service` command (package bin): wires the real adapters (pulumi,
// kubectl, the docker config) into run() and exits with its code.

import { execFile } from "node:child_process";
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { loadCredentialLookup } from "../components/registry/credentials";
import { liveOf } from "./core/workloads";
import { realClients } from "./core/clients";
import type { Deps } from "./core/context";
import { Interrupts, listenForSignals } from "./core/interrupt";
import { progress } from "./core/output";
import { findProjectDir, openPulumiStack } from "./pulumi";
import { RegistryClient } from "../components/registry/client";
import { run } from "./run";

function realDeps({ cwd }: { cwd: string }, interrupts: Interrupts): Deps {
    const status = progress(process.stderr);
    const projectDir = findProjectDir(cwd) ?? cwd;
    const clientsFor = realClients({ env: process.env, home: os.homedir(), projectDir });
    return {
        openStack: (stack) => openPulumiStack(stack, cwd, (message) => status.update(message)),
        live: (record, connection) => liveOf(record, clientsFor(connection), projectDir),
        object: (object, connection) => clientsFor(connection).getObject(object),
        registryClient: async () => new RegistryClient({ credentials: await loadCredentialLookup() }),
        async confirm(question, signal) {
            const terminal = createInterface({ input: process.stdin, output: process.stderr });
            // On a terminal readline reads Ctrl-C as a key, and no SIGINT reaches the process.
            terminal.on("SIGINT", () => interrupts.receive("SIGINT"));
            try {
                return /^y(es)?$/i.test((await terminal.question(question, { signal })).trim());
            } finally {
                terminal.close();
            }
        },
        actor: () => actor(cwd),
        now: () => new Date(),
        elapsed: () => performance.now(),
        sleep: async (ms) => {
            await sleep(ms);
        },
    };
}

/** `Name <email>` from git's config where the project is, else the account's name. */
async function actor(cwd: string): Promise<string> {
    const git = async (key: string): Promise<string> =>
        (await promisify(execFile)("git", ["-C", cwd, "config", key]).catch(() => ({ stdout: "" }))).stdout.trim();
    const [name, email] = await Promise.all([git("user.name"), git("user.email")]);
    if (name) {
        return email ? `${name} <${email}>` : name;
    }
    return os.userInfo().username;
}

// From here to the end of the command, SIGINT and SIGTERM are the command's to answer: Node's
// default would end the process at once, in the middle of a config edit or a pulumi up.
const interrupts = new Interrupts();
const stopListening = listenForSignals(interrupts);
const io = { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: process.stdin.isTTY === true, env: process.env, cwd: process.cwd(), interrupts };
run(process.argv.slice(2), io, (options) => realDeps(options, interrupts)).then((code) => {
    stopListening();
    process.exitCode = code;
    if (interrupts.received !== undefined) {
        // A command stopped at once may still wait on a child or a timer it abandoned.
        process.exit(code);
    }
});
