// `npm run up` on a machine that lacks a prerequisite says which one, and what to do, instead
// of failing half-way with a shell's "command not found".
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readmeBlocks, readmeCommands } from "../e2e/support/readme";
import { scratchDir } from "./support/scratch";

const SCRIPT = path.join(__dirname, "..", "scripts", "up");

/** The system tools scripts/up runs; nothing else of the machine's PATH (which may have docker, pulumi, kubectl). */
const SYSTEM_TOOLS = ["bash", "cat", "cp", "dirname", "mkdir", "rm", "sed", "seq", "sleep"];

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

/** A project with scripts/up and the dev stack's config, as a clone has them (node_modules installed). */
function project(): string {
    const dir = scratchDir("project-");
    fs.mkdirSync(path.join(dir, "scripts"));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.copyFileSync(SCRIPT, path.join(dir, "scripts", "up"));
    fs.copyFileSync(path.join(__dirname, "..", "stacks", "Pulumi.dev.yaml"), path.join(dir, "stacks", "Pulumi.dev.yaml"));
    return dir;
}

function up(PATH: string, dir = project()): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync("/bin/bash", [path.join(dir, "scripts", "up")], { encoding: "utf8", env: { PATH, HOME: os.tmpdir() } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A docker stub: `registry:2` cannot be pulled, the builder exists and boots. */
const DOCKER_WITHOUT_HUB = `
case "$1 $2" in
  "container inspect") exit 1 ;;
  "run -d") echo "Unable to find image 'registry:2' locally" >&2; echo "docker: Error response from daemon: Get \\"https://registry-1.docker.io/v2/\\": dial tcp: lookup registry-1.docker.io: no such host." >&2; exit 125 ;;
  "rm -f") echo "rm $*" >> "$LOG" ;;
esac
exit 0`;

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
            "a buildx builder that cannot boot",
            {
                pulumi: "exit 0",
                curl: "exit 0",
                kubectl: "exit 0",
                docker: '[ "$1 $2 $3" = "buildx inspect --bootstrap" ] && { echo "ERROR: Error response from daemon: pull access denied for moby/buildkit" >&2; exit 1; }; exit 0',
            },
            "npm run up: the buildx builder released-service does not start (docker buildx inspect --bootstrap released-service); Docker said:\n" +
                "  ERROR: Error response from daemon: pull access denied for moby/buildkit\n" +
                "Remove it with `docker buildx rm released-service` and npm run up makes it again (a docker-container builder pulls moby/buildkit from Docker Hub), " +
                "or make released-service a builder on a BuildKit you run: `docker buildx create --name released-service --driver remote <address>`\n",
        ],
    ];
    for (const [what, commands, message] of table) {
        it(`names what is missing: ${what}`, () => {
            const { status, stderr } = up(pathWith(commands));
            assert.deepEqual({ status, stderr }, { status: 1, stderr: message });
        });
    }

    it("says what Docker said when docker run registry:2 fails, and the two ways out; the container it left is removed", () => {
        const log = path.join(scratchDir("up-log-"), "docker.log");
        const result = spawnSync("/bin/bash", [path.join(project(), "scripts", "up")], {
            encoding: "utf8",
            env: { PATH: pathWith({ pulumi: "exit 0", curl: "exit 7", docker: DOCKER_WITHOUT_HUB }), HOME: os.tmpdir(), LOG: log },
        });
        assert.deepEqual([result.status, result.stderr], [
            1,
            "npm run up: no registry answers on localhost:5000, and `docker run registry:2` failed; Docker said:\n" +
                "  Unable to find image 'registry:2' locally\n" +
                '  docker: Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host.\n' +
                "Either make that command work (Docker must pull registry:2 from Docker Hub, and port 5000 must be free), or run a registry on localhost:5000 yourself: npm run up uses one that answers\n",
        ]);
        assert.equal(fs.readFileSync(log, "utf8"), "rm rm -f released-service-registry\n");
    });

    it("renders the manifests into rendered/ when no cluster answers, from a copy of the stack config outside git", () => {
        const log = path.join(scratchDir("up-log-"), "pulumi.log");
        const root = project();
        const tracked = fs.readFileSync(path.join(root, "stacks", "Pulumi.dev.yaml"), "utf8");
        const result = spawnSync("/bin/bash", [path.join(root, "scripts", "up")], {
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
        assert.ok(fs.existsSync(path.join(root, copy)), "the render copy stays: while it exists the stack renders");
    });

    it("applies the manifests once a cluster answers, and drops the render copy first", () => {
        const log = path.join(scratchDir("up-log-"), "pulumi.log");
        const root = project();
        fs.mkdirSync(path.join(root, ".pulumi"));
        fs.writeFileSync(path.join(root, ".pulumi", "Pulumi.dev.rendered.yaml"), "config: {}\n");
        const result = up(pathWith({ pulumi: `echo "$*" >> ${log}`, docker: "exit 0", curl: "exit 0", kubectl: "exit 0" }), root);
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(fs.readFileSync(log, "utf8").trim().split("\n"), ["stack select --create dev --non-interactive", "up --stack dev --yes"]);
        assert.equal(
            result.stdout,
            "npm run up: a cluster answers now: applying the manifests to it instead of rendering them (the rendered Deployment and Service are replaced by applied ones)\n",
        );
        assert.ok(!fs.existsSync(path.join(root, ".pulumi", "Pulumi.dev.rendered.yaml")));
    });
});

/** Whether `passphrase` opens a stack config's `encryptionsalt` (Pulumi's passphrase secrets manager: PBKDF2-SHA256, AES-256-GCM over "pulumi"). */
function opensSalt(encryptionSalt: string, passphrase: string): boolean {
    const [, salt, , nonce, sealed] = encryptionSalt.split(":");
    const key = crypto.pbkdf2Sync(Buffer.from(passphrase), Buffer.from(salt, "base64"), 1_000_000, 32, "sha256");
    const data = Buffer.from(sealed, "base64");
    const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
    decipher.setAuthTag(data.subarray(data.length - 16));
    try {
        return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString() === "pulumi";
    } catch {
        return false;
    }
}

describe("the dev stack's passphrase", function () {
    this.timeout(60_000);

    it("is exported by the README's quickstart before any command that needs it, and is the one the dev stack's salt was made with", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
        const commands = readmeCommands(readmeBlocks(readme, "quickstart")).map((line) => line.split("#")[0].trim());
        assert.deepEqual(commands.slice(0, 3), ["git clone <this repository> released-service && cd released-service", "export PULUMI_CONFIG_PASSPHRASE=", "npm run up"]);
        const salt = /^encryptionsalt: (\S+)$/m.exec(fs.readFileSync(path.join(__dirname, "..", "stacks", "Pulumi.dev.yaml"), "utf8"))?.[1];
        assert.ok(salt, "stacks/Pulumi.dev.yaml has an encryptionsalt");
        assert.deepEqual([opensSalt(salt, ""), opensSalt(salt, "dev")], [true, false]);
    });
});
