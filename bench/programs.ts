// The programs the benchmark evaluates: N services declared through ReleasedService, and the
// same N services declared through the hand-written baseline.
import * as path from "node:path";

import { ReleasedService } from "../components";
import { readProvenance } from "../components/release/provenance";
import { ORGANIZATION, PROJECT, REGISTRY_HOST } from "../tests/support/helpers";
import { BaselineService, sharedRelease } from "./baseline";

/** Build context whose source is v1.0.0. */
export const CONTEXT_V1 = path.join(__dirname, "fixture-app");
/** The same service after its source moved on to v2.0.0. */
export const CONTEXT_V2 = path.join(__dirname, "fixture-app-v2");
export const V1 = "v1.0.0";
export const V2 = "v2.0.0";

export const serviceName = (i: number): string => `svc-${i}`;
/** Repositories in the registry the mocks serve over HTTP, as a real update asks a registry. */
export const repository = (i: number): string => `${REGISTRY_HOST}/${serviceName(i)}`;

export type Program = () => Record<string, unknown> | void;

/**
 * N ReleasedServices running `version`, built from `context`; with `exportDigests`, the program
 * exports each service's digest, as a stack others read does (the evaluation's baseline exports nothing).
 */
export function componentProgram(services: number, version = V1, context = CONTEXT_V1, exportDigests = false): Program {
    return () => {
        const digests: Record<string, unknown> = {};
        for (let i = 0; i < services; i++) {
            digests[serviceName(i)] = new ReleasedService(serviceName(i), { image: repository(i), version, context }).imageDigest;
        }
        return exportDigests ? { imageDigests: digests } : undefined;
    };
}

/**
 * N BaselineServices for the v1 source. The build inputs are worked out here, once, outside the
 * program: the baseline itself reads no files and runs no git.
 */
export function baselineProgram(services: number): Program {
    const release = sharedRelease(V1, CONTEXT_V1, readProvenance(CONTEXT_V1), { organization: ORGANIZATION, project: PROJECT, name: "dev" });
    return () => {
        for (let i = 0; i < services; i++) {
            new BaselineService(serviceName(i), { image: repository(i), release });
        }
    };
}
