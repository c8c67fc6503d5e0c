// `npm run up` on a machine that lacks a prerequisite says which one, and what to do, instead
// of failing half-way with a shell's "command not found".
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { scratchDir } from "./support/scratch";

const SCRIPT = path.join(__dirname, "..", "scripts", "up");

/** The system tools scripts/up runs; nothing else of the machine's PATH (which may have docker, pulumi, kubectl). */
const SYSTEM_TOOLS = ["bash", "cat", "cp", "dirname", "mkdir", "seq", "sleep"];

/** A PATH holding the system's tools and stub commands that answer as told. */
function pathWith(commands: Record<string, string>): string {
    const dir = scratchDir("up-");
    for (const tool of SYSTEM_TOOLS) {
        const found = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((file) => fs.existsSync(file));
        assert.ok(found, `${tool} is installed`);
        fs.symlinkSync(found, path.join(dir, tool));
    }
    for (const [name, body] of Object.entries(commands)) {
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }
    return dir;
}

function up(PATH: string): { status: number | null; stderr: string } {
    const result = spawnSync("/bin/bash", [SCRIPT], { encoding: "utf8", env: { PATH, HOME: os.tmpdir() } });
    return { status: result.status, stderr: result.stderr };
}

describe("npm run up", () => {
    const table: [string, Record<string, string>, string][] = [
        ["no pulumi", {}, "npm run up: the Pulumi CLI is not installed (pulumi is not on PATH): https://www.pulumi.com/docs/install/\n"],
        ["no docker", { pulumi: "exit 0" }, "npm run up: Docker is not installed (docker is not on PATH): the image is built with Docker Buildx\n"],
        [
            "no buildx",
            { pulumi: "exit 0", docker: 'echo "docker: \'buildx\' is not a docker command." >&2; exit 1' },
            "npm run up: Docker Buildx is not available (docker buildx version failed): install the buildx plugin\n",
        ],
        [
            // `docker buildx version` answers without a daemon: a stopped one must not read as "no registry".
            "no registry, and no Docker daemon to start one",
            { pulumi: "exit 0", docker: '[ "$1" = version ] && exit 1; exit 0', curl: "exit 7" },
            "npm run up: the Docker daemon does not answer (docker version failed), and no registry answers on localhost:5000: start Docker\n",
        ],
        [
            "no registry, and docker run registry:2 fails",
            { pulumi: "exit 0", docker: '[ "$1" = container ] && exit 1; [ "$1" = run ] && exit 125; exit 0', curl: "exit 7" },
            "npm run up: no registry answers on localhost:5000, and docker run registry:2 failed: free port 5000, or start a registry there\n",
        ],
    ];
    for (const [what, commands, message] of table) {
        it(`names what is missing: ${what}`, () => {
            assert.deepEqual(up(pathWith(commands)), { status: 1, stderr: message });
        });
    }

    it("renders the manifests into rendered/ when no cluster answers, from a copy of the stack config outside git", () => {
        const log = path.join(scratchDir("up-log-"), "pulumi.log");
        const tracked = fs.readFileSync(path.join(__dirname, "..", "stacks", "Pulumi.dev.yaml"), "utf8");
        const result = spawnSync("/bin/bash", [SCRIPT], {
            encoding: "utf8",
            env: {
                PATH: pathWith({
                    pulumi: `echo "$*" >> ${log}`,
                    docker: "exit 0",
                    curl: "exit 0",
                    kubectl: '[ "$1" = config ] && echo kind-kind; [ "$1" = version ] && exit 1; exit 0',
                }),
                HOME: os.tmpdir(),
            },
        });
        assert.equal(result.status, 0, result.stderr);
        const root = path.join(__dirname, "..");
        const copy = ".pulumi/Pulumi.dev.rendered.yaml";
        assert.deepEqual(fs.readFileSync(log, "utf8").trim().split("\n"), [
            "stack select --create dev --non-interactive",
            `config set --stack dev --config-file ${copy} kubernetes:renderYamlToDirectory ${root}/rendered`,
            `up --stack dev --config-file ${copy} --yes`,
        ]);
        assert.equal(
            result.stdout,
            "npm run up: the current kube context (kind-kind) does not answer: rendering the manifests into rendered/ instead of applying them (nothing is deployed)\n" +
                "npm run up: the manifests are in rendered/ (apply them with kubectl apply -R -f rendered/)\n",
        );
        assert.equal(fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8"), tracked, "the tracked stack config is unchanged");
    });
});
