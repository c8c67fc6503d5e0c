// Which reader answers for a backend: the one place that looks at the backend URL's scheme.

import { DiyCheckpoints, ExportedStates, type RecordedStates, type StateBucket, UnsupportedBackend } from "../state";
import { fileBackendRoot, FileBucket } from "./file";
import { PostgresBucket, postgresLocation } from "./postgres";
import { S3Bucket, s3Location } from "./s3";
import { CliError, ExitCode } from "../exitCodes";

export interface StackOnBackend {
    /** The backend the pulumi CLI uses (`pulumi whoami`'s URL, else PULUMI_BACKEND_URL, else the project's backend.url). */
    readonly backendUrl: string;
    /** The project directory, which a relative file:// URL is relative to. */
    readonly workDir: string;
    readonly project: string;
    /** The stack's name as the user gave it (`dev`, `org/project/dev`). */
    readonly stack: string;
    /** `pulumi stack export --version N`: only Pulumi Cloud answers it. */
    exportVersion(update: number): Promise<unknown>;
    onProgress(message: string): void;
}

/** The DIY backends' storage, by URL scheme; each opens lazily, on the first read. */
const BUCKETS: Readonly<Record<string, (backendUrl: string, workDir: string) => StateBucket>> = {
    file: (backendUrl, workDir) => new FileBucket(fileBackendRoot(backendUrl, workDir) as string),
    s3: (backendUrl) => new S3Bucket(s3Location(backendUrl), backendUrl),
    postgres: (backendUrl) => new PostgresBucket(postgresLocation(backendUrl), backendUrl),
};

/** Where each update's recorded services are read on this stack's backend. */
export function recordedStatesOf(stack: StackOnBackend): RecordedStates {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(stack.backendUrl)?.[1]?.toLowerCase();
    if (scheme === "https" || scheme === "http") {
        return new ExportedStates(stack.exportVersion, (done, total) => stack.onProgress(`Exporting the state of each update… ${done}/${total}`));
    }
    if (scheme === undefined) {
        // No backend known: pulumi itself has already said what is wrong.
        return { statesOf: async () => new Map() };
    }
    const bucket = BUCKETS[scheme];
    if (!bucket) {
        return new UnsupportedBackend(scheme);
    }
    const shortName = stack.stack.split("/").pop() ?? stack.stack;
    try {
        return new DiyCheckpoints(bucket(stack.backendUrl, stack.workDir), stack.project, shortName);
    } catch (error) {
        throw new CliError(`cannot read the ${scheme}:// state backend: ${(error as Error).message}`, ExitCode.Usage);
    }
}
