// What the source in a build context is: its version, the last commit that touched it and
// when, and where it lives. Every value comes from the source, never from the clock, so an
// unchanged source yields identical build inputs.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export interface Provenance {
    /** `<context>/VERSION`, else the short SHA of `revision`. */
    readonly sourceVersion?: string;
    /** Full SHA of the last commit that touched the context. */
    readonly revision?: string;
    /** That commit's time, RFC 3339. */
    readonly created?: string;
    /** The repository's `origin` URL, without credentials. */
    readonly source?: string;
    /** Whether the context has changes git has not committed. */
    readonly dirty: boolean;
}

/** Length of the short SHA used as a tag and a fallback version, as in `git log --oneline`. */
export const SHORT_SHA_LENGTH = 7;

const cache = new Map<string, Provenance>();

/** Reads the provenance of a build context once per process (many services share one context). */
export function readProvenance(context: string): Provenance {
    const dir = path.resolve(context);
    let found = cache.get(dir);
    if (found === undefined) {
        found = inspect(dir);
        cache.set(dir, found);
    }
    return found;
}

/**
 * What a stack that may build knows of the source in `context`, or the problem that stops the build:
 * no such directory, or no version to give it.
 */
export function sourceToBuild(
    context: string,
    sourceVersion: string | undefined,
): { readonly provenance: Provenance; readonly sourceVersion: string } | { readonly problem: string } {
    if (!isDirectory(context)) {
        return {
            problem:
                `\`context\` ${context} does not exist or is not a directory: it must hold the Dockerfile to build, ` +
                "or set `build` to false to run only images already pushed",
        };
    }
    const provenance = readProvenance(context);
    const version = sourceVersion ?? provenance.sourceVersion;
    if (version === undefined) {
        return {
            problem:
                `\`sourceVersion\` is unknown: ${context}/VERSION is missing and ${context} is not in a git repository; ` +
                "set `sourceVersion`, or set `build` to false to run only images already pushed",
        };
    }
    return { provenance, sourceVersion: version };
}

function isDirectory(dir: string): boolean {
    try {
        return fs.statSync(dir).isDirectory();
    } catch {
        return false;
    }
}

function inspect(dir: string): Provenance {
    const git = (...args: string[]): string | undefined => {
        try {
            const out = execFileSync("git", ["-C", dir, ...args], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "ignore"],
            }).trim();
            return out === "" ? undefined : out;
        } catch {
            return undefined;
        }
    };
    // The last commit that touched the context, not HEAD: commits elsewhere in the repository
    // (infrastructure code, docs) must not change the image's inputs.
    const [revision, created] = git("log", "-1", "--format=%H%n%cI", "--", ".")?.split("\n") ?? [];
    const origin = git("config", "--get", "remote.origin.url");
    return {
        sourceVersion: readVersionFile(dir) ?? revision?.slice(0, SHORT_SHA_LENGTH),
        revision,
        created,
        source: origin === undefined ? undefined : withoutCredentials(origin),
        dirty: revision !== undefined && git("status", "--porcelain", "--", ".") !== undefined,
    };
}

function readVersionFile(dir: string): string | undefined {
    try {
        const version = fs.readFileSync(path.join(dir, "VERSION"), "utf8").trim();
        return version === "" ? undefined : version;
    } catch {
        return undefined;
    }
}

/** Drops `user:token@` from a URL: image labels are public to anyone who can pull. */
export function withoutCredentials(url: string): string {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, "$1");
}
