// The package as npm installs it. From the registry, its tarball carries dist/ (compiled JavaScript
// and declarations) beside the source; from a git URL or a path with --install-links, npm runs its
// `prepare`, which compiles dist/ unless it is current. A checkout edited since its last build
// loads its TypeScript source, transpiled as it loads, and only then needs TypeScript. The root
// exports the public API and nothing else.
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
    exports: Record<string, unknown>;
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

function run(cwd: string, command: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    return spawnSync(command, args, { cwd, encoding: "utf8" });
}

function node(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    return run(cwd, process.execPath, ...args);
}

/**
 * A program of a strict codebase's own that names every public type and value, type-checked with
 * the flags such codebases set; `skipLibCheck` off, so the package's declarations are checked too.
 */
const STRICT_PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import {
    CHANGE_CAUSE_ANNOTATION,
    NAME_LABEL,
    RELEASED_IMAGE_TYPE,
    RELEASED_SERVICE_TYPE,
    RELEASE_LABEL,
    ReleasedImage,
    ReleasedService,
    SERVICE_LABEL,
    SOURCE_DIGEST_LABEL,
    STACK_LABEL,
    VERSION_LABEL,
    type ComposeSettings,
    type ComposeWorkloadRecord,
    type DockerSettings,
    type DockerWorkloadRecord,
    type Healthcheck,
    type KubernetesSettings,
    type KubernetesWorkloadRecord,
    type ReleaseArgs,
    type ReleasedServiceArgs,
    type SwarmSettings,
    type SwarmWorkloadRecord,
    type WorkloadKind,
    type WorkloadRecord,
} from "released-service";

const release: ReleaseArgs = { image: "registry.example.com/shop/api", version: "v1.0.0", build: false };
const healthcheck: Healthcheck = { tests: ["CMD", "/app", "--health"], interval: "5s", retries: 3 };
const kubernetes: KubernetesSettings = {
    namespace: "shop",
    port: 8080,
    env: { LOG_LEVEL: "info" },
    pod: { serviceAccountName: "api", volumes: [{ name: "config", configMap: "api-config" }] },
};
const docker: DockerSettings = { publishedPort: 18080, restart: "unless-stopped", healthcheck };
const swarm: SwarmSettings = { mode: "replicated", replicas: 2, healthcheck };
const compose: ComposeSettings = { composeFile: "compose.yaml", composeService: "api" };
const kind: WorkloadKind = "kubernetes";
const args: ReleasedServiceArgs = { ...release, ...kubernetes, workload: kind };

export const api = new ReleasedService("api", args);
export const worker = new ReleasedImage("worker", { image: "registry.example.com/shop/worker", digest: "sha256:" + "0".repeat(64) });
export const others = [docker, swarm, compose].length;
export const names: string[] = [
    CHANGE_CAUSE_ANNOTATION, NAME_LABEL, RELEASED_IMAGE_TYPE, RELEASED_SERVICE_TYPE, RELEASE_LABEL,
    SERVICE_LABEL, SOURCE_DIGEST_LABEL, STACK_LABEL, VERSION_LABEL,
];
export const where: pulumi.Output<string> = api.workload.apply((workload) => {
    const record = workload as WorkloadRecord;
    switch (record.kind) {
        case "kubernetes":
            return (record satisfies KubernetesWorkloadRecord).deployment;
        case "docker":
            return (record satisfies DockerWorkloadRecord).container;
        case "swarm":
            return (record satisfies SwarmWorkloadRecord).service;
        case "compose":
            return (record satisfies ComposeWorkloadRecord).file;
    }
});
export const ref: pulumi.Output<string> = worker.imageRef;
`;

/** A team's own tool on the library API, in the same strict codebase. */
const STRICT_TOOL = `import { history, ReleasedServiceError, rollback, status, type RollbackResult, type UpdateRow } from "released-service/api";

