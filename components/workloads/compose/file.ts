// The Compose workload: a Compose file that pins each service to its release's digest, written on
// every `pulumi up` (never by a preview) where the user says. Pulumi deploys nothing here:
// `docker compose -f compose.yaml -f <file> up -d` runs exactly the released digests.
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";

import { RELEASE_LABEL, SERVICE_LABEL } from "../../labels";
import type { ComposeWorkloadRecord, PinnedRelease } from "../workload";
import { type ComposeSettings, DEFAULT_COMPOSE_FILE } from "./settings";

const HEADER = "released-service: every service pinned to its release's digest; docker compose -f compose.yaml -f this file up -d";

/** A Compose file's service entry, as far as a release decides it. */
export interface ComposeEntry {
    readonly image: string;
    readonly labels: Readonly<Record<string, string>>;
}

/**
 * The file's text with `service` set to `entry`, keeping every other service: several ReleasedServices
 * may pin their services in one file. Written as JSON, which Compose reads as YAML.
 */
export function withService(text: string | undefined, service: string, entry: ComposeEntry): string {
    const parsed = text === undefined ? {} : (JSON.parse(text) as { services?: Record<string, ComposeEntry> });
    const services = { ...(parsed.services ?? {}), [service]: entry };
    const sorted = Object.fromEntries(Object.keys(services).sort().map((key) => [key, services[key]]));
    return `${JSON.stringify({ "x-released-service": HEADER, services: sorted }, null, 2)}\n`;
}

/** The service entry of a release. */
export function composeEntry(name: string, imageRef: string, version: string): ComposeEntry {
    return { image: imageRef, labels: { [SERVICE_LABEL]: name, [RELEASE_LABEL]: version } };
}

/**
 * Pins a Compose service to the release: the file is written once the release is resolved, in an
 * update only. It is no resource: nothing of Pulumi's own runs it.
 */
export function pinComposeFile(name: string, release: PinnedRelease, settings: ComposeSettings): pulumi.Output<ComposeWorkloadRecord> {
    const file = settings.composeFile ?? DEFAULT_COMPOSE_FILE;
    const service = settings.composeService ?? name;
    return pulumi.all([release.imageRef, release.version]).apply(([imageRef, version]) => {
        if (!pulumi.runtime.isDryRun()) {
            const existing = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
            fs.writeFileSync(file, withService(existing, service, composeEntry(name, imageRef, version)));
        }
        return { kind: "compose" as const, file, service };
    });
}
