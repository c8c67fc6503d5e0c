// Which release set a rollback, drill or atomic undo returns to, and the config entries it writes:
// pure decisions over history rows and stack config, no stack involved.

import * as assert from "node:assert/strict";
import { holdEdit } from "../../cli/commands/rollback";
import { changedServices } from "../../cli/commands/up";
import type { UpdateRow } from "../../cli/core/history";
import { askedIn, chooseReleaseSet, describeLeft, leftAsTheyAre, pinEdit, type Target } from "../../cli/core/release";
import { checkEntries } from "../../cli/core/services";
import { SHOP } from "./fakes";

const D = SHOP.digests;

const row = (update: number, service: string, version: string, digest: string | null, result = "succeeded"): UpdateRow => ({
    update,
    service,
    time: "2025-04-01T00:00:00Z",
    kind: "update",
    result,
    version,
    digest,
    digestSource: digest ? "state" : null,
    image: service === "api" ? SHOP.api : SHOP.worker,
    commit: null,
    dirty: false,
    author: null,
    message: "",
});

// Newest first: #3 moved the worker to w2, #2 the api to v1.1.0 (the worker's digest unknown), #1 both first.
const ROWS = [
    row(3, "api", "v1.1.0", D["v1.1.0"]),
    row(3, "worker", "w2", D.w2),
    row(2, "api", "v1.1.0", D["v1.1.0"]),
    row(2, "worker", "w1", null),
    row(1, "api", "v1.0.0", D["v1.0.0"]),
    row(1, "worker", "w1", D.w1),
];

