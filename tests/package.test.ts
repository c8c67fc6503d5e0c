// The package as npm installs it from a git URL or a path: no script runs, so there is no dist/, and
// its main, bin and policy pack load from the TypeScript source; a build is used only when it was
// compiled from the source as it is. The root exports the public API and nothing else.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { readmeBlocks, readmeScript } from "../e2e/support/readme";
import { scratchDir } from "./support/scratch";

const ROOT = path.join(__dirname, "..");
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    main: string;
    types: string;
    bin: Record<string, string>;
    files: string[];
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    devDependencies: Record<string, string>;
};
const PUBLIC_API = [
    "CHANGE_CAUSE_ANNOTATION",
    "NAME_LABEL",
    "RELEASED_IMAGE_TYPE",
    "RELEASED_SERVICE_TYPE",
    "RELEASE_LABEL",
    "ReleasedImage",
    "ReleasedService",
    "SERVICE_LABEL",
    "SOURCE_DIGEST_LABEL",
    "STACK_LABEL",
    "VERSION_LABEL",
];

/** The package's files as an install without a build has them, with the repository's node_modules. */
function installedCopy(): string {
    const dir = path.join(scratchDir("package-"), "released-service");
    fs.mkdirSync(dir);
    for (const entry of ["package.json", "entry", "components", "cli", "policy"]) {
        fs.cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

function node(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    return spawnSync(process.execPath, args, { cwd, encoding: "utf8" });
}

describe("the package without a build", function () {
    this.timeout(120_000);

    it("runs no install script: npm 10 and 11 install a git URL the same way, with nothing to build", () => {
        const install = ["preinstall", "install", "postinstall", "prepare", "prepack"].filter((script) => PACKAGE.scripts[script] !== undefined);
        assert.deepEqual(install, []);
        assert.deepEqual([PACKAGE.main, PACKAGE.bin["released-service"], PACKAGE.types], ["entry/index.js", "entry/cli.js", "components/index.ts"]);
        assert.ok(PACKAGE.files.includes("entry/") && PACKAGE.files.includes("components/") && PACKAGE.files.includes("cli/"), PACKAGE.files.join(", "));
    });

    it("has @pulumi/pulumi and typescript as peer dependencies only (one copy beside the program), installed for its own development", () => {
        // typescript too: the loader transpiles the source with it when there is no dist/. Below 7,
        // as @pulumi/pulumi asks of it (a regular dependency let npm pick 7 for ts-node's peer, and refuse).
        assert.deepEqual(PACKAGE.peerDependencies, { "@pulumi/pulumi": "^3.270.0", typescript: ">=5.0.0 <7" });
        assert.deepEqual([PACKAGE.dependencies["@pulumi/pulumi"], PACKAGE.dependencies.typescript], [undefined, undefined]);
        assert.deepEqual([PACKAGE.devDependencies["@pulumi/pulumi"], PACKAGE.devDependencies.typescript], ["3.270.0", "5.9.3"]);
    });

    it("main exports the public API from the source, and the command answers", () => {
        const dir = installedCopy();
        const exported = node(dir, "-e", "console.log(JSON.stringify(Object.keys(require('./')).sort()))");
        assert.equal(exported.status, 0, exported.stderr);
        assert.deepEqual(JSON.parse(exported.stdout), PUBLIC_API);
        const help = node(dir, "entry/cli.js", "--help");
        assert.equal(help.status, 0, help.stderr);
        assert.match(help.stdout, /^released-service: /);
    });

    it("uses dist/ only when it was compiled from the source as it is", () => {
        const dir = installedCopy();
        fs.mkdirSync(path.join(dir, "dist", "components"), { recursive: true });
        fs.writeFileSync(path.join(dir, "dist", "components", "index.js"), "module.exports = { compiled: true };\n");
        const stamp = node(dir, "entry/load.js", "--stamp");
        assert.equal(stamp.status, 0, stamp.stderr);
        const keys = (): string[] => {
            const result = node(dir, "-e", "console.log(JSON.stringify(Object.keys(require('./')).sort()))");
            assert.equal(result.status, 0, result.stderr);
            return JSON.parse(result.stdout) as string[];
        };
        assert.deepEqual(keys(), ["compiled"]);
        fs.appendFileSync(path.join(dir, "components", "labels.ts"), "\n// edited after the build\n");
        assert.deepEqual(keys(), PUBLIC_API);
    });
});

describe("the README", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");

    it("stays a front door: at most 250 lines, the rest in docs/", () => {
        const lines = readme.trimEnd().split("\n").length;
        assert.ok(lines <= 250, `README.md has ${lines} lines`);
    });

    it("marks the own-program blocks in order: the drill alone needs a cluster, and the rest make one script", () => {
        const blocks = readmeBlocks(readme, "own program");
        assert.deepEqual(
            blocks.map((block) => block.what),
            ["run", "Pulumi.yaml", "index.ts", "run", "with a cluster", "run"],
        );
        const script = readmeScript(blocks.slice(0, 4));
        assert.match(script, /^set -euxo pipefail\nmkdir shop && cd shop\n/);
        assert.match(script, /\ncat > 'index.ts' <<'README_FILE'\nimport \* as pulumi from "@pulumi\/pulumi";\n/);
        assert.match(script, /--install-links \.\.\/released-service\n/);
        assert.match(script, /\nkubectl version --request-timeout=5s > \/dev\/null 2>&1 \|\| pulumi config set kubernetes:renderYamlToDirectory rendered\n/);
        assert.equal(blocks[4].text, "npx released-service drill --service api --stack dev --yes");
        assert.match(blocks[5].text, /^npx released-service rollback --to 1 --service api --stack dev --yes\n/);
    });
});
