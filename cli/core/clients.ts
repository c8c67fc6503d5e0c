// The real clients of one connection (cli/core/connection.ts): kubectl with its --kubeconfig,
// --context and --cluster, the docker CLI with its DOCKER_HOST. One set per connection, kept for the
// process, so the services that share a cluster share its listings of pods and of objects' uids.

import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { inspectComposeService } from "../../components/workloads/compose/live";
import { docker, inspectContainer } from "../../components/workloads/docker/live";
import {
    getObjectWithKubectl,
    identifyObjectWithKubectl,
    type KubectlTarget,
    listPodsWithKubectl,
    listUidsWithKubectl,
    sharedIdentifier,
    sharedPodLister,
} from "../../components/workloads/kubernetes/live";
import { applyWithKubectl } from "../../components/workloads/kubernetes/restore";
import { inspectTasks } from "../../components/workloads/swarm/live";
import type { Connection } from "./connection";
import type { LiveClients } from "./workloads";

/** What the clients need of the machine: its environment, the home directory and the Pulumi project's directory. */
export interface Machine {
    readonly env: NodeJS.ProcessEnv;
    readonly home: string;
    /** Where the providers run, so where a relative kubeconfig path is read from. */
    readonly projectDir: string;
}

/**
 * The kubectl flags of a connection. A kubeconfig setting is a path when a file is there (after
 * `~` expansion; relative to the project), else the kubeconfig's content, written to a private
 * file for kubectl: what the Kubernetes provider does with its `kubeconfig`.
 */
export function kubectlTarget(connection: Connection, machine: Machine, writeKubeconfig: (content: string) => string): KubectlTarget {
    const { kubeconfig, context, cluster } = connection;
    let file: string | undefined;
    if (kubeconfig !== undefined) {
        const expanded = kubeconfig === "~" ? machine.home : kubeconfig.startsWith("~/") ? path.join(machine.home, kubeconfig.slice(2)) : kubeconfig;
        const candidate = path.resolve(machine.projectDir, expanded);
        file = isFile(candidate) ? candidate : writeKubeconfig(kubeconfig);
    }
    return { ...(file !== undefined ? { kubeconfig: file } : {}), ...(context !== undefined ? { context } : {}), ...(cluster !== undefined ? { cluster } : {}) };
}

/** DOCKER_HOST for a connection: the configured host, else the environment's, else where the Docker provider connects by default; none leaves the docker CLI's own context. */
export function dockerHostOf(connection: Connection, env: NodeJS.ProcessEnv): string | undefined {
    return connection.dockerHost ?? (env.DOCKER_HOST || undefined) ?? connection.dockerDefaultHost;
}

function isFile(candidate: string): boolean {
    try {
        return statSync(candidate).isFile();
    } catch {
        return false;
    }
}

/** Writes kubeconfig contents to files only this user reads, removed when the process exits. */
function kubeconfigWriter(): (content: string) => string {
    let dir: string | undefined;
    const written = new Map<string, string>();
    return (content) => {
        const known = written.get(content);
        if (known !== undefined) {
            return known;
        }
        if (dir === undefined) {
            const made = mkdtempSync(path.join(os.tmpdir(), "released-service-kubeconfig-"));
            dir = made;
            process.once("exit", () => rmSync(made, { recursive: true, force: true }));
        }
        const file = path.join(dir, `config-${written.size + 1}`);
        writeFileSync(file, content, { mode: 0o600 });
        written.set(content, file);
        return file;
    };
}

/** One set of real clients per connection, made when first asked for. */
export function realClients(machine: Machine): (connection: Connection) => LiveClients {
    const made = new Map<string, LiveClients>();
    const writeKubeconfig = kubeconfigWriter();
    return (connection) => {
        const target = kubectlTarget(connection, machine, writeKubeconfig);
        const host = dockerHostOf(connection, machine.env);
        const key = JSON.stringify([target, host]);
        const known = made.get(key);
        if (known !== undefined) {
            return known;
        }
        const run = (args: readonly string[]): Promise<string> => docker(args, host);
        const identify = sharedIdentifier(
            (object) => identifyObjectWithKubectl(object, target),
            (apiVersion, kind, namespace) => listUidsWithKubectl(apiVersion, kind, namespace, target),
        );
        const clients: LiveClients = {
            listPods: sharedPodLister((namespace, selector) => listPodsWithKubectl(namespace, selector, target)),
            identifyDeployment: (namespace, name) => identify({ apiVersion: "apps/v1", kind: "Deployment", name, namespace }),
            getObject: (object) => getObjectWithKubectl(object, target),
            identifyObject: identify,
            applyObject: (object, fieldManager) => applyWithKubectl(object, fieldManager, target),
            inspectContainer: (name) => inspectContainer(name, run),
            inspectComposeService: (service) => inspectComposeService(service, run),
            inspectTasks: (service) => inspectTasks(service, run),
            docker: run,
        };
        made.set(key, clients);
        return clients;
    };
}
