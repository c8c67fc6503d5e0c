// The Compose workload's settings and defaults, apart from what writes the file.

export const DEFAULT_COMPOSE_FILE = "compose.released.yaml";
/** The settings of the Compose workload. */
export interface ComposeSettings {
    /** The Compose file to write, relative to the Pulumi project. Defaults to `compose.released.yaml`. */
    readonly composeFile?: string;
    /** The service's name in the Compose project. Defaults to the ReleasedService's name. */
    readonly composeService?: string;
}
