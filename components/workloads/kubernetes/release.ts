// What a Kubernetes object says of the release it runs: its version label and change cause. Plain
// functions with no @pulumi import, so that the command reads and writes them as the component does.
import { MANAGED_BY, MANAGED_BY_LABEL, NAME_LABEL, VERSION_LABEL } from "./settings";

/** A Kubernetes label value holds at most 63 characters and starts and ends alphanumeric. */
export function labelValue(value: string): string {
    return value.replace(/^[^A-Za-z0-9]+/, "").slice(0, 63).replace(/[^A-Za-z0-9]+$/, "");
}

/** The `kubernetes.io/change-cause` that makes `kubectl rollout history` read as a release log. */
export function changeCause(version: string, imageRef: string): string {
    return `released-service: ${version} ${imageRef}`;
}

/** The labels that select a service's pods: the name only, since a selector is immutable and the version is not. */
export function podSelector(name: string): Record<string, string> {
    return { [NAME_LABEL]: name };
}

/** The Deployment's and its pods' labels: who they are, which release, and who manages them. */
export function releaseLabels(name: string, version: string): Record<string, string> {
    return { ...podSelector(name), [VERSION_LABEL]: labelValue(version), [MANAGED_BY_LABEL]: MANAGED_BY };
}
