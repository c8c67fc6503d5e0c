/**
 * A throwaway Kubernetes control plane for the real-engine tests: etcd,
 * kube-apiserver, kube-controller-manager and kube-scheduler from the
 * binaries `e2e/toolchain/kube.sh` builds, plus kwok standing in for kubelets,
 * so Deployments roll out without any container runtime.
 *
 *   const cluster = await startCluster({ binDir, workDir });
 *   // cluster.kubeconfig is a file path: KUBECONFIG, kubectl --kubeconfig, or a Pulumi provider's kubeconfig.
 *   await cluster.stop();
 */
import { ChildProcess, execFile, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as net from "node:net";
import * as path from "node:path";

export interface Cluster {
    /** Path of a kubeconfig holding cluster-admin credentials (certificates inlined). */
    kubeconfig: string;
    /** The apiserver's URL, https://127.0.0.1:<port>. */
    server: string;
    /** The apiserver's gitVersion, e.g. v1.36.4. */
    version: string;
    /** Stops every process of the cluster and waits for them to exit. Safe to call twice. */
    stop(): Promise<void>;
}

export interface StartOptions {
    /** Directory with kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok. */
    binDir: string;
    /** Scratch directory for certificates, etcd data and one log file per process. */
    workDir: string;
    log?: (line: string) => void;
    /** How long to wait for the cluster to become usable; default 120 s. */
    timeoutMs?: number;
}

/** The one Node kwok pretends to run; pods schedule onto it. */
export const FAKE_NODE = "kwok-node-0";

const SERVICE_CIDR = "10.96.0.0/16";
const FATAL_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const SERVICE_IP = "10.96.0.1";

/*
 * kwok drives fake nodes and pods only through Stage objects. The node stage
 * marks a node Ready once; leases (--node-lease-duration-seconds) keep it
 * healthy afterwards. The pod stages mimic a kubelet that pulls every image
 * instantly: imageID carries the digest when the image names one, as real
 * runtimes report it, and pods being deleted go away at once, so old
 * ReplicaSets drain during a rollout. A release whose version ends in
 * "-unready" (the pod's app.kubernetes.io/version label) stands for one that
 * crashes on start: its pods run but never become ready.
 */
/** True for a pod of a release whose version ends in "-unready". */
const UNREADY_QUERY = '.metadata.labels["app.kubernetes.io/version"] // "" | endswith("-unready")';

/**
 * The stage that starts a pod: running on its node with an IP, its containers ready unless its
 * release is one that never becomes ready (UNREADY_QUERY).
 */
function podStage(ready: boolean): string {
    const status = ready ? '"True"' : '"False", reason: ContainersNotReady';
    return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${ready ? "pod-ready" : "pod-unready"}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.podIP'
      operator: 'DoesNotExist'
    - key: '${UNREADY_QUERY}'
      operator: '${ready ? "NotIn" : "In"}'
      values: ['true']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: ${status}, type: ContainersReady}
      - {lastTransitionTime: {{ $now | Quote }}, status: ${status}, type: Ready}
      {{ range .spec.readinessGates }}
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: {{ .conditionType | Quote }}}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        {{ if contains "@sha256:" .image }}
        imageID: {{ .image | Quote }}
        {{ end }}
        ready: ${ready}
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: true
        restartCount: 0
        state:
          terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
`;
}

const KWOK_STAGES = `
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      addresses:
      - address: {{ NodeIP | Quote }}
        type: InternalIP
      - address: {{ NodeName | Quote }}
        type: Hostname
      allocatable: {cpu: "64", memory: 256Gi, pods: "1000"}
      capacity: {cpu: "64", memory: 256Gi, pods: "1000"}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        containerRuntimeVersion: {{ printf "kwok-%s" Version | Quote }}
        kernelVersion: {{ printf "kwok-%s" Version | Quote }}
        kubeProxyVersion: {{ printf "kwok-%s" Version | Quote }}
        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
        bootID: ""
        machineID: ""
        osImage: ""
        systemUUID: ""
      phase: Running
