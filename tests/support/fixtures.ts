// Build contexts for tests: a throw-away git repository whose commit, time and origin are known.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { scratchDir } from "./scratch";

export interface SourceFixture {
    /** The build context directory (with a Dockerfile and, if asked, a VERSION file). */
    readonly context: string;
    /** Full SHA of the commit that last touched the context. */
    readonly revision: string;
    /** That commit's time as git prints it (RFC 3339). */
    readonly created: string;
}

export const COMMIT_TIME = "2026-03-14T15:09:26+00:00";
export const ORIGIN = "https://github.com/acme/payment-api.git";

/** A repository with one commit of `app/` at COMMIT_TIME; `origin` carries credentials to be stripped. */
export function sourceFixture(version?: string): SourceFixture {
    const root = scratchDir("src-");
    const context = path.join(root, "app");
    fs.mkdirSync(context);
    fs.writeFileSync(path.join(context, "Dockerfile"), "FROM scratch\n");
    if (version !== undefined) {
        fs.writeFileSync(path.join(context, "VERSION"), `${version}\n`);
    }
    const git = (...args: string[]) =>
        execFileSync("git", ["-C", root, ...args], {
            encoding: "utf8",
            env: { ...process.env, GIT_AUTHOR_DATE: COMMIT_TIME, GIT_COMMITTER_DATE: COMMIT_TIME },
        }).trim();
    git("init", "-q");
    git("-c", "user.name=Test", "-c", "user.email=test@example.com", "add", ".");
    git("-c", "user.name=Test", "-c", "user.email=test@example.com", "commit", "-q", "-m", "source");
    git("remote", "add", "origin", ORIGIN.replace("https://", "https://deploy:t0ken@"));
    return { context, revision: git("rev-parse", "HEAD"), created: COMMIT_TIME };
}
