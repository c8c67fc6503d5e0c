// What a production pod adds around the component's container, from `pod` and `container`: the
// pod spec's and the container's fields (config/pod.ts checks them first). The image, the release
// labels, the selector and the change-cause stay the component's. Pure: no provider SDK is
// loaded, and the release's image is passed in as it is (an Output).
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

import { DEFAULT_MAX_SKEW, DEFAULT_WHEN_UNSATISFIABLE } from "./settings";
import type { ContainerSettings, ExtraContainer, MountSettings, PodSettings, ReadinessProbe, SecretKey, TopologySpreadSettings } from "./settings";

type Container = k8s.types.input.core.v1.Container;

function mounts(list: readonly MountSettings[] | undefined): k8s.types.input.core.v1.VolumeMount[] | undefined {
    return list?.map((mount) => ({ name: mount.name, mountPath: mount.mountPath, readOnly: mount.readOnly, subPath: mount.subPath }));
}

function secretEnv(entries: Readonly<Record<string, SecretKey>> | undefined): k8s.types.input.core.v1.EnvVar[] {
    return Object.keys(entries ?? {})
        .sort()
        .map((name) => ({ name, valueFrom: { secretKeyRef: { name: entries![name].secret, key: entries![name].key } } }));
}

function plainEnv(entries: Readonly<Record<string, string>> | undefined): k8s.types.input.core.v1.EnvVar[] {
    return Object.keys(entries ?? {})
        .sort()
        .map((name) => ({ name, value: entries![name] }));
}

/** An init container or a sidecar; with no image, the release's own. */
function extraContainer(extra: ExtraContainer, imageRef: pulumi.Input<string>): Container {
    const env = [...plainEnv(extra.env), ...secretEnv(extra.secretEnv)];
    return {
        name: extra.name,
        image: extra.image ?? imageRef,
        command: extra.command,
        args: extra.args,
        env: env.length > 0 ? env : undefined,
        volumeMounts: mounts(extra.mounts),
    };
}

/**
 * The fields the component's container takes from `container`, given how a probe becomes the
 * Kubernetes one (the component's own port by name when a check names none). `env` is the
 * component's plain env, to which the Secret-fed variables are added.
 */
export function containerAdditions(
    container: ContainerSettings | undefined,
    probe: (settings: ReadinessProbe) => k8s.types.input.core.v1.Probe,
): Partial<Container> & { readonly secretEnv: k8s.types.input.core.v1.EnvVar[] } {
    return {
        secretEnv: secretEnv(container?.secretEnv),
        ...(container?.mounts !== undefined ? { volumeMounts: mounts(container.mounts) } : {}),
        ...(container?.envFrom !== undefined
            ? {
                  envFrom: container.envFrom.map((source) => ({
                      prefix: source.prefix,
                      ...(source.configMap !== undefined ? { configMapRef: { name: source.configMap } } : { secretRef: { name: source.secret } }),
                  })),
              }
            : {}),
        ...(container?.command !== undefined ? { command: container.command } : {}),
        ...(container?.args !== undefined ? { args: container.args } : {}),
        ...(container?.livenessProbe !== undefined ? { livenessProbe: probe(container.livenessProbe) } : {}),
        ...(container?.startupProbe !== undefined ? { startupProbe: probe(container.startupProbe) } : {}),
        ...(container?.securityContext !== undefined ? { securityContext: { ...container.securityContext } } : {}),
    };
}

/** A spread constraint counting the pods `selector` matches: the service's own. */
function topologySpreadConstraint(spread: TopologySpreadSettings, selector: Readonly<Record<string, string>>): k8s.types.input.core.v1.TopologySpreadConstraint {
    return {
        maxSkew: spread.maxSkew ?? DEFAULT_MAX_SKEW,
        topologyKey: spread.topologyKey,
        whenUnsatisfiable: spread.whenUnsatisfiable ?? DEFAULT_WHEN_UNSATISFIABLE,
        labelSelector: { matchLabels: { ...selector } },
        ...(spread.minDomains !== undefined ? { minDomains: spread.minDomains } : {}),
    };
}

/**
 * The pod spec's fields from `pod`, beside the component's container; extra containers with no
 * image run `imageRef`, and topology spread counts the pods `selector` (the Deployment's) matches.
 */
export function podAdditions(
    pod: PodSettings | undefined,
    imageRef: pulumi.Input<string>,
    selector: Readonly<Record<string, string>>,
): Partial<k8s.types.input.core.v1.PodSpec> {
    if (pod === undefined) {
        return {};
    }
    return {
        ...(pod.volumes !== undefined
            ? {
                  volumes: pod.volumes.map((volume) => ({
                      name: volume.name,
                      ...(volume.configMap !== undefined ? { configMap: { name: volume.configMap } } : {}),
                      ...(volume.secret !== undefined ? { secret: { secretName: volume.secret } } : {}),
                      ...(volume.emptyDir === true ? { emptyDir: {} } : {}),
                      ...(volume.persistentVolumeClaim !== undefined ? { persistentVolumeClaim: { claimName: volume.persistentVolumeClaim } } : {}),
                  })),
              }
            : {}),
        ...(pod.serviceAccountName !== undefined ? { serviceAccountName: pod.serviceAccountName } : {}),
        ...(pod.imagePullSecrets !== undefined ? { imagePullSecrets: pod.imagePullSecrets.map((name) => ({ name })) } : {}),
        ...(pod.initContainers !== undefined ? { initContainers: pod.initContainers.map((extra) => extraContainer(extra, imageRef)) } : {}),
        ...(pod.nodeSelector !== undefined ? { nodeSelector: pod.nodeSelector } : {}),
        ...(pod.tolerations !== undefined ? { tolerations: pod.tolerations.map((toleration) => ({ ...toleration })) } : {}),
        ...(pod.affinity !== undefined ? { affinity: pod.affinity } : {}),
        ...(pod.topologySpread !== undefined ? { topologySpreadConstraints: pod.topologySpread.map((spread) => topologySpreadConstraint(spread, selector)) } : {}),
        ...(pod.securityContext !== undefined ? { securityContext: { ...pod.securityContext } } : {}),
    };
}

/** The sidecars, after the component's container. */
export function sidecars(pod: PodSettings | undefined, imageRef: pulumi.Input<string>): Container[] {
    return (pod?.sidecars ?? []).map((extra) => extraContainer(extra, imageRef));
}
