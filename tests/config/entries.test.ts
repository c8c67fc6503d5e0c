// The per-service pins and holds the component reads from its config namespace: each bad entry is
// named down to its field, and only the named service's entries apply to it.
import * as assert from "node:assert/strict";

import { serviceEntries } from "../../components/config/entries";

const DIGEST = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;

describe("per-service config entries", () => {
    it("reads the named service's pin and hold, and nothing of another service", () => {
        const apiPin = { version: "v1.0.0", digest: DIGEST, update: 3, asked: { version: "v2.0.0" } };
        const workerPin = { version: "v9", digest: OTHER, update: 1, asked: { promoteFrom: "org/shop/dev" } };
        const pins = JSON.stringify({ api: apiPin, worker: workerPin });
        const holds = JSON.stringify({ api: { digest: DIGEST, by: "Ada", at: "2026-11-23T10:00:00Z", reason: "INC-1" } });
        assert.deepEqual(serviceEntries("api", { pins, holds }), {
            entries: { pin: apiPin, hold: { digest: DIGEST, by: "Ada", at: "2026-11-23T10:00:00Z", reason: "INC-1" } },
            problems: [],
        });
        assert.deepEqual(serviceEntries("worker", { pins, holds }), { entries: { pin: workerPin, hold: undefined }, problems: [] });
        assert.deepEqual(serviceEntries("web", { pins, holds }), { entries: { pin: undefined, hold: undefined }, problems: [] });
        assert.deepEqual(serviceEntries("web", {}), { entries: { pin: undefined, hold: undefined }, problems: [] });
    });

    it("reads a pin being set, which records no `asked` yet (its command records it after its preview)", () => {
        const being = { version: "v1.0.0", digest: DIGEST, update: 3 };
        assert.deepEqual(serviceEntries("api", { pins: JSON.stringify({ api: being }) }), { entries: { pin: being, hold: undefined }, problems: [] });
    });

    const cases: [string, { pins?: string; holds?: string }, string[]][] = [
        ["pins not JSON", { pins: "api=v1" }, ['`released-service:pins` must be an object keyed by service name (got "api=v1")']],
        ["holds an array", { holds: "[]" }, ["`released-service:holds` must be an object keyed by service name (got an array)"]],
        ["a pin that is text", { pins: JSON.stringify({ api: "v1" }) }, ['`released-service:pins.api` must be an object with `version`, `digest`, `update` and `asked` (got "v1")']],
        [
            "a malformed pin digest",
            { pins: JSON.stringify({ api: { version: "v1", digest: "sha256:abc", update: 1, asked: {} } }) },
            ['`released-service:pins.api.digest` must be sha256: followed by 64 lower-case hex digits (got "sha256:abc")'],
        ],
        [
            "a pin without a version, with a stray field",
            { pins: JSON.stringify({ api: { digest: DIGEST, tag: "v1", update: 1, asked: {} } }) },
            ["`released-service:pins.api.tag` is not a field of a pin (known: version, digest, update, asked)", "`released-service:pins.api.version` is required"],
        ],
        [
            "a pin of latest",
            { pins: JSON.stringify({ api: { version: "latest", digest: DIGEST, update: 1, asked: {} } }) },
            ["`released-service:pins.api.version` must name a release, not `latest` (a tag that moves with every push)"],
        ],
        [
            "a pin without the update it came from (what the args asked may come later: the pin is being set)",
            { pins: JSON.stringify({ api: { version: "v1", digest: DIGEST } }) },
            ["`released-service:pins.api.update` is required: the number of the update whose release the pin runs"],
        ],
        [
            "a pin of update 0, and args asked as text, or with a field that is not a release's",
            { pins: JSON.stringify({ api: { version: "v1", digest: DIGEST, update: 0, asked: "v2" } }), holds: undefined },
            [
                "`released-service:pins.api.update` must be an update number, an integer from 1 (got 0)",
                '`released-service:pins.api.asked` must be an object with the args\' `version`, `digest` or `promoteFrom` (got "v2")',
            ],
        ],
        [
            "what the args asked with a stray field and a number",
            { pins: JSON.stringify({ api: { version: "v1", digest: DIGEST, update: 2, asked: { image: "x", version: 2 } } }) },
            [
                "`released-service:pins.api.asked.image` is not a release field of the args (known: version, digest, promoteFrom)",
                "`released-service:pins.api.asked.version` must be a string (got 2)",
            ],
        ],
        [
            "a hold without a digest",
            { holds: JSON.stringify({ api: { by: "Ada" } }) },
            ["`released-service:holds.api.digest` is required: the digest the stack keeps running, sha256: followed by 64 hex digits"],
        ],
        [
            "a hold that is text",
            { holds: JSON.stringify({ api: DIGEST }) },
            [`\`released-service:holds.api\` must be an object with \`digest\` and, if wanted, \`by\`, \`at\` and \`reason\` (got "${DIGEST}")`],
        ],
    ];
    for (const [title, config, problems] of cases) {
        it(`refuses ${title}, naming the field`, () => {
            assert.deepEqual(serviceEntries("api", config), { entries: {}, problems });
        });
    }
});
