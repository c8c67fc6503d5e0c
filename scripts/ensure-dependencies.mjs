// Installs the locked dependencies, dev dependencies included, when they are missing: `npm test`
// on a fresh clone, and `prepare` when npm installs a checkout without its dependencies
// (`npm install -g --install-links <checkout>`).
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
    // Run from an npm that installs globally, npm's own settings say so to the child; this install is the checkout's.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_config_(global|location|prefix)$/i.test(name)));
    execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", args, { cwd: root, stdio: "inherit", env });
}
