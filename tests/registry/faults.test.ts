// A registry that throttles, fails for a moment, resets connections, answers late or stays down:
// what the client asks again, how long it waits (on a clock whose waits take no time), and what
// it says when it gives up.

import * as assert from "node:assert/strict";

import {
    BACKOFF_FIRST_MS,
    backoffMs,
    MAX_TRIES,
    RegistryClient,
    type RegistryClientOptions,
    RegistryError,
    RegistrySession,
    retryAfterMs,
} from "../../components/registry/client";
import { parseDigestReference } from "../../cli/core/reference";
import { type Fault, type FaultyRegistry, startFaultyRegistry, TestClock } from "../support/faultyRegistry";
import { freePort } from "../support/registryServer";

const REPO = "team/app";

describe("registry faults", () => {
    let registry: FaultyRegistry | undefined;
    afterEach(async () => {
        await registry?.close();
        registry = undefined;
    });

    async function serve(faults: readonly Fault[], always?: Fault): Promise<FaultyRegistry> {
        registry = await startFaultyRegistry({ faults, always });
        return registry;
    }

    function clientOn(clock: TestClock, options: RegistryClientOptions = {}): RegistryClient {
        return new RegistryClient({ session: new RegistrySession(clock), labelsCache: false, ...options });
    }

    describe("the wait before asking again", () => {
        it("is a Retry-After in seconds or as an HTTP date, else an exponential backoff with jitter", () => {
            const now = Date.UTC(2026, 0, 5, 9, 0, 0);
            const table: [string | undefined, number | undefined][] = [
                ["1", 1000],
                [" 120 ", 120_000],
                ["0", 0],
                [new Date(now + 3000).toUTCString(), 3000],
                ["Monday, 05-Jan-26 09:00:07 GMT", 7000],
                [new Date(now - 60_000).toUTCString(), 0],
                [undefined, undefined],
                ["soon", undefined],
                ["1.5", undefined],
                ["-1", undefined],
            ];
            for (const [header, expected] of table) {
                assert.equal(retryAfterMs(header, now), expected, String(header));
            }
            assert.deepEqual(
                [1, 2, 3, 4, 5, 6].map((tried) => backoffMs(tried, 0.5)),
                [1000, 2000, 4000, 8000, 10_000, 10_000],
            );
            assert.deepEqual([backoffMs(1, 0), backoffMs(1, 0.999), backoffMs(4, 0)], [750, 1250, 6000]);
        });
    });

    describe("retried, then answered", () => {
        const cases: { name: string; faults: Fault[]; waits: (clock: TestClock) => number[] }[] = [
            { name: "a 429 with Retry-After in seconds", faults: [{ status: 429, retryAfter: "1" }], waits: () => [1000] },
            {
                name: "a 429 with Retry-After as an HTTP date",
                faults: [{ status: 429, retryAfter: new Date(new TestClock().now() + 3000).toUTCString() }],
                waits: () => [3000],
            },
            { name: "a 503 from a load balancer, after a backoff", faults: [{ status: 503 }], waits: () => [BACKOFF_FIRST_MS] },
            { name: "a 502, then a 504", faults: [{ status: 502 }, { status: 504 }], waits: () => [1000, 2000] },
            { name: "a 500", faults: [{ status: 500 }], waits: () => [1000] },
            { name: "a reset connection", faults: [{ reset: true }], waits: () => [1000] },
        ];
        for (const { name, faults, waits } of cases) {
            it(`after ${name}`, async () => {
                const served = await serve(faults);
                const clock = new TestClock();
                assert.equal(await clientOn(clock).digestOfTag({ registry: served.host, repository: REPO }, "v1"), served.digest);
                assert.deepEqual(served.requests, Array.from({ length: faults.length + 1 }, () => `HEAD /v2/${REPO}/manifests/v1`));
                assert.deepEqual(clock.waits, waits(clock));
            });
        }

        it("really waits: a Retry-After of one second holds the next try back at least a second", async () => {
            const served = await serve([{ status: 429, retryAfter: "1" }]);
            const client = new RegistryClient({ session: new RegistrySession(), labelsCache: false });
            const started = performance.now();
            assert.equal(await client.digestOfTag({ registry: served.host, repository: REPO }, "v1"), served.digest);
            assert.ok(performance.now() - started >= 999, `asked again after ${performance.now() - started} ms`);
            assert.equal(served.requests.length, 2);
        });

        it("waits for a slow answer, and asks again after one slower than the timeout", async () => {
            const slow = await serve([{ delayMs: 100 }]);
            const clock = new TestClock();
            assert.equal(await clientOn(clock, { timeoutMs: 2000 }).digestOfTag({ registry: slow.host, repository: REPO }, "v1"), slow.digest);
            assert.deepEqual([slow.requests.length, clock.waits], [1, []]);
            await slow.close();

            const slower = await serve([{ delayMs: 400 }]);
            const again = new TestClock();
            assert.equal(await clientOn(again, { timeoutMs: 150 }).digestOfTag({ registry: slower.host, repository: REPO }, "v1"), slower.digest);
            assert.deepEqual([slower.requests.length, again.waits], [2, [1000]]);
        });

        it("takes a 404 after a 503 as not there", async () => {
            const served = await serve([{ status: 503 }]);
            assert.equal(await clientOn(new TestClock()).digestOfTag({ registry: served.host, repository: REPO }, "v9"), undefined);
            assert.equal(served.requests.length, 2);
        });

        it("makes every request to the registry wait out the Retry-After one of them met, from any client", async () => {
            const served = await serve([{ status: 429, retryAfter: "2" }]);
            const clock = new TestClock(true);
            const session = new RegistrySession(clock);
            const first = new RegistryClient({ session, labelsCache: false }).digestOfTag({ registry: served.host, repository: REPO }, "v1");
            await clock.sleeping(1);
            const second = new RegistryClient({ session, labelsCache: false }).digestOfTag({ registry: served.host, repository: "team/other" }, "v1");
            await clock.sleeping(2);
            assert.deepEqual(served.requests, [`HEAD /v2/${REPO}/manifests/v1`], "the second request waits, unsent");
            clock.advance(2000);
            assert.deepEqual(await Promise.all([first, second]), [served.digest, served.digest]);
            assert.deepEqual(served.requests.slice(1).sort(), [`HEAD /v2/${REPO}/manifests/v1`, "HEAD /v2/team/other/manifests/v1"]);
            assert.deepEqual(clock.waits, [2000, 2000]);
        });
    });

    describe("not retried", () => {
        it("an answer that will not change: a 501 is said at once", async () => {
            const served = await serve([{ status: 501 }]);
            const clock = new TestClock();
            await assert.rejects(clientOn(clock).digestOfTag({ registry: served.host, repository: REPO }, "v1"), {
                message: `registry ${served.host} answered HTTP 501 for ${REPO}:v1`,
            });
            assert.deepEqual([served.requests.length, clock.waits], [1, []]);
        });

        it("a refused connection: nothing listens there, and the preview says so at once", async () => {
            const port = await freePort();
            const clock = new TestClock();
            await assert.rejects(clientOn(clock).digestOfTag({ registry: `127.0.0.1:${port}`, repository: REPO }, "v1"), (error: unknown) => {
                assert.ok(error instanceof RegistryError && error.unreachable);
                assert.equal(error.message, `cannot reach registry 127.0.0.1:${port}: connection refused`);
                return true;
            });
            assert.deepEqual(clock.waits, []);
        });
    });

    describe("given up on", () => {
        const digest = `sha256:${"e".repeat(64)}`;
        const cases: { name: string; always: Fault; options?: RegistryClientOptions; requests: number; waits: number[]; message: (host: string) => string }[] = [
            {
                name: "a registry that answers 503 to every try",
                always: { status: 503 },
                requests: MAX_TRIES,
                waits: [1000, 2000, 4000, 8000],
                message: (host) => `registry ${host} answered HTTP 503 for ${REPO}@${digest} (5 tries over 15.0 s)`,
            },
            {
                name: "a registry that throttles every try",
                always: { status: 429, retryAfter: "2" },
                requests: MAX_TRIES,
                waits: [2000, 2000, 2000, 2000],
                message: (host) => `registry ${host} answered HTTP 429 (Retry-After: 2) for ${REPO}@${digest} (5 tries over 8.0 s)`,
            },
            {
                name: "a Retry-After longer than the request may take, at once",
                always: { status: 429, retryAfter: "120" },
                requests: 1,
                waits: [],
                message: (host) => `registry ${host} answered HTTP 429 (Retry-After: 120) for ${REPO}@${digest}: waiting 120 s would pass the 45 s a request may take (1 try over 0.0 s)`,
            },
            {
                name: "a Retry-After that would pass the time the request has left",
                always: { status: 503, retryAfter: "20" },
                requests: 3,
                waits: [20_000, 20_000],
                message: (host) => `registry ${host} answered HTTP 503 (Retry-After: 20) for ${REPO}@${digest}: waiting 20 s would pass the 45 s a request may take (3 tries over 40.0 s)`,
            },
            {
                name: "a registry that resets every connection",
                always: { reset: true },
                requests: MAX_TRIES,
                waits: [1000, 2000, 4000, 8000],
                message: (host) => `cannot reach registry ${host}: connection reset (5 tries over 15.0 s)`,
            },
            {
                name: "a registry that never answers",
                always: { silent: true },
                options: { timeoutMs: 100 },
                requests: MAX_TRIES,
                waits: [1000, 2000, 4000, 8000],
                message: (host) => `cannot reach registry ${host}: no answer within 0.1 s (5 tries over 15.0 s)`,
            },
        ];
        for (const { name, always, options, requests, waits, message } of cases) {
            it(name, async () => {
                const served = await serve([], always);
                const clock = new TestClock();
                const reference = parseDigestReference(`${served.host}/${REPO}@${digest}`);
                await assert.rejects(clientOn(clock, options).manifestState(reference), (error: unknown) => {
                    assert.ok(error instanceof RegistryError);
                    assert.equal(error.message, message(served.host));
                    assert.equal(error.unreachable, !("status" in always));
                    return true;
                });
                assert.equal(served.requests.length, requests);
                assert.deepEqual(clock.waits, waits);
            });
        }

        it("asks a registry that has just failed another request once, and one that gave no answer not at all", async () => {
            const failing = await serve([], { status: 503 });
            const client = clientOn(new TestClock());
            const location = { registry: failing.host, repository: REPO };
            await assert.rejects(client.digestOfTag(location, "v1"), { message: `registry ${failing.host} answered HTTP 503 for ${REPO}:v1 (5 tries over 15.0 s)` });
            await assert.rejects(client.digestOfTag(location, "v2"), {
                message: `registry ${failing.host} answered HTTP 503 for ${REPO}:v2 (1 try: it had just failed another request 5 times over 15.0 s)`,
            });
            assert.equal(failing.requests.length, MAX_TRIES + 1);
            await failing.close();

            const down = await serve([], { reset: true });
            const gone = clientOn(new TestClock());
            const message = `cannot reach registry ${down.host}: connection reset (5 tries over 15.0 s)`;
            await assert.rejects(gone.digestOfTag({ registry: down.host, repository: REPO }, "v1"), { message });
            await assert.rejects(gone.digestOfTag({ registry: down.host, repository: REPO }, "v2"), { message });
            assert.equal(down.requests.length, MAX_TRIES);
        });

        it("asks with every try again once the registry answers", async () => {
            const served = await serve([...Array.from({ length: MAX_TRIES }, () => ({ status: 503 })), { delayMs: 0 }, { status: 503 }]);
            const client = clientOn(new TestClock());
            const location = { registry: served.host, repository: REPO };
            await assert.rejects(client.digestOfTag(location, "v1"));
            assert.equal(await client.digestOfTag(location, "v1"), served.digest);
            assert.equal(await client.digestOfTag(location, "v1"), served.digest);
            assert.equal(served.requests.length, MAX_TRIES + 3);
        });
    });
});
