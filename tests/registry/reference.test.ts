// The image reference grammar, as tables: what is accepted and the exact words for what is not.
import * as assert from "node:assert/strict";

import {
    digestProblem,
    normalizeDigest,
    pinnedRef,
    registryHost,
    repositoryProblem,
    splitRepository,
    tagProblem,
} from "../../components/registry/reference";

const HEX = "9c1e3a5b7d2f4e6a8c0b1d3f5e7a9c2b4d6f8e0a1c3e5a7b9d2f4c6e8a0b2d4f";

describe("reference grammar", () => {
    describe("tags", () => {
        for (const tag of ["v2.4.1", "a3f2c8d", "1", "_x", "V1-rc.1", "x".repeat(128)]) {
            it(`accepts ${JSON.stringify(tag.length > 20 ? `${tag.slice(0, 8)}… (${tag.length})` : tag)}`, () => {
                assert.equal(tagProblem(tag), undefined);
            });
        }
        const refused: [string, string][] = [
            ["", "must not be empty"],
            ["latest", "must name a release, not `latest` (a tag that moves with every push)"],
            ["v1 0", 'must be a valid image tag: letters, digits, \'_\', \'.\' and \'-\', not starting with \'.\' or \'-\' (got "v1 0")'],
            [".v1", 'must be a valid image tag: letters, digits, \'_\', \'.\' and \'-\', not starting with \'.\' or \'-\' (got ".v1")'],
            ["-v1", 'must be a valid image tag: letters, digits, \'_\', \'.\' and \'-\', not starting with \'.\' or \'-\' (got "-v1")'],
            ["v1/2", 'must be a valid image tag: letters, digits, \'_\', \'.\' and \'-\', not starting with \'.\' or \'-\' (got "v1/2")'],
            ["x".repeat(129), "must be at most 128 characters (got 129)"],
        ];
        for (const [tag, problem] of refused) {
            it(`refuses ${JSON.stringify(tag.slice(0, 12))}`, () => {
                assert.equal(tagProblem(tag), problem);
            });
        }
    });

    describe("digests", () => {
        it("accepts sha256 and 64 lower-case hex digits", () => {
            assert.equal(digestProblem(`sha256:${HEX}`), undefined);
        });
        for (const digest of [HEX, `sha256:${HEX.toUpperCase()}`, `sha256:${HEX.slice(1)}`, `sha512:${HEX}`, `sha256:${HEX}0`]) {
            it(`refuses ${digest.slice(0, 14)}…`, () => {
                assert.equal(
                    digestProblem(digest),
                    `must be sha256: followed by 64 lower-case hex digits (got ${JSON.stringify(digest)})`,
                );
            });
        }
    });

    describe("repositories", () => {
        for (const repo of ["localhost:5000/payment-api", "payment-api", "ghcr.io/acme/payment_api", "registry.example.com/a/b/c", "a__b", "a.b-c"]) {
            it(`accepts ${repo}`, () => {
                assert.equal(repositoryProblem(repo), undefined);
            });
        }
        const refused: [string, string][] = [
            ["", "must not be empty"],
            ["localhost:5000/payment-api:v1", 'must be a repository without a tag; set `version` instead (got "localhost:5000/payment-api:v1")'],
            [`payment-api@sha256:${HEX}`, `must be a repository without a digest; set \`digest\` instead (got "payment-api@sha256:${HEX}")`],
            ["localhost:5000/Payment-api", 'must be a lower-case image repository such as localhost:5000/payment-api (got "localhost:5000/Payment-api")'],
            ["payment api", 'must be a lower-case image repository such as localhost:5000/payment-api (got "payment api")'],
            ["acme//api", 'must be a lower-case image repository such as localhost:5000/payment-api (got "acme//api")'],
            ["-api", 'must be a lower-case image repository such as localhost:5000/payment-api (got "-api")'],
            ["a".repeat(256), "must be at most 255 characters (got 256)"],
        ];
        for (const [repo, problem] of refused) {
            it(`refuses ${JSON.stringify(repo.slice(0, 40))}`, () => {
                assert.equal(repositoryProblem(repo), problem);
            });
        }
        it("finds the registry host the way Docker does", () => {
            assert.deepEqual(splitRepository("localhost:5000/payment-api"), { host: "localhost:5000", path: "payment-api" });
            assert.deepEqual(splitRepository("localhost/payment-api"), { host: "localhost", path: "payment-api" });
            assert.deepEqual(splitRepository("acme/payment-api"), { path: "acme/payment-api" });
            assert.equal(registryHost("ghcr.io/acme/api"), "ghcr.io");
            assert.equal(registryHost("acme/api"), "docker.io");
        });
    });

    it("writes a pinned reference as repository@digest", () => {
        assert.equal(pinnedRef("localhost:5000/payment-api", `sha256:${HEX}`), `localhost:5000/payment-api@sha256:${HEX}`);
    });

    it("carries the algorithm prefix on every digest", () => {
        assert.equal(normalizeDigest(HEX), `sha256:${HEX}`);
        assert.equal(normalizeDigest(`sha256:${HEX}`), `sha256:${HEX}`);
    });
});
