// What the client keeps for the rest of the process: bearer tokens per registry, repository scope
// and credentials until they run out, the challenge each registry answers, and each credential
// helper's answer; and docker's identity tokens, exchanged the way docker exchanges them.

import * as assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

import { RegistryClient, RegistryError, RegistrySession } from "../../components/registry/client";
import { credentialsFromAuths, loadCredentialLookup, type RegistryCredentials } from "../../components/registry/credentials";
import { type FaultyRegistry, type FaultyRegistryOptions, startFaultyRegistry, TestClock } from "../support/faultyRegistry";
import { scratchDir } from "../support/scratch";

const PULL_APP = "repository:team/app:pull";

describe("bearer tokens, per process", () => {
    let registry: FaultyRegistry | undefined;
    afterEach(async () => {
        await registry?.close();
        registry = undefined;
    });

    async function serve(options: FaultyRegistryOptions): Promise<FaultyRegistry> {
        registry = await startFaultyRegistry(options);
        return registry;
    }

    const app = (served: FaultyRegistry) => ({ registry: served.host, repository: "team/app" });

    it("are asked for once per scope, whichever client asks, and sent at once after the first challenge", async () => {
        const served = await serve({ bearer: {} });
        const session = new RegistrySession(new TestClock());
        // As the command does: a client per reference.
        const ask = (repository: string, tag: string): Promise<string | undefined> =>
            new RegistryClient({ session, labelsCache: false }).digestOfTag({ registry: served.host, repository }, tag);
        assert.equal(await ask("team/app", "v1"), served.digest);
        assert.deepEqual(await Promise.all([ask("team/app", "v1"), ask("team/app", served.digest), ask("team/other", "v1")]), [served.digest, served.digest, served.digest]);
        assert.equal(await ask("team/other", "v2"), undefined);
        assert.deepEqual(
            served.tokenRequests.map((request) => [request.method, request.scope, request.service]),
            [
                ["GET", PULL_APP, "faulty-registry"],
                ["GET", "repository:team/other:pull", "faulty-registry"],
            ],
        );
        assert.equal(served.authorizations.filter((authorization) => authorization === undefined).length, 1, "only the first request goes out without a token");
        assert.equal(served.requests.length, 6);
    });

    it("are asked for again when they run out: at their expires_in, else after 60 s", async () => {
        for (const [expiresIn, lifetimeS] of [
            [300, 300],
            [undefined, 60],
            [10, 60],
        ] as const) {
            const served = await serve({ bearer: { expiresIn } });
            const clock = new TestClock();
            const client = new RegistryClient({ session: new RegistrySession(clock), labelsCache: false });
            await client.digestOfTag(app(served), "v1");
            // Asked for again 5 s early, so that no request carries a token that expires on the way.
            clock.advance((lifetimeS - 6) * 1000);
            await client.digestOfTag(app(served), "v1");
            assert.equal(served.tokenRequests.length, 1, `expires_in ${expiresIn}: still the first token`);
            clock.advance(1000);
            await client.digestOfTag(app(served), "v1");
            assert.equal(served.tokenRequests.length, 2, `expires_in ${expiresIn}: a second token`);
            await served.close();
        }
    });

    it("are asked for again when the registry refuses the one it was sent", async () => {
        const served = await serve({ bearer: {} });
        const client = new RegistryClient({ session: new RegistrySession(new TestClock()), labelsCache: false });
        await client.digestOfTag(app(served), "v1");
        served.revokeTokens();
        assert.equal(await client.digestOfTag(app(served), "v1"), served.digest);
        assert.equal(served.tokenRequests.length, 2);
        assert.deepEqual(served.authorizations.slice(1), ["Bearer token-1", "Bearer token-1", "Bearer token-2"]);
    });

    it("are kept apart per credentials", async () => {
        const served = await serve({ bearer: {} });
        const session = new RegistrySession(new TestClock());
        for (const username of ["alice", "bob", "alice"]) {
            const client = new RegistryClient({ session, labelsCache: false, credentials: async () => ({ username, password: `${username}-secret` }) });
            await client.digestOfTag(app(served), "v1");
        }
        assert.deepEqual(
            served.tokenRequests.map((request) => request.form.account),
            ["alice", "bob"],
        );
    });

    it("are asked for again after the token service's own fault, and its last fault is named", async () => {
        const flaky = await serve({ bearer: {}, tokenFaults: [{ status: 503 }] });
        const clock = new TestClock();
        assert.equal(await new RegistryClient({ session: new RegistrySession(clock), labelsCache: false }).digestOfTag(app(flaky), "v1"), flaky.digest);
        assert.deepEqual([flaky.tokenRequests.length, clock.waits], [2, [1000]]);
        await flaky.close();

        const down = await serve({ bearer: {}, tokenFaults: Array.from({ length: 5 }, () => ({ status: 429, retryAfter: "1" })) });
        const client = new RegistryClient({ session: new RegistrySession(new TestClock()), labelsCache: false });
        await assert.rejects(client.digestOfTag(app(down), "v1"), {
            message:
                `token service ${down.host} answered HTTP 429 (Retry-After: 1) when asked anonymously (no credentials in your docker config) ` +
                `for a token for ${PULL_APP} (5 tries over 4.0 s)`,
        });
    });
});

