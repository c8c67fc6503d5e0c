#!/usr/bin/env node
// Entry point of the `released-service` command (package bin): wires the real adapters (pulumi,
// kubectl, the docker config) into run() and exits with its code.

import { createInterface } from "node:readline/promises";
import type { Deps } from "./commands";
import { loadCredentialLookup } from "../components/dockerConfig";
import { listPodsWithKubectl } from "./kubectl";
import { progress } from "./output";
import { openPulumiStack } from "./pulumi";
import { RegistryClient } from "../components/registry";
import { run } from "./run";

function realDeps({ cwd }: { cwd: string }): Deps {
    const status = progress(process.stderr);
    return {
        openStack: (stack) => openPulumiStack(stack, cwd, (message) => status.update(message)),
        listPods: listPodsWithKubectl,
        registryClient: async () => new RegistryClient({ credentials: await loadCredentialLookup() }),
        async confirm(question) {
            const terminal = createInterface({ input: process.stdin, output: process.stderr });
            try {
                return /^y(es)?$/i.test((await terminal.question(question)).trim());
            } finally {
                terminal.close();
            }
        },
    };
}

run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: process.stdin.isTTY === true, env: process.env, cwd: process.cwd() }, realDeps).then(
    (code) => {
        process.exitCode = code;
    },
);
