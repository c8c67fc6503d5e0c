// The identity of a build context's source: one digest over every file's path, mode and bytes.
// It is baked into the image as a label, so the registry can tell which source a tag holds.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { sharedThisTurn } from "./thisTurn";

/** Directories that never reach an image build of ours and change without the source changing. */
const SKIPPED = new Set([".git"]);

/** The digest of each context, shared by the services declared in this turn of the event loop. */
const digestThisTurn = sharedThisTurn(hashFiles);

/**
 * `sha256:<hex>` over the context's files in path order. Files a `.dockerignore` leaves out
 * still count: a change there is refused as a change of source, which errs on the safe side.
 * Services declared together share a context's digest (see sharedThisTurn): a process that runs
 * the program again reads the source again.
 */
export function sourceDigest(context: string): string {
    return digestThisTurn(path.resolve(context));
}

function hashFiles(dir: string): string {
    const hash = createHash("sha256");
    for (const file of listFiles(dir)) {
        const full = path.join(dir, file);
        const stat = fs.lstatSync(full);
        const kind = stat.isSymbolicLink() ? "l" : (stat.mode & 0o111) !== 0 ? "x" : "f";
        const body = stat.isSymbolicLink() ? Buffer.from(fs.readlinkSync(full)) : fs.readFileSync(full);
        hash.update(`${file}\0${kind}\0${body.length}\0`);
        hash.update(body);
    }
    return `sha256:${hash.digest("hex")}`;
}

function listFiles(root: string, relative = ""): string[] {
    const entries = fs.readdirSync(path.join(root, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return entries.flatMap((entry) => {
        const file = relative === "" ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) {
            return SKIPPED.has(entry.name) ? [] : listFiles(root, file);
        }
        return [file];
    });
}
