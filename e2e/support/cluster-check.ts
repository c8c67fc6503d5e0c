/**
 * Smoke check for the test cluster: a Deployment pinned to a digest rolls out,
 * its pods report that image, and a second digest rolls out over it.
 *
 *   npx ts-node --transpile-only e2e/support/cluster-check.ts <binDir> [workDir]
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startCluster } from "./cluster";

const DIGEST_A = "sha256:" + "a1".repeat(32);
const DIGEST_B = "sha256:" + "b2".repeat(32);
const REPO = "127.0.0.1:5000/demo";

function run(bin: string, args: string[], input?: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(bin, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${path.basename(bin)} ${args.join(" ")} failed: ${stderr || err.message}`));
            else resolve(stdout);
        });
        if (input !== undefined) child.stdin?.end(input);
    });
}

function deployment(image: string): string {
    return JSON.stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "demo", namespace: "default" },
        spec: {
            replicas: 2,
            selector: { matchLabels: { app: "demo" } },
            template: {
                metadata: { labels: { app: "demo" } },
                spec: { containers: [{ name: "demo", image, ports: [{ containerPort: 8080 }] }] },
            },
        },
    });
}

interface PodList {
    items: {
        metadata: { name: string; deletionTimestamp?: string };
        status: { phase?: string; containerStatuses?: { image: string; imageID?: string; ready: boolean }[] };
    }[];
}

async function main(): Promise<void> {
    const binDir = process.argv[2];
    if (!binDir) throw new Error("usage: cluster-check.ts <binDir> [workDir]");
    const workDir = process.argv[3] ?? fs.mkdtempSync(path.join(os.tmpdir(), "e2e-cluster-"));
    const started = Date.now();
    const cluster = await startCluster({ binDir, workDir, log: (l) => console.log(`cluster: ${l}`) });
    const kubectl = (...args: string[]): Promise<string> => run(path.join(binDir, "kubectl"), [`--kubeconfig=${cluster.kubeconfig}`, ...args]);
    const kubectlIn = (input: string, ...args: string[]): Promise<string> => run(path.join(binDir, "kubectl"), [`--kubeconfig=${cluster.kubeconfig}`, ...args], input);
    try {
        console.log(`cluster ${cluster.version} at ${cluster.server} in ${Date.now() - started} ms; work dir ${workDir}`);
        console.log((await kubectl("version")).trimEnd());

        for (const digest of [DIGEST_A, DIGEST_B]) {
            const image = `${REPO}@${digest}`;
            const t = Date.now();
            console.log((await kubectlIn(deployment(image), "apply", "-f", "-")).trimEnd());
            console.log((await kubectl("rollout", "status", "deployment/demo", "--timeout=120s")).trimEnd());
            console.log(`rolled out ${image} in ${Date.now() - t} ms`);

            const dep = JSON.parse(await kubectl("get", "deployment", "demo", "-o", "json")) as {
                status: { conditions?: { type: string; status: string; reason?: string }[]; availableReplicas?: number };
            };
            const cond = (type: string) => dep.status.conditions?.find((c) => c.type === type);
            console.log(`Available=${cond("Available")?.status} Progressing=${cond("Progressing")?.status}/${cond("Progressing")?.reason}`);
            if (cond("Available")?.status !== "True" || cond("Progressing")?.reason !== "NewReplicaSetAvailable") {
                throw new Error("deployment is not Available with NewReplicaSetAvailable");
            }

            // Pods of the previous ReplicaSet are deleted asynchronously; wait until only the new ones remain.
            let pods: PodList["items"] = [];
            for (let i = 0; ; i++) {
                pods = (JSON.parse(await kubectl("get", "pods", "-l", "app=demo", "-o", "json")) as PodList).items;
                if (pods.length === 2 && pods.every((p) => !p.metadata.deletionTimestamp && p.status.containerStatuses?.[0]?.image === image)) break;
                if (i > 100) throw new Error(`pods never settled on ${image}: ${JSON.stringify(pods.map((p) => p.status))}`);
                await new Promise((r) => setTimeout(r, 200));
            }
            for (const p of pods) {
                const s = p.status.containerStatuses?.[0];
                console.log(`  ${p.metadata.name} ${p.status.phase} ready=${s?.ready} image=${s?.image} imageID=${s?.imageID}`);
                if (s?.imageID !== image) throw new Error(`pod ${p.metadata.name} has imageID ${s?.imageID}, want ${image}`);
            }
        }
        console.log(`cluster-check: ok in ${Date.now() - started} ms`);
    } finally {
        const t = Date.now();
        await cluster.stop();
        console.log(`cluster stopped in ${Date.now() - t} ms`);
    }
}

main().catch((err: unknown) => {
    console.error(`cluster-check: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
});