---
${podStage(true)}---
${podStage(false)}---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    delete: true
`;

interface Proc {
    name: string;
    logFile: string;
    child: ChildProcess;
    exited: Promise<void>;
    done: boolean;
}

export async function startCluster(opts: StartOptions): Promise<Cluster> {
    const log = opts.log ?? (() => undefined);
    const binDir = path.resolve(opts.binDir);
    const workDir = path.resolve(opts.workDir);
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    for (const bin of ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]) {
        if (!fs.existsSync(path.join(binDir, bin))) {
            throw new Error(`startCluster: ${path.join(binDir, bin)} is missing; build it with e2e/toolchain/kube.sh`);
        }
    }
    fs.mkdirSync(workDir, { recursive: true });
    const pki = path.join(workDir, "pki");
    fs.mkdirSync(pki, { recursive: true });

    const [etcdPort, etcdPeerPort, apiPort, kcmPort, schedPort, kwokPort] = await freePorts(6);
    const server = `https://127.0.0.1:${apiPort}`;

    const t0 = Date.now();
    await makeCertificates(pki);
    const read = (name: string): string => fs.readFileSync(path.join(pki, name), "utf8");
    const tls = { ca: read("ca.crt"), cert: read("admin.crt"), key: read("admin.key") };
    const kubeconfig = path.join(workDir, "kubeconfig");
    fs.writeFileSync(kubeconfig, kubeconfigYaml(server, tls), { mode: 0o600 });
    fs.writeFileSync(path.join(workDir, "kwok-stages.yaml"), KWOK_STAGES);
    log(`certificates ready in ${Date.now() - t0} ms`);

    const procs: Proc[] = [];
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
        stopping ??= stopAll(procs, log).finally(() => {
            process.removeListener("exit", killAll);
            for (const sig of FATAL_SIGNALS) process.removeListener(sig, onSignal);
        });
        return stopping;
    };
    // The components run in their own process groups, so they outlive a test runner
    // that exits or is interrupted without calling stop(); take them down with it.
    const killAll = (): void => {
        for (const p of procs) if (!p.done && p.child.pid) signalGroup(p.child.pid, "SIGKILL");
    };
    const onSignal = (sig: NodeJS.Signals): void => {
        killAll();
        process.removeListener(sig, onSignal);
        // Without other listeners, re-raise so the signal still ends the process as it would have.
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on("exit", killAll);
    for (const sig of FATAL_SIGNALS) process.on(sig, onSignal);

    const launch = (name: string, args: string[]): Proc => {
        const p = launchProcess(path.join(binDir, name), args, path.join(workDir, `${name}.log`), name);
        procs.push(p);
        log(`started ${name} (pid ${p.child.pid})`);
        return p;
    };
    const pki_ = (f: string): string => path.join(pki, f);

    try {
        launch("etcd", [
            "--name=e2e",
            `--data-dir=${path.join(workDir, "etcd")}`,
            `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
            `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
            `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
            `--initial-cluster=e2e=http://127.0.0.1:${etcdPeerPort}`,
            // Durability is worthless for a cluster that lives for one test run.
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ]);
        launch("kube-apiserver", [
            `--etcd-servers=http://127.0.0.1:${etcdPort}`,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            `--secure-port=${apiPort}`,
            `--tls-cert-file=${pki_("apiserver.crt")}`,
            `--tls-private-key-file=${pki_("apiserver.key")}`,
            `--client-ca-file=${pki_("ca.crt")}`,
            `--service-account-key-file=${pki_("sa.pub")}`,
            `--service-account-signing-key-file=${pki_("sa.key")}`,
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
            "--authorization-mode=RBAC",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            // The endpoint reconciler rejects a loopback advertise address; nothing here needs
            // the kubernetes Service's endpoints.
            "--endpoint-reconciler-type=none",
        ]);
        await waitFor("kube-apiserver /readyz", deadline, procs, async () => {
            const r = await request(server, tls, "GET", "/readyz");
            return r.status === 200;
        });
        log(`apiserver ready after ${Date.now() - t0} ms`);

        const common = [
            `--kubeconfig=${kubeconfig}`,
            `--authentication-kubeconfig=${kubeconfig}`,
            `--authorization-kubeconfig=${kubeconfig}`,
            "--bind-address=127.0.0.1",
            // The apiserver runs without a front-proxy CA, so there is no request-header config to look up.
            "--authentication-skip-lookup=true",
            "--leader-elect=false",
            "--profiling=false",
        ];
        launch("kube-controller-manager", [
            ...common,
            `--secure-port=${kcmPort}`,
            `--service-account-private-key-file=${pki_("sa.key")}`,
            `--root-ca-file=${pki_("ca.crt")}`,
            `--cluster-signing-cert-file=${pki_("ca.crt")}`,
            `--cluster-signing-key-file=${pki_("ca.key")}`,
            `--service-cluster-ip-range=${SERVICE_CIDR}`,
        ]);
        launch("kube-scheduler", [...common, `--secure-port=${schedPort}`]);
        launch("kwok", [
            `--kubeconfig=${kubeconfig}`,
            `--config=${path.join(workDir, "kwok-stages.yaml")}`,
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.0/16",
            "--node-ip=10.0.0.1",
            `--server-address=127.0.0.1:${kwokPort}`,
        ]);

        await request(server, tls, "POST", "/api/v1/nodes", {
            apiVersion: "v1",
            kind: "Node",
            metadata: {
                name: FAKE_NODE,
                annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
                labels: { "kubernetes.io/hostname": FAKE_NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok" },
            },
        }).then((r) => {
            if (r.status !== 201 && r.status !== 409) throw new Error(`creating node ${FAKE_NODE}: HTTP ${r.status} ${r.body}`);
        });

        await waitFor(`node ${FAKE_NODE} Ready`, deadline, procs, async () => {
            const r = await request(server, tls, "GET", `/api/v1/nodes/${FAKE_NODE}`);
            if (r.status !== 200) return false;
            const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
            return (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
        });
        // The ServiceAccount admission plugin refuses pods until the namespace's default account exists.
        await waitFor("default ServiceAccount", deadline, procs, async () => {
            const r = await request(server, tls, "GET", "/api/v1/namespaces/default/serviceaccounts/default");
            return r.status === 200;
        });

        const versionInfo = JSON.parse((await request(server, tls, "GET", "/version")).body) as { gitVersion: string };
        log(`cluster ${versionInfo.gitVersion} ready at ${server} after ${Date.now() - t0} ms`);
        return { kubeconfig, server, version: versionInfo.gitVersion, stop };
    } catch (err) {
        await stop();
        throw err;
    }
}

function launchProcess(bin: string, args: string[], logFile: string, name: string): Proc {
    const fd = fs.openSync(logFile, "a");
    // Own process group, so stop() can signal whatever the component spawned too.
    const child = spawn(bin, args, { detached: true, stdio: ["ignore", fd, fd] });
    fs.closeSync(fd);
    const p: Proc = { name, logFile, child, done: false, exited: Promise.resolve() };
    p.exited = new Promise<void>((resolve) => {
        child.once("exit", () => {
            p.done = true;
            resolve();
        });
        child.once("error", () => {
            p.done = true;
            resolve();
        });
    });
    return p;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(-pid, signal);
    } catch {
        // Already gone.
    }
}

async function stopAll(procs: Proc[], log: (line: string) => void): Promise<void> {
    // Dependants first, etcd last, so nothing logs storage errors on the way down.
    for (const p of [...procs].reverse()) {
        if (!p.done && p.child.pid) {
            signalGroup(p.child.pid, "SIGTERM");
            const killed = await Promise.race([p.exited.then(() => false), sleep(10_000).then(() => true)]);
            if (killed) {
                log(`${p.name} ignored SIGTERM; killing it`);
                signalGroup(p.child.pid, "SIGKILL");
                await p.exited;
            }
        }
        log(`stopped ${p.name}`);
    }
}

async function waitFor(what: string, deadline: number, procs: Proc[], check: () => Promise<boolean>): Promise<void> {
    for (;;) {
        const dead = procs.find((p) => p.done);
        if (dead) {
            throw new Error(`${dead.name} exited (code ${dead.child.exitCode}) while waiting for ${what}; last lines of ${dead.logFile}:\n${tail(dead)}`);
        }
        try {
            if (await check()) return;
        } catch {
            // Not listening yet.
        }
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(250);
    }
}

function tail(p: Proc): string {
    try {
        return fs.readFileSync(p.logFile, "utf8").trimEnd().split("\n").slice(-30).join("\n");
    } catch {
        return "";
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Ports below Linux's ephemeral range (32768-60999 by default): a port picked there is free of
 * the outgoing connections every process on the machine opens, which take ephemeral ports. A port
 * picked by `listen(0)` is ephemeral, and one of the cluster's components is started tens of
 * seconds after its port is picked (after the apiserver is up): with several environments at
 * once, an outgoing connection took kwok's port in that time.
 */
const PORT_RANGE = { from: 20000, to: 32000 };

function freePorts(n: number): Promise<number[]> {
    // Hold every listener until all are open, so the ports are distinct.
    const servers: net.Server[] = [];
    const listen = (port: number): Promise<number | undefined> =>
        new Promise((resolve) => {
            const s = net.createServer();
            s.once("error", () => resolve(undefined));
            s.listen(port, "127.0.0.1", () => {
                servers.push(s);
                resolve(port);
            });
        });
    const one = async (): Promise<number> => {
        for (let attempt = 0; attempt < 100; attempt++) {
            const port = await listen(PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from)));
            if (port !== undefined) return port;
        }
        throw new Error(`no free port between ${PORT_RANGE.from} and ${PORT_RANGE.to} after 100 tries`);
    };
    const all = async (): Promise<number[]> => {
        const ports: number[] = [];
        for (let i = 0; i < n; i++) ports.push(await one());
        return ports;
    };
    return all().finally(() => {
        for (const s of servers) s.close();
    });
}

interface Tls {
    ca: string;
    cert: string;
    key: string;
}

function request(server: string, tls: Tls, method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const url = new URL(urlPath, server);
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
            {
                host: url.hostname,
                port: url.port,
                path: url.pathname + url.search,
                method,
                ca: tls.ca,
                cert: tls.cert,
                key: tls.key,
                timeout: 5_000,
                headers: data === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(data) },
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
        req.on("error", reject);
        req.end(data);
    });
}

