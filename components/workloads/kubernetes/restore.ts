// Restoring a Kubernetes object to an earlier release in one API write, ahead of the update that
// records it. The Kubernetes provider (pulumi-kubernetes provider/v4, server-side apply mode) applies
// an object's normalized inputs under a field manager of its own and checkpoints both: `__inputs` is
// the object it last applied and `__fieldManager` the manager's name (provider.go, checkpointObject;
// await.go, ssaUpdate). Applying that same object with only the release swapped, under the same
// manager and with conflicts forced as the provider forces them, leaves the object as the following
// update will apply it: that update changes nothing on the cluster and starts no second rollout.
import { execFile } from "node:child_process";

import { type KubectlTarget, kubectlFlags, type ObjectReference } from "./live";
import { changeCause, labelValue } from "./release";
import { CHANGE_CAUSE_ANNOTATION, VERSION_LABEL } from "./settings";

/** What the provider checkpointed of an object it applied: the object, and who applied it. */
export interface AppliedObject {
    readonly object: Readonly<Record<string, unknown>>;
    readonly fieldManager: string;
}

/** A release, as an object names it. */
export interface NamedRelease {
    readonly imageRef: string;
    readonly version: string;
}

/** The key Pulumi writes in place of a secret value in a checkpoint (`sig` of a secret). */
const SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d";

/**
 * What the provider last applied to a Kubernetes object, from the object's recorded outputs; a
 * reason instead when it cannot be restored from them: the provider ran in client-side apply mode
 * (its manager is then `pulumi-kubernetes`, shared by every object, and the update would be a
 * three-way merge), or the object holds a secret value the checkpoint keeps encrypted. Pure.
 */
export function appliedObject(outputs: Readonly<Record<string, unknown>>): AppliedObject | { readonly refused: string } {
    const object = outputs.__inputs;
    const fieldManager = outputs.__fieldManager;
    if (object === null || typeof object !== "object" || Array.isArray(object) || typeof fieldManager !== "string" || fieldManager === "") {
        return { refused: "its state does not record the object the Kubernetes provider applied and its field manager (a provider older than v4, or not in server-side apply mode)" };
    }
    if (fieldManager === "pulumi-kubernetes") {
        return { refused: "the Kubernetes provider applies it client-side (enableServerSideApply is false), so one write cannot leave it as the update will" };
    }
    if (JSON.stringify(object).includes(SECRET_SIGNATURE)) {
        return { refused: "the object the provider applied holds a secret value, which the state keeps encrypted" };
    }
    return { object: object as Record<string, unknown>, fieldManager };
}

/** `value` with every string naming the image `from.imageRef` naming `to.imageRef` instead, and every string that is exactly `from.version` (a version label, an env var) `to.version`. */
function swapped(value: unknown, from: NamedRelease, to: NamedRelease): unknown {
    if (typeof value === "string") {
        return from.version !== "" && value === from.version ? to.version : value.split(from.imageRef).join(to.imageRef);
    }
    if (Array.isArray(value)) {
        return value.map((item) => swapped(item, from, to));
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, swapped(item, from, to)]));
    }
    return value;
}

type Json = Record<string, unknown>;

function child(parent: Json | undefined, key: string): Json | undefined {
    const value = parent?.[key];
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
}

/** The labels map at `metadata.labels` with the version label, when it has one, naming `version`. */
function relabel(metadata: Json | undefined, version: string): void {
    const labels = child(metadata, "labels");
    if (labels !== undefined && typeof labels[VERSION_LABEL] === "string") {
        labels[VERSION_LABEL] = labelValue(version);
    }
}

/**
 * The object to apply so that `applied` runs `to` instead of `from`: every image reference to
 * `from` names `to`, and every value that is exactly `from`'s version (a program's own version
 * label or variable, from the release's `version` output) is `to`'s. For a ReleasedService's own
 * Deployment (`builtIn`) also its version labels and change cause, which the component derives
 * from the release: the object is then exactly what the component asks the provider to apply for
 * `to`. Pure.
 */
export function restoredObject(applied: AppliedObject, from: NamedRelease, to: NamedRelease, builtIn: boolean): Json {
    const object = swapped(applied.object, from, to) as Json;
    if (builtIn) {
        const metadata = child(object, "metadata");
        relabel(metadata, to.version);
        relabel(child(child(child(object, "spec"), "template"), "metadata"), to.version);
        const annotations = child(metadata, "annotations");
        if (annotations !== undefined && typeof annotations[CHANGE_CAUSE_ANNOTATION] === "string") {
            annotations[CHANGE_CAUSE_ANNOTATION] = changeCause(to.version, to.imageRef);
        }
    }
    return object;
}

/** Where an applied object lives: its recorded name and namespace win over what its inputs say. */
export function referenceOf(object: Json, outputs: Readonly<Record<string, unknown>>): ObjectReference | undefined {
    const recorded = child(outputs as Json, "metadata");
    const metadata = child(object, "metadata");
    const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
    const apiVersion = text(object.apiVersion);
    const kind = text(object.kind);
    const name = text(recorded?.name) ?? text(metadata?.name);
    if (apiVersion === undefined || kind === undefined || name === undefined) {
        return undefined;
    }
    return { apiVersion, kind, name, namespace: text(recorded?.namespace) ?? text(metadata?.namespace) ?? "default" };
}

/**
 * What restores a Kubernetes object from its recorded outputs: the object to apply, who applies
 * it and where; or why it cannot be restored that way. Pure.
 */
export function restoringApply(
    outputs: Readonly<Record<string, unknown>>,
    from: NamedRelease,
    to: NamedRelease,
    builtIn: boolean,
): { readonly object: Json; readonly fieldManager: string; readonly reference: ObjectReference } | { readonly refused: string } {
    const applied = appliedObject(outputs);
    if ("refused" in applied) {
        return applied;
    }
    const object = restoredObject(applied, from, to, builtIn);
    const reference = referenceOf(object, outputs);
    return reference === undefined ? { refused: "its state does not name the object" } : { object, fieldManager: applied.fieldManager, reference };
}

/** Applies `object` server-side as `fieldManager`, forcing conflicts as the provider does, where `target` points. */
export function applyWithKubectl(object: Json, fieldManager: string, target: KubectlTarget = {}): Promise<void> {
    const args = [...kubectlFlags(target), "apply", "--server-side", "--force-conflicts", `--field-manager=${fieldManager}`, "--output", "name", "--filename", "-"];
    return new Promise((resolve, reject) => {
        const child = execFile("kubectl", args, { maxBuffer: 16 * 1024 * 1024, timeout: 60_000 }, (error, _stdout, stderr) => {
            if (error) {
                const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "kubectl is not installed or not on PATH" : (stderr || error.message).trim();
                reject(new Error(reason));
                return;
            }
            resolve();
        });
        child.stdin?.end(JSON.stringify(object));
    });
}
