// Loads a module of this package: the compiled dist/ when it was built from the source as it is,
// else the TypeScript source itself, transpiled as it loads (a checkout edited since its last build,
// with the dev dependencies installed). Every install has a current dist/: the registry's tarball
// carries it, and npm runs `prepare` (`node entry/load.js --build`) when it installs a git URL or a
// path with --install-links.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const SOURCES = ["components", "cli", "policy"];
/** Written by `npm run build` beside what tsc compiled: the digest of the source it was compiled from. */
const STAMP = path.join(ROOT, "dist", "source-digest");

/** A digest of the package's TypeScript source: dist/ is used only when it was built from exactly this. */
function sourceDigest() {
    const hash = crypto.createHash("sha256");
    const walk = (dir) => {
        const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        for (const entry of entries) {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(file);
            } else if (entry.name.endsWith(".ts")) {
                hash.update(`${path.relative(ROOT, file).split(path.sep).join("/")}\0`).update(fs.readFileSync(file)).update("\0");
            }
        }
    };
    for (const dir of SOURCES) {
        if (fs.existsSync(path.join(ROOT, dir))) {
            walk(path.join(ROOT, dir));
        }
    }
    return hash.digest("hex");
}

/** Makes `require` of this package's own .ts files transpile them; every other .ts is left as it was handled. */
function registerSource() {
    const previous = require.extensions[".ts"];
    if (previous && previous.releasedServiceRoot === ROOT) {
        return;
    }
    const own = (filename) => {
        const relative = path.relative(ROOT, filename);
        return !relative.startsWith("..") && !path.isAbsolute(relative) && !relative.split(path.sep).includes("node_modules");
    };
    let ts;
    const handler = (module, filename) => {
        if (!own(filename)) {
            if (previous) {
                return previous(module, filename);
            }
            throw new Error(`${filename}: no TypeScript loader is registered for it`);
        }
        ts = ts ?? requireTypeScript();
        const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
            fileName: filename,
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true, inlineSourceMap: true },
        });
        module._compile(outputText, filename);
    };
    handler.releasedServiceRoot = ROOT;
    require.extensions[".ts"] = handler;
}

/** TypeScript, for a checkout whose dist/ is older than its source: a dev dependency, not shipped. */
function requireTypeScript() {
    try {
        return require("typescript");
    } catch {
        throw new Error(`released-service: ${path.join(ROOT, "dist")} was not built from the source beside it, and TypeScript is not installed to load that source; run npm install (or npm run build) in ${ROOT}`);
    }
}

/** Compiles dist/ with the package's own tsc unless it was compiled from the source as it is. */
function build() {
    if (fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8").trim() === sourceDigest()) {
        return;
    }
    const { execFileSync } = require("node:child_process");
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc", { paths: [ROOT] }), "-p", path.join(ROOT, "tsconfig.build.json")], { cwd: ROOT, stdio: "inherit" });
    fs.writeFileSync(STAMP, `${sourceDigest()}\n`);
}

/** Loads `entry` (e.g. `components/index`), relative to the package root. */
function load(entry) {
    const compiled = path.join(ROOT, "dist", `${entry}.js`);
    if (fs.existsSync(compiled) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, "utf8").trim() === sourceDigest()) {
        return require(compiled);
    }
    registerSource();
    return require(path.join(ROOT, `${entry}.ts`));
}

module.exports = { load };

// `node entry/load.js --stamp`, after tsc: records which source dist/ was compiled from.
// `node entry/load.js --build`: compiles dist/ when the source changed since (npm's `prepare`).
if (require.main === module && process.argv[2] === "--stamp") {
    fs.writeFileSync(STAMP, `${sourceDigest()}\n`);
} else if (require.main === module && process.argv[2] === "--build") {
    build();
}