describe("cli release sets", () => {
    it("takes every service an update ran, or the one named, or the service that ran a version", () => {
        const pick = (to: string, service?: string) => {
            const set = chooseReleaseSet("prod", ROWS, to, service);
            return [set.update, set.targets.map((target) => `${target.service} ${target.version}`)];
        };
        assert.deepEqual(pick("1"), [1, ["api v1.0.0", "worker w1"]]);
        assert.deepEqual(pick("#1", "worker"), [1, ["worker w1"]]);
        assert.deepEqual(pick("w1"), [1, ["worker w1"]]);
        assert.deepEqual(pick("v1.1.0", "api"), [3, ["api v1.1.0"]]);
    });

    it("refuses a set it cannot return to as a whole, saying which service and why", () => {
        const table: [string, string | undefined, string][] = [
            ["2", undefined, "update #2 has no recorded digest (not pinned in config, and its state could not be read); nothing was changed"],
            ["9", "api", "no update #9 in this stack's history (it has 3 updates)"],
            ["w3", undefined, "no update in this stack's history ran version w3"],
        ];
        for (const [to, service, message] of table) {
            assert.throws(() => chooseReleaseSet("prod", ROWS, to, service), { message }, to);
        }
        const both = [row(2, "api", "v1", D["v1.0.0"]), row(2, "worker", "v1", D.w1)];
        assert.throws(() => chooseReleaseSet("prod", both, "v1"), { message: "version v1 ran in several services (api, worker): name one with --service" });
        const alone = [row(2, "api", "v1", D["v1.0.0"]), row(1, "worker", "w1", D.w1)];
        assert.throws(() => chooseReleaseSet("prod", alone, "2", "worker"), { message: "update #2 ran no service worker (it ran api)" });
    });

    it("names the services an update did not run, which a rollback of its whole set leaves as they are", () => {
        const set = chooseReleaseSet("prod", ROWS, "1");
        const table: [string[], string | undefined, string[], string | undefined][] = [
            [["api", "worker"], undefined, [], undefined],
            [["api", "worker", "web"], undefined, ["web"], "service web, which update #1 did not run, is left as it is"],
            [["web", "api", "cache", "worker"], undefined, ["cache", "web"], "services cache and web, which update #1 did not run, are left as they are"],
            [["api", "worker", "web"], "api", [], undefined],
        ];
        for (const [known, service, left, words] of table) {
            assert.deepEqual(leftAsTheyAre(ROWS, set, known, service), left, known.join(" "));
            assert.equal(left.length === 0 ? undefined : describeLeft(set.update, left), words);
        }
    });

    it("pins each target with the update it came from and what its args ask, and keeps the other services' pins; holds each, or lifts a hold on another digest", () => {
        const apiPin = { version: "v1.1.0", digest: D["v1.1.0"], update: 2, asked: { version: "v1.2.0" } };
        const config = { "released-service:pins": { api: apiPin }, "released-service:holds": { api: { digest: D["v1.1.0"] } } };
        const worker = row(1, "worker", "w1", D.w1) as Target;
        const asked = askedIn([{ name: "api", asked: { version: "v1.2.0" } }, { name: "worker", asked: { version: "w2", promoteFrom: "org/shop/dev" } }]);
        assert.deepEqual(pinEdit("prod", config, [worker], asked), {
            set: { "released-service:pins": { api: apiPin, worker: { version: "w1", digest: D.w1, update: 1, asked: { version: "w2", promoteFrom: "org/shop/dev" } } } },
            remove: [],
        });
        assert.throws(() => pinEdit("prod", config, [worker], askedIn([{ name: "worker" }])), {
            message:
                "the state of stack prod does not record what service worker's args ask (the input `asked` of its component; is " +
                "PULUMI_NODEJS_SKIP_COMPONENT_INPUTS set where it runs?), so a pin could not tell a change of them; nothing was changed",
        });
        const api = row(1, "api", "v1.0.0", D["v1.0.0"]) as Target;
        const held = holdEdit(config, { update: 1, targets: [api] }, { by: "Ada", at: new Date("2025-04-06T00:00:00Z"), reason: "INC-1" });
        assert.deepEqual(held.edit.set, { "released-service:holds": { api: { digest: D["v1.0.0"], by: "Ada", at: "2025-04-06T00:00:00Z", reason: "INC-1" } } });
        const lifted = holdEdit(config, { update: 1, targets: [api] }, undefined);
        assert.deepEqual([lifted.edit, lifted.lifted.map((lift) => lift.service)], [{ set: {}, remove: ["released-service:holds"] }, ["api"]]);
    });

    it("knows which services a failed update changed by the image their workload names", () => {
        const before = [
            { name: "api", deployedImage: `${SHOP.api}@${D["v1.1.0"]}` },
            { name: "worker", deployedImage: `${SHOP.worker}@${D.w2}` },
        ];
        const after = [before[0], { name: "worker", deployedImage: `${SHOP.worker}@${D.w1}` }];
        assert.deepEqual(changedServices(before, after), ["worker"]);
        assert.deepEqual(changedServices(before, before), []);
    });

    it("accepts well-formed entries of declared services", () => {
        const config = {
            "released-service:pins": { api: { version: "v1.1.0", digest: D["v1.1.0"], update: 2, asked: { version: "v1.2.0" } } },
            "released-service:holds": { worker: { digest: D.w1, by: "Ada" } },
        };
        assert.doesNotThrow(() => checkEntries("prod", config, ["api", "worker"]));
        // A pin being set records no `asked` yet.
        assert.doesNotThrow(() => checkEntries("prod", { "released-service:pins": { api: { version: "v1.1.0", digest: D["v1.1.0"], update: 2 } } }, ["api", "worker"]));
        assert.throws(() => checkEntries("prod", { "released-service:holds": { worker: { by: "Ada" } } }, ["api", "worker"]), /`released-service:holds.worker.digest`/);
    });

    it("reads entries written as JSON text, as the component does, and refuses text that is not an object", () => {
        assert.doesNotThrow(() => checkEntries("prod", { "released-service:pins": "{}" }, ["api", "worker"]));
        assert.throws(
            () => checkEntries("prod", { "released-service:pins": JSON.stringify({ api: { version: "v1.1.0", digest: "sha256:0" } }) }, ["api", "worker"]),
            /`released-service:pins.api.digest` must be sha256: followed by 64 lower-case hex digits/,
        );
        assert.throws(() => checkEntries("prod", { "released-service:pins": "api=v1" }, ["api"]), /`released-service:pins` must be an object keyed by service name \(got "api=v1"\)/);
    });
});
