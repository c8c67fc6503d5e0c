// What the command asks of any workload kind: which instances run now, and which digest each runs.
// Plain types with no @pulumi import; each kind's live.ts answers them for its own record.

/**
 * Whether an instance runs the recorded digest; `unknown` while none is reported (pulling, or a local
 * image); `restored` when it runs the release the stack config pins, ahead of the update that records it.
 */
export type InstanceState = "ok" | "drift" | "unknown" | "restored";

/** One running copy of a workload: a pod, a container or a Swarm task. */
export interface LiveInstance {
    readonly name: string;
    readonly phase: string;
    readonly ready: boolean;
    /** The release's version label on the instance. */
    readonly version: string | null;
    readonly digest: string | null;
    readonly state: InstanceState;
}

/** The release an instance is judged against. */
export interface ExpectedRelease {
    readonly digest?: string;
    /** `<repository>@sha256:…`: containers from another repository (sidecars) are not judged. */
    readonly imageRef?: string;
}

/**
 * Where a workload's instances run, as `status --json` prints them beside the service: each kind
 * sets its own fields, named apart from the service's own (a Swarm or Compose service is not the
 * ReleasedService's resource name).
 */
export interface WorkloadLocation {
    /** kubernetes: the namespace, and the selector of the Deployment's pods. */
    readonly namespace?: string;
    readonly selector?: string;
    /** docker: the container's name. */
    readonly container?: string;
    /** swarm: the Swarm service. */
    readonly swarmService?: string;
    /** compose: the Compose file, and the service in it. */
    readonly composeFile?: string;
    readonly composeService?: string;
}

/** What a kind calls one of its instances, and several: each kind's module exports its own. */
export interface Noun {
    readonly one: string;
    readonly many: string;
}

/** What the command needs from any workload kind to say what runs there now. */
export interface LiveWorkload {
    /** What an instance is called, for tables and counts. */
    readonly noun: Noun;
    /** Where the instances are, as machine-readable fields (`--json`). */
    readonly location: WorkloadLocation;
    /** The same, for people: `app.kubernetes.io/name=api, namespace shop`. */
    readonly where: string;
    /** What to say when nothing runs there. */
    readonly none: string;
    /** Why instances may run another digest than recorded, and what restores it. */
    readonly driftCause: string;
    /** The instances that stay (ones on their way out are left out), judged against `expected`. */
    instances(expected: ExpectedRelease): Promise<LiveInstance[]>;
    /** Only for a kind Pulumi does not run itself (Compose): how the host is made to run what an update wrote. */
    readonly rerun?: Rerun;
    /**
     * What the cluster in reach holds under the record's name, to check it is the one the stack
     * deployed to: only a kind whose state records the object's identity (a Deployment's uid) has it.
     */
    identify?(): Promise<LiveIdentity>;
}

/** The object of the recorded name where the command reached, and who answered. */
export interface LiveIdentity {
    /** Its uid; null when no object of that name is there. */
    readonly uid: string | null;
    /** What answered, for people: `kube context staging (server https://10.0.0.2:6443)`. */
    readonly reached: string;
}

/** Makes the host run what the last update wrote, the way it runs now. */
export interface Rerun {
    /** Why it cannot, asked before anything changes; undefined when it can. */
    problem(): Promise<string | undefined>;
    /** Runs it, and resolves to the command line it ran. */
    run(): Promise<string>;
}

/** An instance's state from the digest it runs: the recorded one, another, or none known yet. */
export function judge(digest: string | null, expected: ExpectedRelease): InstanceState {
    return digest === null ? "unknown" : digest === expected.digest ? "ok" : "drift";
}