function openssl(args: string[], cwd: string): Promise<void> {
    return new Promise((resolve, reject) => {
        execFile("openssl", args, { cwd }, (err, _stdout, stderr) => {
            if (err) reject(new Error(`openssl ${args.join(" ")}: ${stderr || err.message}`));
            else resolve();
        });
    });
}

/**
 * A private CA, the apiserver's serving certificate, a cluster-admin client
 * certificate (group system:masters) and the service-account signing key pair.
 * node:crypto makes the keys; it cannot issue X.509 certificates, openssl does.
 */
async function makeCertificates(dir: string): Promise<void> {
    const key = (name: string): void => {
        const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
        fs.writeFileSync(path.join(dir, `${name}.key`), privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
        fs.writeFileSync(path.join(dir, `${name}.pub`), publicKey.export({ type: "spki", format: "pem" }));
    };
    for (const name of ["ca", "apiserver", "admin", "sa"]) key(name);
    const days = "3650";
    await openssl(["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=e2e-cluster-ca", "-days", days, "-out", "ca.crt"], dir);
    const issue = async (name: string, subject: string, ext: string[]): Promise<void> => {
        await openssl(["req", "-new", "-key", `${name}.key`, "-subj", subject, "-out", `${name}.csr`], dir);
        fs.writeFileSync(path.join(dir, `${name}.ext`), ext.join("\n") + "\n");
        await openssl(
            ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", days, "-extfile", `${name}.ext`, "-out", `${name}.crt`],
            dir,
        );
    };
    await issue("apiserver", "/CN=kube-apiserver", [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        `subjectAltName=IP:127.0.0.1,IP:${SERVICE_IP},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
    ]);
    await issue("admin", "/O=system:masters/CN=e2e-admin", [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=clientAuth",
    ]);
}

function kubeconfigYaml(server: string, tls: Tls): string {
    const b64 = (s: string): string => Buffer.from(s).toString("base64");
    // JSON is YAML; every kubeconfig reader accepts it.
    return JSON.stringify(
        {
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name: "e2e", cluster: { server, "certificate-authority-data": b64(tls.ca) } }],
            users: [{ name: "e2e-admin", user: { "client-certificate-data": b64(tls.cert), "client-key-data": b64(tls.key) } }],
            contexts: [{ name: "e2e", context: { cluster: "e2e", user: "e2e-admin", namespace: "default" } }],
            "current-context": "e2e",
        },
        null,
        2,
    ) + "\n";
}
