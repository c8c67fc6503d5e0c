// Registry credentials the way `docker login` leaves them: `auths` in config.json (base64
// `user:password`, or an `identitytoken`), or a credential helper (`credHelpers`, `credsStore`) run
// as a program, whose answer is kept for the rest of the process.

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";

export interface RegistryCredentials {
    readonly username: string;
    /** Empty when the registry is reached with an identity token alone. */
    readonly password: string;
    /**
     * An OAuth2 refresh token (`identitytoken` in docker's config, or a helper's answer for the user
     * `<token>`), which `docker login` leaves for ECR, ACR and GCR: the token service is asked for a
     * bearer token with it (grant_type=refresh_token) in place of the password.
     */
    readonly identityToken?: string;
}

/** The user name a credential helper answers when its secret is an identity token (docker/cli's `tokenUsername`). */
export const IDENTITY_TOKEN_USERNAME = "<token>";

/** Finds the credentials for a registry host, or undefined when none are configured. */
export type CredentialLookup = (registry: string) => Promise<RegistryCredentials | undefined>;

/** The parts of ~/.docker/config.json this tool reads. */
export interface DockerConfigFile {
    auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
    credHelpers?: Record<string, string>;
    credsStore?: string;
}

/** Runs `docker-credential-<helper> get` with the server on stdin; undefined when it has nothing. */
export type CredentialHelper = (helper: string, server: string) => Promise<RegistryCredentials | undefined>;

/** `DOCKER_CONFIG` names the directory, as it does for the docker CLI. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "config.json");
}

/**
 * The names a registry may be filed under. Docker Hub's API host is registry-1.docker.io but
 * `docker login` files it as https://index.docker.io/v1/.
 */
function aliases(registry: string): string[] {
    if (registry === "registry-1.docker.io" || registry === "docker.io" || registry === "index.docker.io") {
        return ["index.docker.io", "docker.io", "registry-1.docker.io"];
    }
    return [registry];
}

/** `https://host:port/v1/` and `host:port` both name the host `host:port`. */
function hostOfKey(key: string): string {
    return key.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
}

/** Credentials written into `auths` by `docker login` without a helper. */
export function credentialsFromAuths(config: DockerConfigFile, registry: string): RegistryCredentials | undefined {
    const names = aliases(registry);
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
        if (!names.includes(hostOfKey(key))) {
            continue;
        }
        let found: RegistryCredentials | undefined;
        if (entry.username !== undefined && entry.password !== undefined) {
            found = { username: entry.username, password: entry.password };
        } else if (entry.auth) {
            const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
            const colon = decoded.indexOf(":");
            if (colon > 0) {
                found = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
            }
        }
        // As docker reads it: an identity token stands in for the password (`auth` then holds the user alone).
        if (entry.identitytoken) {
            return { username: found?.username ?? entry.username ?? "", password: "", identityToken: entry.identitytoken };
        }
        if (found !== undefined) {
            return found;
        }
    }
    return undefined;
}

/** The helper docker would ask for this registry: a per-registry helper first, then the store. */
export function helperFor(config: DockerConfigFile, registry: string): { helper: string; server: string } | undefined {
    const names = aliases(registry);
    for (const [key, helper] of Object.entries(config.credHelpers ?? {})) {
        if (names.includes(hostOfKey(key))) {
            return { helper, server: key };
        }
    }
    if (config.credsStore) {
        const hub = names.includes("index.docker.io");
        return { helper: config.credsStore, server: hub ? "https://index.docker.io/v1/" : registry };
    }
    return undefined;
}

export const runCredentialHelper: CredentialHelper = (helper, server) =>
    new Promise((resolve, reject) => {
        const child = execFile(`docker-credential-${helper}`, ["get"], { timeout: 30_000 }, (error, stdout, stderr) => {
            if (error) {
                // Helpers answer a missing entry with a non-zero exit and this text on stdout or stderr.
                if (/credentials not found/i.test(`${stdout}${stderr}`)) {
                    resolve(undefined);
                    return;
                }
                reject(new Error(`docker-credential-${helper} failed for ${server}: ${(stderr || error.message).trim()}`));
                return;
            }
            try {
                const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
                if (!answer.Secret) {
                    resolve(undefined);
                } else if (answer.Username === IDENTITY_TOKEN_USERNAME) {
                    resolve({ username: "", password: "", identityToken: answer.Secret });
                } else {
                    resolve({ username: answer.Username ?? "", password: answer.Secret });
                }
            } catch {
                reject(new Error(`docker-credential-${helper} answered something that is not JSON for ${server}`));
            }
        });
        child.stdin?.end(server);
    });

/**
 * Each helper's answers, by helper and server, for the rest of the process: the component makes a
 * lookup per service and the command one per reference, and a helper (ecr-login, gcloud, a desktop
 * keychain) may take a second a run. A helper that failed is asked again next time.
 */
const helperAnswers = new WeakMap<CredentialHelper, Map<string, Promise<RegistryCredentials | undefined>>>();

function askOnce(helper: CredentialHelper, name: string, server: string): Promise<RegistryCredentials | undefined> {
    const answers = helperAnswers.get(helper) ?? new Map<string, Promise<RegistryCredentials | undefined>>();
    helperAnswers.set(helper, answers);
    const key = `${name}\n${server}`;
    const kept = answers.get(key);
    if (kept !== undefined) {
        return kept;
    }
    const asked = helper(name, server);
    answers.set(key, asked);
    asked.catch(() => {
        if (answers.get(key) === asked) {
            answers.delete(key);
        }
    });
    return asked;
}

/**
 * Reads the docker config once and answers lookups from it, a helper's answers kept per process.
 * A missing file means anonymous access, which is what public registries and the local test
 * registry expect.
 */
export async function loadCredentialLookup(
    configPath: string = dockerConfigPath(),
    helper: CredentialHelper = runCredentialHelper,
): Promise<CredentialLookup> {
    let config: DockerConfigFile = {};
    try {
        config = JSON.parse(await readFile(configPath, "utf8")) as DockerConfigFile;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
            throw new Error(`cannot read docker config ${configPath}: ${(error as Error).message}`);
        }
    }
    return async (registry) => {
        const fromHelper = helperFor(config, registry);
        if (fromHelper) {
            const found = await askOnce(helper, fromHelper.helper, fromHelper.server);
            if (found) {
                return found;
            }
        }
        return credentialsFromAuths(config, registry);
    };
}
