// The two programs the real-engine benchmark updates, each a Pulumi project of its own: N
// ReleasedServices released by version, and the same N Deployments and Services written out by
// hand and pinned by digest, as a user without the component would. Both read one config key
// per service (and the hand-written one a digest beside it), so a rollback is a config change.
import * as fs from "node:fs";
import * as path from "node:path";

import { REPO_ROOT } from "../../e2e/support/environment";

export type Variant = "component" | "handWritten";
export const VARIANTS: readonly Variant[] = ["component", "handWritten"];

export const serviceName = (i: number): string => `svc-${i}`;
export const versionKey = (service: string): string => `version-${service}`;
export const digestKey = (service: string): string => `digest-${service}`;

/** Each program in a namespace of its own: both declare the same workload names and selectors. */
export const NAMESPACES: Record<Variant, string> = { component: "bench-component", handWritten: "bench-hand-written" };
export const PROJECTS: Record<Variant, string> = { component: "bench-component", handWritten: "bench-hand-written" };

const COMPONENT_PROGRAM = `// N services released by version through ReleasedService: no build, the images are pushed already.
const pulumi = require("@pulumi/pulumi");
const { ReleasedService } = require(${JSON.stringify(REPO_ROOT)});

const config = new pulumi.Config();
const registry = config.require("registry");
const namespace = config.require("namespace");
for (let i = 0; i < config.requireNumber("services"); i++) {
    const name = \`svc-\${i}\`;
    new ReleasedService(name, { image: \`\${registry}/\${name}\`, version: config.require(\`version-\${name}\`), build: false, namespace });
}
`;

/**
 * What ReleasedService's Kubernetes children declare (components/workloads/kubernetes/deployment.ts
 * with its defaults), written out by hand; the benchmark checks the two stacks' inputs agree.
 */
const HAND_WRITTEN_PROGRAM = `// N Deployments pinned by digest, each with its Service, written out by hand.
const pulumi = require("@pulumi/pulumi");
const k8s = require("@pulumi/kubernetes");

class PinnedService extends pulumi.ComponentResource {
    constructor(name, args, opts = {}) {
        super("bench:index:PinnedService", name, {}, opts);
        const selector = { "app.kubernetes.io/name": name };
        const labels = { ...selector, "app.kubernetes.io/version": args.version, "app.kubernetes.io/managed-by": "released-service" };
        const image = \`\${args.image}@\${args.digest}\`;
        new k8s.apps.v1.Deployment(name, {
            metadata: {
                namespace: args.namespace,
                labels,
                annotations: { "kubernetes.io/change-cause": \`released-service: \${args.version} \${image}\`, "pulumi.com/patchForce": "true" },
            },
            spec: {
                revisionHistoryLimit: 10,
                selector: { matchLabels: selector },
                template: {
                    metadata: { labels },
                    spec: {
                        containers: [{
                            name: "app",
                            image,
                            ports: [{ name: "http", containerPort: 8080 }],
                            resources: { requests: { cpu: "50m", memory: "64Mi" } },
                            readinessProbe: { tcpSocket: { port: "http" } },
                        }],
                    },
                },
            },
        }, { parent: this });
        new k8s.core.v1.Service(name, {
            metadata: { namespace: args.namespace, labels: { ...selector, "app.kubernetes.io/managed-by": "released-service" } },
            spec: { selector, ports: [{ name: "http", port: 8080, targetPort: "http" }] },
        }, { parent: this });
        this.imageRef = image;
        this.registerOutputs({ imageRef: image });
    }
}

const config = new pulumi.Config();
const registry = config.require("registry");
const namespace = config.require("namespace");
for (let i = 0; i < config.requireNumber("services"); i++) {
    const name = \`svc-\${i}\`;
    new PinnedService(name, { image: \`\${registry}/\${name}\`, version: config.require(\`version-\${name}\`), digest: config.require(\`digest-\${name}\`), namespace });
}
`;

/** Writes the variant's project into `dir`: Pulumi.yaml, index.js, and this repository's node_modules. */
export function writeProject(variant: Variant, dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${PROJECTS[variant]}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\nmain: index.js\n`);
    fs.writeFileSync(path.join(dir, "index.js"), variant === "component" ? COMPONENT_PROGRAM : HAND_WRITTEN_PROGRAM);
    // One @pulumi/pulumi for the program and the package: the symlink resolves to the same files.
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
}

/**
 * The config that makes every service in `services` run `version`: its version key, and for the
 * hand-written program the digest beside it. `--plaintext key=value` pairs of `pulumi config set-all`.
 */
export function releaseConfig(variant: Variant, services: readonly string[], version: string, digestOf: (service: string) => string): string[] {
    return services.flatMap((service) => [
        "--plaintext",
        `${versionKey(service)}=${version}`,
        ...(variant === "handWritten" ? ["--plaintext", `${digestKey(service)}=${digestOf(service)}`] : []),
    ]);
}
