// Runs a policy's validateResource the way the policy runtime does, minus the gRPC server: typed
// resource inputs in, violation messages (or the not-applicable reason) out. Plus happy-path workloads.
import * as assert from "assert";
import * as k8s from "@pulumi/kubernetes";
import { Resource, Unwrap } from "@pulumi/pulumi";
import { PolicyResourceOptions, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";

export const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
export const APP_IMAGE = `localhost:5000/payment-api@${DIGEST}`;
export const MIGRATE_IMAGE = `localhost:5000/payment-api-migrate@${DIGEST}`;

type PodSpec = Unwrap<k8s.types.input.core.v1.PodSpec>;
type DeploymentProps = Unwrap<k8s.apps.v1.DeploymentArgs>;

const NO_OPTIONS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

/** What `args.notApplicable` throws, as the runtime's own error does. */
class NotApplicable extends Error {
    constructor(readonly reason: string | undefined) {
        super(reason ?? "Policy does not apply");
    }
}

/** The type token the SDK attaches to each resource class, which is what the runtime compares. */
function typeToken(resourceClass: object): string {
    const token: unknown = Reflect.get(resourceClass, "__pulumiType");
    assert.ok(typeof token === "string", "resource class carries no __pulumiType");
    return token;
}

/**
 * ResourceValidationArgs for a resource of `resourceClass` with inputs `props` (typed by that class's
 * args) and `config` as the policy's config (what the engine passes after `enforcementLevel`).
 */
export function resourceArgs<TResource extends Resource, TArgs>(
    resourceClass: new (name: string, args: TArgs, ...rest: never[]) => TResource,
    props: Unwrap<NonNullable<TArgs>> & Record<string, unknown>,
    config: Record<string, unknown> = {},
): ResourceValidationArgs {
    const type = typeToken(resourceClass);
    const isType = (cls: object) => typeToken(cls) === type;
    return {
        type,
        props,
        urn: `urn:pulumi:test::released-service::${type}::app`,
        name: "app",
        opts: NO_OPTIONS,
        stackTags: new Map(),
        isType,
        asType: <R extends Resource, A>(cls: new (name: string, args: A, ...rest: never[]) => R) =>
            isType(cls) ? (props as Unwrap<NonNullable<A>>) : undefined,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** Every message the policy reports for `args`, in order; fails the test if the policy is not applicable. */
export async function violations(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
    const messages: string[] = [];
    const validations = policy.validateResource === undefined ? [] : [policy.validateResource].flat();
    for (const validate of validations) {
        await validate(args, (message) => messages.push(message));
    }
    return messages;
}

/** The reason the policy gives for not applying to `args`; fails the test if it applies. */
export async function notApplicableReason(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string | undefined> {
    try {
        const messages = await violations(policy, args);
        assert.fail(`expected the policy not to apply, but it ran and reported ${JSON.stringify(messages)}`);
    } catch (e) {
        if (e instanceof NotApplicable) {
            return e.reason;
        }
        throw e;
    }
}

/** A pod spec with one init container and one app container, both pinned unless overridden. */
export function podSpec(images: { app?: string; migrate?: string } = {}): PodSpec {
    return {
        initContainers: [{ name: "migrate", image: images.migrate ?? MIGRATE_IMAGE }],
        containers: [{ name: "app", image: images.app ?? APP_IMAGE }],
    };
}

const labels = { "app.kubernetes.io/name": "app" };

/** A Deployment that every policy accepts; each override replaces one field. */
export function deploymentProps(
    overrides: {
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        revisionHistoryLimit?: number;
        spec?: PodSpec;
    } = {},
): DeploymentProps {
    return {
        metadata: {
            labels: overrides.labels ?? { ...labels, "app.kubernetes.io/version": "v2.4.1" },
            annotations: overrides.annotations ?? { "kubernetes.io/change-cause": `v2.4.1 (${APP_IMAGE})` },
        },
        spec: {
            // `in`, not `??`: a test removes the field by passing undefined.
            revisionHistoryLimit: "revisionHistoryLimit" in overrides ? overrides.revisionHistoryLimit : 10,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: overrides.spec ?? podSpec() },
        },
    };
}

/** Each workload kind the image policies read, with the pod spec placed where that kind keeps it. */
export const WORKLOADS: readonly { readonly kind: string; readonly args: (spec: PodSpec) => ResourceValidationArgs }[] = [
    { kind: "Pod", args: (spec) => resourceArgs(k8s.core.v1.Pod, { spec }) },
    { kind: "Deployment", args: (spec) => resourceArgs(k8s.apps.v1.Deployment, deploymentProps({ spec })) },
    {
        kind: "StatefulSet",
        args: (spec) =>
            resourceArgs(k8s.apps.v1.StatefulSet, {
                spec: { serviceName: "app", selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
            }),
    },
    {
        kind: "DaemonSet",
        args: (spec) =>
            resourceArgs(k8s.apps.v1.DaemonSet, { spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec } } }),
    },
    { kind: "Job", args: (spec) => resourceArgs(k8s.batch.v1.Job, { spec: { template: { spec: { ...spec, restartPolicy: "Never" } } } }) },
    {
        kind: "CronJob",
        args: (spec) =>
            resourceArgs(k8s.batch.v1.CronJob, {
                spec: { schedule: "0 3 * * *", jobTemplate: { spec: { template: { spec: { ...spec, restartPolicy: "Never" } } } } },
            }),
    },
];
