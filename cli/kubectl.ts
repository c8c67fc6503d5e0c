// The thin adapter to the cluster: `kubectl get pods -o json` with the user's current context,
// so the package needs no Kubernetes client library.

import { execFile } from "node:child_process";
import { CliError, ExitCode } from "./exitCodes";
import type { PodList } from "./status";

export function listPodsWithKubectl(namespace: string, selector: string): Promise<PodList> {
    return new Promise((resolve, reject) => {
        execFile(
            "kubectl",
            ["get", "pods", "--namespace", namespace, "--selector", selector, "--output", "json"],
            { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
            (error, stdout, stderr) => {
                if (error) {
                    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "kubectl is not installed or not on PATH" : (stderr || error.message).trim();
                    reject(new CliError(`cannot list pods ${selector} in namespace ${namespace}: ${reason}`, ExitCode.Failure));
                    return;
                }
                try {
                    resolve(JSON.parse(stdout) as PodList);
                } catch {
                    reject(new CliError("kubectl get pods answered something that is not JSON", ExitCode.Failure));
                }
            },
        );
    });
}
