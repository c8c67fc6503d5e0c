// A user's machine for the scenarios that follow the README: a home of its own, the tools the
// README asks for on PATH, the `released-service` builder, and nothing of the suite's variables.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Environment } from "./environment";

/**
 * A home under `dir`: the buildx plugin, and with `withCluster` a kube config naming the suite's
 * cluster as the current context.
 */
export function userHome(env: Environment, dir: string, withCluster: boolean): string {
    fs.mkdirSync(path.join(dir, ".docker", "cli-plugins"), { recursive: true });
    fs.symlinkSync(path.join(env.toolchain, "buildx", "cli-plugins", "docker-buildx"), path.join(dir, ".docker", "cli-plugins", "docker-buildx"));
    if (withCluster) {
        fs.mkdirSync(path.join(dir, ".kube"));
        fs.copyFileSync(env.cluster.kubeconfig, path.join(dir, ".kube", "config"));
    }
    return dir;
}

/** The environment of every command the user runs; the state of their file backend stays in `state`. */
export function userEnv(env: Environment, home: string, state: string): NodeJS.ProcessEnv {
    fs.mkdirSync(state, { recursive: true });
    return {
        PATH: [env.pulumiBin, path.join(env.toolchain, "kube", "bin"), path.join(env.toolchain, "node", "node22", "bin"), "/usr/local/bin", "/usr/bin", "/bin"].join(path.delimiter),
        HOME: home,
        LANG: "C.UTF-8",
        // The toolchain's plugins; a user's pulumi installs the same ones into ~/.pulumi.
        PULUMI_HOME: env.env.PULUMI_HOME,
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: env.env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION,
        PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        // Pulumi.yaml's file://~ is the account's home whatever HOME says: keep the state in the scratch directory.
        PULUMI_BACKEND_URL: `file://${state}`,
        // npm's download cache only, so the clean installs do not fetch every package again.
        npm_config_cache: path.join(os.homedir(), ".npm"),
        // The certificates the machine trusts, for npm's registry.
        ...(env.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: env.env.NODE_EXTRA_CA_CERTS } : {}),
        NO_COLOR: "1",
    };
}

/** The user's `released-service` builder: a remote one on the suite's BuildKit (Docker Hub cannot be reached, so a docker-container builder could not start). */
export async function userBuilder(env: Environment, userEnvironment: NodeJS.ProcessEnv, cwd: string): Promise<void> {
    const created = await env.run("docker", ["buildx", "create", "--name", "released-service", "--driver", "remote", `unix://${env.buildkitSocket}`], { cwd, replaceEnv: userEnvironment });
    if (created.code !== 0) {
        throw new Error(`docker buildx create failed:\n${created.stdout}\n${created.stderr}`);
    }
}
