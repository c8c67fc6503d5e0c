// What the stack's last update left in its state, read through the engine: the program's one view of
// its own previous deployment, so a question the state already answers is not asked of the registry.
import * as pulumi from "@pulumi/pulumi";

import { sharedThisTurn } from "./thisTurn";

/** The outputs of every resource in the stack's state, by URN. */
export type StackState = ReadonlyMap<string, Readonly<Record<string, unknown>>>;

/** The state of each stack, shared by the services declared in this turn of the event loop. */
const stateThisTurn = sharedThisTurn(readState);

/**
 * The stack's state as its last update left it, or undefined when it cannot be read: a stack with no
 * outputs yet, an engine without a backend (mocks), or any error. Services declared together share
 * one read (see sharedThisTurn): a process that runs the program again reads the state again.
 *
 * Two invokes of the engine's own provider. The resources' outputs
 * (`pulumi:pulumi:readStackResourceOutputs`) are read only once the stack's outputs
 * (`pulumi:pulumi:readStackOutputs`) show it has a deployment: the engine answers the former for a
 * stack that has none yet (a first preview) by dereferencing an absent snapshot, which ends the
 * whole update, where it answers the latter with no outputs. A stack whose program exports nothing
 * is therefore never read, and each question goes to the registry instead.
 */
export function stackState(): Promise<StackState | undefined> {
    return stateThisTurn(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
}

/** What the stack's state holds of `owner`'s child `name` of `type`: its outputs, none, or unread. */
export type Recorded = { readonly read: false } | { readonly read: true; readonly outputs?: Readonly<Record<string, unknown>> };

/** The outputs the stack's state holds for `owner`'s child `name` of `type`, by the URN the engine gives it. */
export async function recordedChild(owner: pulumi.Resource, type: string, name: string): Promise<Recorded> {
    const state = await stackState();
    if (state === undefined) {
        return { read: false };
    }
    const urn = await new Promise<string>((resolve) => pulumi.createUrn(name, type, owner).apply(resolve));
    return { read: true, outputs: state.get(urn) };
}

async function readState(stack: string): Promise<StackState | undefined> {
    try {
        const own: unknown = await pulumi.runtime.invoke("pulumi:pulumi:readStackOutputs", { name: stack });
        const outputs = recordOf(recordOf(own)?.outputs);
        if (outputs === undefined || Object.keys(outputs).length === 0) {
            return undefined;
        }
        const read: unknown = await pulumi.runtime.invoke("pulumi:pulumi:readStackResourceOutputs", { stackName: stack });
        const resources = recordOf(recordOf(read)?.outputs);
        if (resources === undefined) {
            return undefined;
        }
        const state = new Map<string, Readonly<Record<string, unknown>>>();
        for (const [urn, resource] of Object.entries(resources)) {
            const resourceOutputs = recordOf(recordOf(resource)?.outputs);
            if (resourceOutputs !== undefined) {
                state.set(urn, resourceOutputs);
            }
        }
        return state;
    } catch (error) {
        void pulumi.log.debug(`the state of ${stack} could not be read, so the registry is asked instead: ${String(error)}`);
        return undefined;
    }
}

function recordOf(value: unknown): Record<string, unknown> | undefined {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
