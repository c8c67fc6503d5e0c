// Input checks as tables: each bad input is named with what is allowed, and several are reported together.
import * as assert from "node:assert/strict";

import { KNOWN_KEYS, StackConfigError, stackSettings } from "../../components/config/stackConfig";
import { FILE_BACKEND_ORGANIZATION } from "../../components/config/schema";
import { describeProblems, inputProblems } from "../../components/config/validate";

const VALID = { name: "app", image: "localhost:5000/payment-api", version: "v1" };
const DIGEST = `sha256:${"a".repeat(64)}`;

describe("input checks", () => {
    it("accept a minimal valid set", () => {
        assert.deepEqual(inputProblems(VALID), []);
    });

    it("accept every optional input at a legal edge", () => {
        const inputs = {
            ...VALID,
            digest: DIGEST,
            build: false,
            buildOnPreview: true,
            context: "services/payment",
            sourceVersion: "a3f2c8d",
            revisionHistoryLimit: 0,
            progressDeadlineSeconds: 1,
            namespace: "production",
            replicas: 0,
            port: 65535,
            readinessProbe: { httpGet: { path: "/healthz", port: 65535 }, initialDelaySeconds: 0, periodSeconds: 1, failureThreshold: 1 },
            registryUsername: "ci",
            registryPassword: "s3cret",
            hold: { digest: DIGEST, by: "Release Engineer <release@example.com>", at: "2026-11-23T10:00:00Z", reason: "rollback to #3" },
        };
        assert.deepEqual(inputProblems(inputs), []);
        assert.deepEqual(inputProblems({ ...VALID, hold: { digest: DIGEST } }), []);
        assert.deepEqual(inputProblems({ name: "app", image: VALID.image, promoteFrom: "acme/released-service/staging" }), []);
    });

    const cases: [string, Record<string, unknown>, string][] = [
        ["image missing", { image: undefined }, "`image` is required: the repository to push to and run from, e.g. localhost:5000/payment-api"],
        ["image with a tag", { image: "localhost:5000/payment-api:v1" }, '`image` must be a repository without a tag; set `version` instead (got "localhost:5000/payment-api:v1")'],
        ["image upper case", { image: "Payment-API" }, '`image` must be a lower-case image repository such as localhost:5000/payment-api (got "Payment-API")'],
        ["image not a string", { image: 5 }, "`image` must be a string (got 5)"],
        ["version missing", { version: undefined }, "`version` is required unless `promoteFrom` is set: a release tag such as v2.4.1 or a git SHA"],
        ["version latest", { version: "latest" }, "`version` must name a release, not `latest` (a tag that moves with every push)"],
        ["version empty", { version: "" }, "`version` must not be empty"],
        ["version too long", { version: "v".repeat(129) }, "`version` must be at most 128 characters (got 129)"],
        ["version with a space", { version: "v1 0" }, '`version` must be a valid image tag: letters, digits, \'_\', \'.\' and \'-\', not starting with \'.\' or \'-\' (got "v1 0")'],
        ["digest without algorithm", { digest: "a".repeat(64) }, `\`digest\` must be sha256: followed by 64 lower-case hex digits (got "${"a".repeat(64)}")`],
        ["digest upper case", { digest: `sha256:${"A".repeat(64)}` }, `\`digest\` must be sha256: followed by 64 lower-case hex digits (got "sha256:${"A".repeat(64)}")`],
        [
            "promoteFrom not org/project/stack",
            { promoteFrom: "staging" },
            '`promoteFrom` must name a stack as <organization>/<project>/<stack>, on a file backend organization/<project>/<stack> (got "staging")',
        ],
        ["digest and promoteFrom", { digest: DIGEST, promoteFrom: "a/b/c" }, "`digest` and `promoteFrom` exclude each other: pin a digest or promote from a stack, not both"],
        ["build not boolean", { build: "no" }, '`build` must be true or false (got "no")'],
        ["buildOnPreview not boolean", { buildOnPreview: 1 }, "`buildOnPreview` must be true or false (got 1)"],
        ["context empty", { context: " " }, "`context` must not be empty"],
        ["sourceVersion latest", { sourceVersion: "latest" }, "`sourceVersion` must name a release, not `latest` (a tag that moves with every push)"],
        ["revisionHistoryLimit negative", { revisionHistoryLimit: -1 }, "`revisionHistoryLimit` must be a whole number from 0 to 2147483647 (got -1)"],
        ["revisionHistoryLimit fraction", { revisionHistoryLimit: 1.5 }, "`revisionHistoryLimit` must be a whole number from 0 to 2147483647 (got 1.5)"],
        ["progressDeadlineSeconds 0", { progressDeadlineSeconds: 0 }, "`progressDeadlineSeconds` must be a whole number from 1 to 2147483647 (got 0)"],
        ["progressDeadlineSeconds beyond int32", { progressDeadlineSeconds: 2 ** 31 }, "`progressDeadlineSeconds` must be a whole number from 1 to 2147483647 (got 2147483648)"],
        ["progressDeadlineSeconds text", { progressDeadlineSeconds: "10m" }, '`progressDeadlineSeconds` must be a whole number from 1 to 2147483647 (got "10m")'],
        ["replicas text", { replicas: "three" }, '`replicas` must be a whole number from 0 to 2147483647 (got "three")'],
        ["port 0", { port: 0 }, "`port` must be a whole number from 1 to 65535 (got 0)"],
        ["port 65536", { port: 65536 }, "`port` must be a whole number from 1 to 65535 (got 65536)"],
        ["namespace upper case", { namespace: "Prod" }, '`namespace` must be a Kubernetes namespace: lower-case letters, digits and \'-\', at most 63 characters (got "Prod")'],
        ["name upper case", { name: "App" }, '`name` must be a DNS label: lower-case letters, digits and \'-\', starting with a letter, at most 54 characters (got "App")'],
        ["name too long", { name: "a".repeat(55) }, `\`name\` must be a DNS label: lower-case letters, digits and '-', starting with a letter, at most 54 characters (got "${"a".repeat(55)}")`],
        ["hold not an object", { hold: DIGEST }, `\`hold\` must be an object with \`digest\` and, if wanted, \`by\`, \`at\` and \`reason\` (got "${DIGEST}")`],
        ["hold an array", { hold: [DIGEST] }, "`hold` must be an object with `digest` and, if wanted, `by`, `at` and `reason` (got an array)"],
        ["hold null", { hold: null }, "`hold` must be an object with `digest` and, if wanted, `by`, `at` and `reason` (got null)"],
        ["hold without digest", { hold: { by: "ci" } }, "`hold.digest` is required: the digest the stack keeps running, sha256: followed by 64 hex digits"],
        ["hold digest short", { hold: { digest: "sha256:abc" } }, '`hold.digest` must be sha256: followed by 64 lower-case hex digits (got "sha256:abc")'],
        ["hold by not text", { hold: { digest: DIGEST, by: 7 } }, "`hold.by` must be a string (got 7)"],
        ["hold at not text", { hold: { digest: DIGEST, at: { day: 1 } } }, "`hold.at` must be a string (got an object)"],
        ["hold reason not text", { hold: { digest: DIGEST, reason: false } }, "`hold.reason` must be a string (got false)"],
        ["hold with an unknown field", { hold: { digest: DIGEST, until: "friday" } }, "`hold.until` is not a field of a hold (known: digest, by, at, reason)"],
        ["readinessProbe not an object", { readinessProbe: "/healthz" }, '`readinessProbe` must be a readiness probe (got "/healthz")'],
        [
            "readinessProbe with an unknown field",
            { readinessProbe: { httpget: { path: "/" } } },
            "`readinessProbe` has a field `httpget` that is not a readiness probe's (known: httpGet, tcpSocket, exec, initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold, failureThreshold)",
        ],
        ["readinessProbe httpGet without path", { readinessProbe: { httpGet: { port: 8080 } } }, "`readinessProbe` `.httpGet` must have `path`"],
        ["readinessProbe httpGet relative path", { readinessProbe: { httpGet: { path: "healthz" } } }, '`readinessProbe` `.httpGet` `.path` must start with / (got "healthz")'],
        ["readinessProbe named port", { readinessProbe: { tcpSocket: { port: "http" } } }, '`readinessProbe` `.tcpSocket` `.port` must be a whole number from 1 to 65535 (got "http")'],
        ["readinessProbe exec without command", { readinessProbe: { exec: { command: [] } } }, "`readinessProbe` `.exec` `.command` must be a non-empty list of strings (got an array)"],
        ["readinessProbe period 0", { readinessProbe: { periodSeconds: 0 } }, "`readinessProbe` `.periodSeconds` must be a whole number from 1 to 2147483647 (got 0)"],
        [
            "readinessProbe with two checks",
            { readinessProbe: { httpGet: { path: "/" }, tcpSocket: {} } },
            "`readinessProbe` must have one of httpGet, tcpSocket, exec, not httpGet and tcpSocket",
        ],
        ["username without password", { registryUsername: "ci" }, "`registryUsername` and `registryPassword` go together: set both or neither"],
    ];
    for (const [title, change, problem] of cases) {
        it(`refuse ${title}`, () => {
            assert.deepEqual(inputProblems({ ...VALID, ...change }), [problem]);
        });
    }

    it("report every problem of a hold, each field named", () => {
        assert.deepEqual(inputProblems({ ...VALID, hold: { Digest: DIGEST, constructor: "x", by: ["ci"] } }), [
            "`hold.Digest` is not a field of a hold (known: digest, by, at, reason)",
            "`hold.constructor` is not a field of a hold (known: digest, by, at, reason)",
            "`hold.by` must be a string (got an array)",
            "`hold.digest` is required: the digest the stack keeps running, sha256: followed by 64 hex digits",
        ]);
        assert.deepEqual(inputProblems({ ...VALID, hold: Object.create(null) }), [
            "`hold.digest` is required: the digest the stack keeps running, sha256: followed by 64 hex digits",
        ]);
    });

    it("report several problems in one message", () => {
        const problems = inputProblems({ ...VALID, version: "latest", port: 0 });
        assert.equal(
            describeProblems(problems),
            "2 invalid inputs:\n" +
                "  - `version` must name a release, not `latest` (a tag that moves with every push)\n" +
                "  - `port` must be a whole number from 1 to 65535 (got 0)",
        );
    });
});

