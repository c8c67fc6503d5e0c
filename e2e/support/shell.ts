// A user's shell session, one command line at a time: what a line changes in the session (its
// directory, the variables it exports) holds for the next, as in a terminal, so a scenario can
// look at the registry and the cluster between the README's commands.
import * as fs from "node:fs";
import * as path from "node:path";

import type { Environment, Result } from "./environment";

export class ShellSession {
    private cwd: string;
    private readonly state: string;

    constructor(
        private readonly env: Environment,
        private readonly userEnvironment: NodeJS.ProcessEnv,
        cwd: string,
        scratch: string,
    ) {
        this.cwd = cwd;
        this.state = path.join(scratch, "session.sh");
        fs.writeFileSync(this.state, "");
    }

    get directory(): string {
        return this.cwd;
    }

    /** Runs one command line with `set -e -o pipefail`; the session keeps its directory and exports. */
    async run(line: string): Promise<Result> {
        const where = `${this.state}.cwd`;
        const script = [
            `source ${JSON.stringify(this.state)}`,
            `cd ${JSON.stringify(this.cwd)}`,
            "set -eo pipefail",
            line,
            `pwd > ${JSON.stringify(where)}`,
            `export -p > ${JSON.stringify(this.state)}`,
        ].join("\n");
        const result = await this.env.run("bash", ["-c", script], { cwd: this.cwd, replaceEnv: this.userEnvironment });
        if (result.code === 0) {
            this.cwd = fs.readFileSync(where, "utf8").trim();
        }
        return result;
    }
}
