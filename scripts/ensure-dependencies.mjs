// Installs the locked dependencies, dev dependencies included, when they are missing: `npm test`
// on a fresh clone.
//
//   node scripts/ensure-dependencies.mjs [extra npm ci flags]
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(join(root, "node_modules", "typescript", "bin", "tsc"))) {
    const args = ["ci", "--no-audit", "--no-fund", ...process.argv.slice(2)];
    console.error(`released-service: node_modules is missing; running npm ${args.join(" ")}`);
    execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", args, { cwd: root, stdio: "inherit" });
}
