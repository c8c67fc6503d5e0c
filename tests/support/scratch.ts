// Scratch directories for tests: every one below a single directory of this run, removed when the
// run ends, so repeated runs leave nothing behind in the system's temporary directory.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

let root: string | undefined;

/** A new empty directory named `<prefix>XXXXXX`, gone when the test process exits. */
export function scratchDir(prefix: string): string {
    if (root === undefined) {
        const made = fs.mkdtempSync(path.join(os.tmpdir(), "released-service-tests-"));
        process.once("exit", () => fs.rmSync(made, { recursive: true, force: true }));
        root = made;
    }
    return fs.mkdtempSync(path.join(root, prefix));
}
