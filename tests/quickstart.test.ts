// `npm run up` on a machine that lacks a prerequisite says which one, and what to do, instead
// of failing half-way with a shell's "command not found".
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.join(__dirname, "..", "scripts", "up");

/** The tools the script looks for: each case has a stand-in for some and none of the others. */
const CHECKED = ["pulumi", "docker", "curl", "kubectl"];

/**
 * A PATH holding stand-ins that answer as told and the system's other tools, without the system's
 * own copies of the checked ones (a machine with Docker installed must still look like one without).
 */
function pathWith(commands: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "released-service-up-"));
    const system = path.join(dir, "system");
    fs.mkdirSync(system);
    for (const bin of ["/bin", "/usr/bin"]) {
        for (const name of fs.readdirSync(bin).filter((name) => !CHECKED.includes(name))) {
            if (!fs.existsSync(path.join(system, name))) {
                fs.symlinkSync(path.join(bin, name), path.join(system, name));
            }
        }
    }
    for (const [name, body] of Object.entries(commands)) {
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    }
    return `${dir}:${system}`;
}

function up(PATH: string): { status: number | null; stderr: string } {
    const result = spawnSync("bash", [SCRIPT], { encoding: "utf8", env: { PATH, HOME: os.tmpdir() } });
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
            "no registry",
            { pulumi: "exit 0", docker: "exit 0", curl: "exit 7" },
            "npm run up: no registry answers on localhost:5000: start one with  docker run -d -p 5000:5000 --restart=always --name registry registry:2\n",
        ],
        [
            "no cluster",
            { pulumi: "exit 0", docker: "exit 0", curl: "exit 0", kubectl: '[ "$1" = config ] && echo kind-kind; [ "$1" = version ] && exit 1; exit 0' },
            "npm run up: the current kube context (kind-kind) does not answer: start a cluster (README: Quickstart) or set kubernetes:renderYamlToDirectory\n",
        ],
    ];
    for (const [what, commands, message] of table) {
        it(`names what is missing: ${what}`, () => {
            assert.deepEqual(up(pathWith(commands)), { status: 1, stderr: message });
        });
    }
});
