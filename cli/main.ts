#!/usr/bin/env node
// Entry point of the `released-service` command (package bin): wires the real adapters into run()
// and the process's signals into its interrupts, and exits with its code.

import { Interrupts, listenForSignals } from "./core/interrupt";
import { progress } from "./core/output";
import { realDeps } from "./core/realDeps";
import { run } from "./run";

// From here to the end of the command, SIGINT and SIGTERM are the command's to answer: Node's
// default would end the process at once, in the middle of a config edit or a pulumi up.
const interrupts = new Interrupts();
const stopListening = listenForSignals(interrupts);
// One progress for the command and the adapters it runs on: a terminal's line, or a CI job's log lines.
const status = progress(process.stderr, { env: process.env });
const io = { stdout: process.stdout, stderr: process.stderr, stdinIsTTY: process.stdin.isTTY === true, env: process.env, cwd: process.cwd(), interrupts, progress: status };
run(process.argv.slice(2), io, (options) => realDeps(options, interrupts, status)).then((code) => {
    stopListening();
    process.exitCode = code;
    if (interrupts.received !== undefined) {
        // A command stopped at once may still wait on a child or a timer it abandoned.
        process.exit(code);
    }
});
