// The real adapters every verb runs on: pulumi through the Automation API, kubectl and the docker
// CLI, the docker config's credentials, a terminal to ask on. The command and the library API
// both start from here; tests give the verbs fakes instead.

import { execFile } from "node:child_process";
import * as os from "node:os";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { loadCredentialLookup } from "../../components/registry/credentials";
import { RegistryClient } from "../../components/registry/client";
import { findProjectDir, openPulumiStack } from "../pulumi";
import { realClients } from "./clients";
import type { Deps } from "./context";
import type { Interrupts } from "./interrupt";
import type { Progress } from "./output";
import { liveOf } from "./workloads";

export function realDeps({ cwd }: { cwd: string }, interrupts: Interrupts, status: Progress): Deps {
    const projectDir = findProjectDir(cwd) ?? cwd;
    const clientsFor = realClients({ env: process.env, home: os.homedir(), projectDir });
    return {
        openStack: (stack) => openPulumiStack(stack, cwd, (message) => status.update(message)),
        live: (record, connection) => liveOf(record, clientsFor(connection), projectDir),
        object: (object, connection) => clientsFor(connection).getObject(object),
        identify: (object, connection) => clientsFor(connection).identifyObject(object),
        write: async (write, connection) => {
            const clients = clientsFor(connection);
            await (write.kind === "apply" ? clients.applyObject(write.object, write.fieldManager) : clients.docker(write.args));
        },
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
