// The Kubernetes workload: a Deployment pinned to the release's digest and a Service in front of
// it. It takes the release as decided; it never sees the registry or the build.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import { DEFAULT_PORT, type KubernetesWorkloadRecord, type PinnedRelease } from "../workload";
import {
    DEFAULT_REVISION_HISTORY_LIMIT,
    DEFAULT_RESOURCES,
    DEFAULT_NAMESPACE,
    MANAGED_BY,
    CONTAINER_NAME,
    MANAGED_BY_LABEL,
    CHANGE_CAUSE_ANNOTATION,
    TIMEOUT_ANNOTATION,
    PATCH_FORCE_ANNOTATION,
    PROBED_PORT_NAME,
    type KubernetesSettings,
    type ReadinessProbe,
} from "./settings";
import { containerAdditions, podAdditions, sidecars } from "./pod";
import { changeCause, podSelector, releaseLabels } from "./release";

/** Pins a Deployment (and its Service) to the release; children are named after `name`. */
export function pinDeployment(
    name: string,
    release: Pick<PinnedRelease, "imageRef" | "version">,
    settings: KubernetesSettings,
    parent: pulumi.Resource,
): pulumi.Output<KubernetesWorkloadRecord> {
    const selector = podSelector(name);
    const labels = release.version.apply((v) => releaseLabels(name, v));
    const port = settings.port ?? DEFAULT_PORT;
    const deadline = settings.progressDeadlineSeconds;
    const { secretEnv, ...added } = containerAdditions(settings.container, kubernetesProbe);
    const deployment = new k8s.apps.v1.Deployment(
        name,
        {
            metadata: {
                namespace: settings.namespace,
                labels,
                annotations: {
                    [CHANGE_CAUSE_ANNOTATION]: pulumi.all([release.version, release.imageRef]).apply(([v, r]) => changeCause(v, r)),
                    [PATCH_FORCE_ANNOTATION]: "true",
                    ...(deadline === undefined ? {} : { [TIMEOUT_ANNOTATION]: String(deadline) }),
                },
            },
            spec: {
                // Unset, Kubernetes creates one pod and no field manager of Pulumi's owns the count, so a
                // HorizontalPodAutoscaler may.
                replicas: settings.replicas,
                revisionHistoryLimit: settings.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
                progressDeadlineSeconds: deadline,
                selector: { matchLabels: selector },
                template: {
                    // The pod's own labels and annotations first: the component's cannot be overridden.
                    metadata: {
                        labels: pulumi.output(labels).apply((own) => ({ ...settings.pod?.labels, ...own })),
                        ...(settings.pod?.annotations !== undefined ? { annotations: settings.pod.annotations } : {}),
                    },
                    spec: {
                        ...podAdditions(settings.pod, release.imageRef, selector),
                        containers: [
                            {
                                ...added,
                                name: CONTAINER_NAME,
                                image: release.imageRef,
                                ports: [{ name: PROBED_PORT_NAME, containerPort: port }],
                                env: containerEnv(settings.env, secretEnv),
                                resources: settings.resources ?? DEFAULT_RESOURCES,
                                readinessProbe: kubernetesProbe(settings.readinessProbe),
                            },
                            ...sidecars(settings.pod, release.imageRef),
                        ],
                    },
                },
            },
        },
        { parent },
    );
    const service = new k8s.core.v1.Service(
        name,
        {
            // No version label: a rollback changes the Deployment and nothing else.
            metadata: { namespace: settings.namespace, labels: { ...selector, [MANAGED_BY_LABEL]: MANAGED_BY } },
            spec: { selector, ports: [{ name: "http", port, targetPort: "http" }] },
        },
        { parent },
    );
    return pulumi.all([deployment.metadata.name, deployment.metadata.namespace, service.metadata.name]).apply(([deploymentName, namespace, serviceName]) => ({
        kind: "kubernetes" as const,
        namespace: namespace ?? settings.namespace ?? DEFAULT_NAMESPACE,
        deployment: deploymentName,
        service: serviceName,
        selector,
    }));
}

/** The Deployment's probe: a check's port, when left out, is the container's own port by name. */
export function kubernetesProbe(probe: ReadinessProbe = {}): k8s.types.input.core.v1.Probe {
    const { httpGet, tcpSocket, exec, ...timings } = probe;
    const port = (check: { readonly port?: number }): number | string => check.port ?? PROBED_PORT_NAME;
    const checks = {
        ...(httpGet === undefined ? {} : { httpGet: { path: httpGet.path, port: port(httpGet) } }),
        ...(tcpSocket === undefined ? {} : { tcpSocket: { port: port(tcpSocket) } }),
        ...(exec === undefined ? {} : { exec: { command: exec.command } }),
    };
    return { ...(Object.keys(checks).length === 0 ? { tcpSocket: { port: PROBED_PORT_NAME } } : checks), ...timings };
}

function toEnvVars(env: Record<string, string>): k8s.types.input.core.v1.EnvVar[] {
    return Object.keys(env)
        .sort()
        .map((key) => ({ name: key, value: env[key] }));
}

/** The container's env: the plain variables, then those from Secrets; none when there are neither. */
function containerEnv(
    env: KubernetesSettings["env"],
    fromSecrets: readonly k8s.types.input.core.v1.EnvVar[],
): pulumi.Input<k8s.types.input.core.v1.EnvVar[]> | undefined {
    if (env === undefined) {
        return fromSecrets.length === 0 ? undefined : [...fromSecrets];
    }
    return pulumi.output(env).apply((plain) => [...toEnvVars(plain), ...fromSecrets]);
}
