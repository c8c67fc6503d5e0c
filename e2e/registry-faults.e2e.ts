// A rollback during an incident, when the registry is busy: through a proxy that throttles with
// Retry-After, answers 503 or resets the connection on every first try of a request, a rollback by
// version and `released-service rollback --to N` complete; an outage fails the preview within a
// minute, naming the registry and what it answered, with nothing changed.
import * as assert from "node:assert/strict";

import { environment } from "./support/hooks";
import type { Environment, RegistryFault } from "./support/environment";
import { settledPodDigests, Stack, succeeded } from "./support/project";

const NAME = "faults-app";
const REPOSITORY = "faults-api";

/** Every odd-numbered request with the same line about the repository meets `fault`; the next try passes. */
function everyFirstTry(fault: ReturnType<RegistryFault>): RegistryFault {
    return (line, seen) => (line.includes(`/${REPOSITORY}/`) && seen % 2 === 1 ? fault : undefined);
}

describe("registry faults: a rollback gets through a throttling or failing registry", function () {
    let env: Environment;
    let stack: Stack;
    let image: string;
    const digests: Record<string, string> = {};
    const selector = `app.kubernetes.io/name=${NAME}`;
    const cli = (...args: string[]) => env.cli([...args, "--stack", "faults", "--cwd", env.project]);
    /** The requests about the repository the proxy saw since the `from`th. */
    const requestsSince = (from: number): string[] => env.registryRequests().slice(from).filter((line) => line.includes(`/${REPOSITORY}/`));

    before(async () => {
        env = environment();
        image = `${env.registry.host}/${REPOSITORY}`;
        digests.v1 = await env.registry.push(REPOSITORY, "v1.0.0");
        digests.v2 = await env.registry.push(REPOSITORY, "v2.0.0");
        stack = new Stack(env, "faults");
        await stack.init({ image, name: NAME, version: "v1.0.0", build: "false" });
        succeeded(await stack.up(), "up v1");
        await stack.set({ version: "v2.0.0" });
        succeeded(await stack.up(), "up v2");
    });

    const cases: [string, ReturnType<RegistryFault>][] = [
        ["429 Too Many Requests with Retry-After: 1", { status: 429, headers: { "Retry-After": "1" } }],
        ["503 Service Unavailable", { status: 503 }],
        ["a reset connection", "reset"],
    ];
    for (const [what, fault] of cases) {
        it(`a rollback by version completes when every first try of a request meets ${what}`, async () => {
            const from = env.registryRequests().length;
            env.faultRegistry(everyFirstTry(fault));
            try {
                await stack.set({ version: "v1.0.0" });
                succeeded(await stack.up(), `pulumi up of the rollback through ${what}`);
            } finally {
                env.faultRegistry(undefined);
            }
            assert.deepEqual(await settledPodDigests(env, selector, digests.v1), [digests.v1]);
            const asked = requestsSince(from);
            assert.ok(asked.length >= 2, `the registry was asked again: ${asked.join(", ")}`);
            await stack.set({ version: "v2.0.0" });
            succeeded(await stack.up(), "back to v2");
        });
    }

    it("released-service rollback --to 1 completes through 429s with Retry-After, checking the digest and updating", async () => {
        env.faultRegistry(everyFirstTry({ status: 429, headers: { "Retry-After": "1" } }));
        let result;
        try {
            result = await cli("rollback", "--to", "1", "--yes");
        } finally {
            env.faultRegistry(undefined);
        }
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.match(result.stdout, /\nRolled back stack faults to #1 /);
        assert.deepEqual(await settledPodDigests(env, selector, digests.v1), [digests.v1]);
        succeeded(await cli("release-hold"), "release-hold");
    });

    it("an outage fails the preview within a minute, naming the registry and what it answered, with nothing changed", async () => {
        const before = succeeded(await env.pulumi(["config", "--stack", "faults", "--json"]), "pulumi config").stdout;
        env.faultRegistry((line) => (line.includes(`/${REPOSITORY}/`) ? { status: 503 } : undefined));
        const started = Date.now();
        let preview;
        try {
            preview = await stack.preview();
        } finally {
            env.faultRegistry(undefined);
        }
        const seconds = (Date.now() - started) / 1000;
        assert.notEqual(preview.code, 0, preview.stdout);
        assert.ok(seconds < 60, `the preview failed after ${seconds} s`);
        assert.match(preview.stdout + preview.stderr, new RegExp(`registry ${env.registry.host.replace(/\./g, "\\.")} answered HTTP 503 for ${REPOSITORY}:v2\\.0\\.0 \\(5 tries over [\\d.]+ s\\)`));
        assert.equal(succeeded(await env.pulumi(["config", "--stack", "faults", "--json"]), "pulumi config").stdout, before);
        assert.deepEqual(await settledPodDigests(env, selector, digests.v1), [digests.v1]);
    });

    after(() => env?.faultRegistry(undefined));
});
