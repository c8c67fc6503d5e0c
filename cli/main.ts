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
import { liveOf, REAL_CLIENTS } from "./core/workloads";
import type { Deps } from "./core/context";
import { progress } from "./core/output";
import { findProjectDir, openPulumiStack } from "./pulumi";
import { RegistryClient } from "../components/registry/client";
import { run } from "./run";

function realDeps({ cwd }: { cwd: string }): Deps {
    const status = progress(process.stderr);
    return {
        openStack: (stack) => openPulumiStack(stack, cwd, (message) => status.update(message)),
        live: (record) => liveOf(record, REAL_CLIENTS, findProjectDir(cwd) ?? cwd),
        registryClient: async () => new RegistryClient({ credentials: await loadCredentialLookup() }),
        async confirm(question) {
            const terminal = createInterface({ input: process.stdin, output: process.stderr });
            try {
                return /^y(es)?$/i.test((await terminal.question(question)).trim());
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

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: process.stdin.isTTY === true, env: process.env, cwd: process.cwd() }, realDeps).then(
    (code) => {
        process.exitCode = code;
    },
);