describe("docker identity tokens", () => {
    let registry: FaultyRegistry | undefined;
    afterEach(async () => {
        await registry?.close();
        registry = undefined;
    });

    it("are read from auths, in place of the password, as docker reads them", () => {
        const encoded = (text: string): string => Buffer.from(text).toString("base64");
        const config = {
            auths: {
                "myregistry.azurecr.io": { auth: encoded("00000000-0000-0000-0000-000000000000:"), identitytoken: "refresh-acr" },
                "gcr.example.com": { identitytoken: "refresh-gcr" },
                "ghcr.io": { auth: encoded("gh:token") },
            },
        };
        const table: [string, RegistryCredentials | undefined][] = [
            ["myregistry.azurecr.io", { username: "00000000-0000-0000-0000-000000000000", password: "", identityToken: "refresh-acr" }],
            ["gcr.example.com", { username: "", password: "", identityToken: "refresh-gcr" }],
            ["ghcr.io", { username: "gh", password: "token" }],
        ];
        for (const [host, expected] of table) {
            assert.deepEqual(credentialsFromAuths(config, host), expected, host);
        }
    });

    it("are exchanged for a bearer token with an OAuth2 refresh_token grant, as docker does", async () => {
        registry = await startFaultyRegistry({ bearer: { identityToken: "refresh-1" } });
        const dir = scratchDir("identity-token-");
        const configPath = path.join(dir, "config.json");
        const user = Buffer.from("00000000-0000-0000-0000-000000000000:").toString("base64");
        writeFileSync(configPath, JSON.stringify({ auths: { [registry.host]: { auth: user, identitytoken: "refresh-1" } } }));
        const client = new RegistryClient({ session: new RegistrySession(new TestClock()), labelsCache: false, credentials: await loadCredentialLookup(configPath) });
        assert.equal(await client.digestOfTag({ registry: registry.host, repository: "team/app" }, "v1"), registry.digest);
        assert.deepEqual(registry.tokenRequests, [
            { method: "POST", scope: PULL_APP, service: "faulty-registry", form: { grant_type: "refresh_token", client_id: "docker", refresh_token: "refresh-1" } },
        ]);
    });

    it("that the token service refuses are named as such", async () => {
        registry = await startFaultyRegistry({ bearer: { identityToken: "refresh-1" } });
        const client = new RegistryClient({
            session: new RegistrySession(new TestClock()),
            labelsCache: false,
            credentials: async () => ({ username: "", password: "", identityToken: "expired" }),
        });
        await assert.rejects(
            client.digestOfTag({ registry: registry.host, repository: "team/app" }, "v1"),
            (error: unknown) =>
                error instanceof RegistryError &&
                error.message === `token service ${registry?.host} refused a token for ${PULL_APP} with the identity token in your docker config: HTTP 401`,
        );
    });
});

describe("credential helpers, per process", () => {
    it("are asked once per registry, however many services and clients look credentials up; a failure is asked again", async () => {
        const dir = scratchDir("credential-helper-");
        const configPath = path.join(dir, "config.json");
        writeFileSync(configPath, JSON.stringify({ credsStore: "fake", credHelpers: { "flaky.example.com": "flaky" } }));
        const asked: string[] = [];
        let failures = 1;
        const helper = async (name: string, server: string): Promise<RegistryCredentials | undefined> => {
            asked.push(`${name} ${server}`);
            if (name === "flaky" && failures-- > 0) {
                throw new Error("docker-credential-flaky failed for flaky.example.com: keychain locked");
            }
            return { username: "helper", password: `secret for ${server}` };
        };
        // As the component does: a lookup per service.
        const services = await Promise.all([loadCredentialLookup(configPath, helper), loadCredentialLookup(configPath, helper)]);
        for (const lookup of [...services, ...services]) {
            assert.deepEqual(await lookup("quay.io"), { username: "helper", password: "secret for quay.io" });
        }
        await assert.rejects(services[0]("flaky.example.com"), { message: "docker-credential-flaky failed for flaky.example.com: keychain locked" });
        assert.deepEqual(await services[1]("flaky.example.com"), { username: "helper", password: "secret for flaky.example.com" });
        assert.deepEqual(await services[0]("flaky.example.com"), { username: "helper", password: "secret for flaky.example.com" });
        assert.deepEqual(asked, ["fake quay.io", "flaky flaky.example.com", "flaky flaky.example.com"]);
    });

    it("that answer for the user <token> give an identity token, and a helper program runs once per process", async () => {
        const dir = scratchDir("credential-helper-bin-");
        const name = `fake-${process.pid}-${Date.now()}`;
        const count = path.join(dir, "count");
        writeFileSync(
            path.join(dir, `docker-credential-${name}`),
            `#!/bin/sh\ncat > /dev/null\necho asked >> '${count}'\necho '{"ServerURL":"acr.example.com","Username":"<token>","Secret":"refresh-2"}'\n`,
        );
        chmodSync(path.join(dir, `docker-credential-${name}`), 0o755);
        const configPath = path.join(dir, "config.json");
        writeFileSync(configPath, JSON.stringify({ credHelpers: { "acr.example.com": name } }));
        const pathBefore = process.env.PATH;
        process.env.PATH = `${dir}${path.delimiter}${pathBefore ?? ""}`;
        try {
            for (let service = 0; service < 3; service++) {
                const lookup = await loadCredentialLookup(configPath);
                assert.deepEqual(await lookup("acr.example.com"), { username: "", password: "", identityToken: "refresh-2" });
            }
        } finally {
            process.env.PATH = pathBefore;
        }
        assert.equal(readFileSync(count, "utf8"), "asked\n");
    });
});
