// The package's own version, from its package.json: above this module in the source (cli/core/)
// and in dist/ (dist/cli/core/) alike.

import * as fs from "node:fs";
import * as path from "node:path";

export function packageVersion(from: string = __dirname): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
            const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version?: string };
            if (manifest.name === "released-service" && manifest.version !== undefined) {
                return manifest.version;
            }
        }
        if (path.dirname(dir) === dir) {
            throw new Error(`no package.json of released-service above ${from}`);
        }
    }
}
