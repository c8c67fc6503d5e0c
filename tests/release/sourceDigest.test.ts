// The source's digest: read once for every service a program declares together, read again for
// every later evaluation, so a process that runs the program twice never builds from a stale one.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { sourceDigest } from "../../components/release/sourceDigest";
import { scratchDir } from "../support/scratch";

describe("the source digest", () => {
    it("is shared by the services of one turn and read again in the next", async () => {
        const context = scratchDir("source-");
        fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\n");
        const first = sourceDigest(context);
        // Changed within the turn (no program does): the services declared together keep one digest.
        fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\nCOPY . /\n");
        assert.equal(sourceDigest(context), first);
        await Promise.resolve();
        const second = sourceDigest(context);
        assert.notEqual(second, first);
        assert.match(second, /^sha256:[0-9a-f]{64}$/);
    });

    it("names the files, their kind and their bytes: a renamed or newly executable file is other source", async () => {
        const context = scratchDir("source-");
        fs.writeFileSync(path.join(context, "run.sh"), "echo hi\n");
        const plain = sourceDigest(context);
        await Promise.resolve();
        fs.chmodSync(path.join(context, "run.sh"), 0o755);
        const executable = sourceDigest(context);
        await Promise.resolve();
        fs.renameSync(path.join(context, "run.sh"), path.join(context, "start.sh"));
        const renamed = sourceDigest(context);
        assert.equal(new Set([plain, executable, renamed]).size, 3);
    });
});