export async function rollBackApi(stack: string, signal: AbortSignal): Promise<string> {
    const rows: UpdateRow[] = await history({ stack, service: "api", limit: 20 });
    const previous = rows.find((row) => row.result === "succeeded" && row.update !== rows[0]?.update);
    if (previous === undefined) {
        return "nothing to roll back to";
    }
    try {
        const result: RollbackResult = await rollback({ stack, to: previous.update, service: "api", reason: "chat: /rollback api", signal, onProgress: (line) => console.error(line) });
        const report = await status({ stack, service: "api" });
        return \`\${result.result} to #\${result.update}; drift: \${report.drift}\`;
    } catch (error) {
        if (error instanceof ReleasedServiceError && error.exitCode === 3) {
            return \`could not act: \${error.message}\`;
        }
        throw error;
    }
}
`;

describe("the package as npm installs it", function () {
    this.timeout(180_000);

    it("compiles dist/ in prepare, the one script npm runs for it, and only for a git URL or a path", () => {
        const install = ["preinstall", "install", "postinstall", "prepare", "prepack"].filter((script) => PACKAGE.scripts[script] !== undefined);
        assert.deepEqual(install, ["prepare"]);
        // A checkout without its dependencies (npm install -g --install-links <checkout>) installs them first.
        assert.equal(PACKAGE.scripts.prepare, "node scripts/ensure-dependencies.mjs --ignore-scripts && node entry/load.js --build");
        assert.deepEqual([PACKAGE.main, PACKAGE.bin["released-service"], PACKAGE.types], ["entry/index.js", "entry/cli.js", "dist/components/index.d.ts"]);
        assert.deepEqual(PACKAGE.exports, {
            ".": { types: "./dist/components/index.d.ts", default: "./entry/index.js" },
            "./api": { types: "./dist/cli/api.d.ts", default: "./entry/api.js" },
            "./policy": "./entry/policy.js",
            "./package.json": "./package.json",
        });
    });

    it("has @pulumi/pulumi as its one peer dependency (one SDK beside the program); TypeScript is for its own development", () => {
        assert.deepEqual(PACKAGE.peerDependencies, { "@pulumi/pulumi": "^3.270.0" });
        assert.deepEqual([PACKAGE.dependencies["@pulumi/pulumi"], PACKAGE.dependencies.typescript], [undefined, undefined]);
        assert.deepEqual([PACKAGE.devDependencies["@pulumi/pulumi"], PACKAGE.devDependencies.typescript], ["3.270.0", "5.9.3"]);
    });

    it("main exports the public API from the source when dist/ is not current, and the command answers", () => {
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

    it("packs a tarball that a strict TypeScript program compiles against, and whose main loads compiled JavaScript only", () => {
        const scratch = scratchDir("packed-");
        const pack = run(ROOT, "npm", "pack", "--silent", "--pack-destination", scratch);
        assert.equal(pack.status, 0, pack.stderr);
        const tarball = path.join(scratch, pack.stdout.trim().split("\n").pop()!);
        // The consumer's own project: the tarball unpacked where npm puts it, the SDKs it needs
        // beside it (from this checkout: no network), and no TypeScript for the package to find.
        const consumer = path.join(scratch, "consumer");
        const installed = path.join(consumer, "node_modules", "released-service");
        fs.mkdirSync(installed, { recursive: true });
        const unpack = run(scratch, "tar", "xzf", tarball, "-C", installed, "--strip-components=1");
        assert.equal(unpack.status, 0, unpack.stderr);
        for (const file of ["dist/components/index.d.ts", "dist/components/index.js", "dist/cli/main.js", "dist/cli/api.d.ts", "dist/cli/api.js", "dist/source-digest", "LICENSE", "CHANGELOG.md"]) {
            assert.ok(fs.existsSync(path.join(installed, file)), `the tarball carries ${file}`);
        }
        assert.ok(!fs.existsSync(path.join(installed, "tests")) && !fs.existsSync(path.join(installed, "dist", "tests")), "no tests in the tarball");
        for (const dependency of [...Object.keys(PACKAGE.dependencies), "@pulumi/pulumi", "@types/node"]) {
            fs.mkdirSync(path.dirname(path.join(consumer, "node_modules", dependency)), { recursive: true });
            fs.symlinkSync(path.join(ROOT, "node_modules", dependency), path.join(consumer, "node_modules", dependency));
        }
        fs.writeFileSync(path.join(consumer, "index.ts"), STRICT_PROGRAM);
        fs.writeFileSync(path.join(consumer, "tool.ts"), STRICT_TOOL);
        fs.writeFileSync(
            path.join(consumer, "tsconfig.json"),
            JSON.stringify({
                compilerOptions: {
                    strict: true,
                    noUncheckedIndexedAccess: true,
                    exactOptionalPropertyTypes: true,
                    skipLibCheck: false,
                    module: "node16",
                    moduleResolution: "node16",
                    target: "ES2022",
                    types: ["node"],
                    noEmit: true,
                },
                files: ["index.ts", "tool.ts"],
            }),
        );
        const tsc = node(consumer, path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", ".");
        assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
        // Every module of the package it loads is compiled JavaScript: none is transpiled from source.
        const loaded = node(
            consumer,
            "-e",
            "const api = require('released-service'); " +
                "const root = require('node:path').dirname(require.resolve('released-service/package.json'));" +
                "const own = Object.keys(require.cache).filter((file) => file.startsWith(root + '/')).map((file) => file.slice(root.length + 1).split('/')[0]);" +
                "const library = Object.keys(require('released-service/api')).sort();" +
                "console.log(JSON.stringify({ keys: Object.keys(api).sort(), library, from: [...new Set(own)].sort() }))",
        );
        assert.equal(loaded.status, 0, loaded.stderr);
        assert.deepEqual(JSON.parse(loaded.stdout), {
            keys: PUBLIC_API,
            library: ["ReleasedServiceError", "createApi", "drill", "history", "releaseHold", "rollback", "status", "up", "verify"],
            from: ["dist", "entry"],
        });
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
