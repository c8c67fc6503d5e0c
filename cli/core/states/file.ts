// The file backend (`pulumi login file://…`, `pulumi login --local`): state in a directory.

import { readdir, readFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { StateBucket } from "../state";

/**
 * Where a `file://` backend keeps its state (`file://~`, `file:///abs`, `file://./rel`), or
 * undefined for any other backend. Query options such as `?no_tmp_dir=true` are not part of the
 * path. Pulumi expands `~` to the account's home directory from the user database, not $HOME, and
 * so does this.
 */
export function fileBackendRoot(backendUrl: string, workDir: string, home: string = accountHome()): string | undefined {
    if (!backendUrl.startsWith("file://")) {
        return undefined;
    }
    const location = backendUrl.slice("file://".length).replace(/\?.*$/, "");
    if (location === "~" || location.startsWith("~/")) {
        return path.join(home, location.slice(1));
    }
    return path.resolve(workDir, location);
}

function accountHome(): string {
    try {
        return os.userInfo().homedir;
    } catch {
        return os.homedir();
    }
}

/** A state directory: keys are paths below it. */
export class FileBucket implements StateBucket {
    readonly secrets: readonly string[] = [];

    constructor(private readonly root: string) {}

    get where(): string {
        return this.root;
    }

    async names(dir: string): Promise<string[]> {
        try {
            const entries = await readdir(path.join(this.root, dir), { withFileTypes: true });
            return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
        } catch {
            return [];
        }
    }

    read(key: string): Promise<Uint8Array> {
        return readFile(path.join(this.root, key));
    }

    async close(): Promise<void> {}
}