describe("stack config", () => {
    it("turns config text into typed inputs, with the defaults of the contract", () => {
        const settings = stackSettings({
            image: "localhost:5000/payment-api",
            version: "v2.4.1",
            build: "false",
            replicas: "3",
            port: "9090",
            revisionHistoryLimit: "0",
            progressDeadlineSeconds: "2147483647",
        });
        assert.deepEqual(settings, {
            name: "app",
            args: {
                image: "localhost:5000/payment-api",
                version: "v2.4.1",
                build: false,
                revisionHistoryLimit: 0,
                progressDeadlineSeconds: 2147483647,
                replicas: 3,
                port: 9090,
            },
        });
    });

    it("knows the per-service pins and holds the component reads itself, and no single hold key", () => {
        assert.ok(KNOWN_KEYS.includes("pins") && KNOWN_KEYS.includes("holds"));
        assert.throws(() => stackSettings({ image: "localhost:5000/payment-api", version: "v1" }, undefined, { keys: ["image", "version", "hold"] }), {
            name: "StackConfigError",
            message: `\`hold\` is not a released-service setting (known: ${KNOWN_KEYS.join(", ")}); did you mean \`holds\`?`,
        });
    });

    it("refuses a key nothing reads, suggesting the nearest known key", () => {
        assert.throws(
            () => stackSettings({ image: "localhost:5000/payment-api", version: "v2.4.1" }, undefined, { keys: ["image", "verison", "colour"] }),
            {
                name: "StackConfigError",
                message:
                    "2 invalid inputs:\n" +
                    `  - \`verison\` is not a released-service setting (known: ${KNOWN_KEYS.join(", ")}); did you mean \`version\`?\n` +
                    `  - \`colour\` is not a released-service setting (known: ${KNOWN_KEYS.join(", ")})`,
            },
        );
    });

    it("accepts only organization/<project>/<stack> for promoteFrom on a file backend", () => {
        const promote = (promoteFrom: string) => inputProblems({ name: "app", image: VALID.image, promoteFrom }, FILE_BACKEND_ORGANIZATION);
        assert.deepEqual(promote("organization/released-service/staging"), []);
        assert.deepEqual(promote("acme/released-service/staging"), [
            "`promoteFrom` must be organization/released-service/staging on a file backend, whose only organization is `organization` " +
                '(got "acme/released-service/staging")',
        ]);
        assert.deepEqual(inputProblems({ name: "app", image: VALID.image, promoteFrom: "acme/released-service/staging" }, "acme"), []);
    });

    it("refuses wrong types with the key named, all at once", () => {
        assert.throws(
            () => stackSettings({ image: "localhost:5000/payment-api", version: "v1", replicas: "three", revisionHistoryLimit: "1.5", build: "yes" }),
            (err: unknown) =>
                err instanceof StackConfigError &&
                err.message ===
                    "3 invalid inputs:\n" +
                        '  - `build` must be true or false (got "yes")\n' +
                        "  - `revisionHistoryLimit` must be a whole number from 0 to 2147483647 (got 1.5)\n" +
                        '  - `replicas` must be a whole number from 0 to 2147483647 (got "three")',
        );
    });
});
