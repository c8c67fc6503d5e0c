// The build decision, without mocks: the stack's last build answers an unchanged source alone; any
// other source is decided from what its release tags hold.
import * as assert from "node:assert/strict";

import { SERVICE_LABEL, SOURCE_DIGEST_LABEL, STACK_LABEL } from "../../components/labels";
import { type BuildPlan, planBuild, planFromLastBuild, recordedBuild, type TagHolding } from "../../components/release/plan";

const OURS: Record<string, string> = {
    "org.opencontainers.image.version": "v2.0.0",
    "org.opencontainers.image.revision": "a3f2c8d0000000000000000000000000000000000",
    [SOURCE_DIGEST_LABEL]: `sha256:${"5".repeat(64)}`,
    [STACK_LABEL]: "organization/released-service/dev",
    [SERVICE_LABEL]: "app",
};
const LAST = `sha256:${"1".repeat(64)}`;
const OTHER = `sha256:${"2".repeat(64)}`;

const without = (key: string): Record<string, string> => Object.fromEntries(Object.entries(OURS).filter(([k]) => k !== key));
const holding = (tag: string, digest: string, labels: Record<string, string>): TagHolding => ({ tag, digest, labels });

describe("the build plan", () => {
    describe("from the stack's last build", () => {
        const cases: [string, TagHolding | undefined, BuildPlan | undefined][] = [
            ["no stack tag yet: ask the release tags", undefined, undefined],
            ["every label of ours: unchanged, its digest runs", holding("stack.dev.app", LAST, OURS), { kind: "unchanged", digest: LAST, proven: true }],
            [
                "every label of ours, as the state records: unchanged, its digest not yet proven",
                { ...holding("stack.dev.app", LAST, OURS), recorded: true },
                { kind: "unchanged", digest: LAST, proven: false },
            ],
            [
                "labels of ours and a base image's own: unchanged",
                holding("stack.dev.app", LAST, { ...OURS, maintainer: "base" }),
                { kind: "unchanged", digest: LAST, proven: true },
            ],
            ["other source: ask", holding("stack.dev.app", LAST, { ...OURS, [SOURCE_DIGEST_LABEL]: `sha256:${"6".repeat(64)}` }), undefined],
            ["the same source under another version: ask", holding("stack.dev.app", LAST, { ...OURS, "org.opencontainers.image.version": "v1.0.0" }), undefined],
            ["another commit of the same files: ask", holding("stack.dev.app", LAST, { ...OURS, "org.opencontainers.image.revision": "b".repeat(40) }), undefined],
            ["another stack's build: ask", holding("stack.dev.app", LAST, { ...OURS, [STACK_LABEL]: "organization/released-service/prod" }), undefined],
            ["a label of ours missing: ask", holding("stack.dev.app", LAST, without(SERVICE_LABEL)), undefined],
        ];
        for (const [what, lastBuild, plan] of cases) {
            it(what, () => assert.deepEqual(planFromLastBuild(lastBuild, OURS), plan));
        }
    });

    describe("the stack's last build as its state records it", () => {
        const cases: [string, Record<string, unknown> | undefined, TagHolding | undefined][] = [
            ["no Image in the state", undefined, undefined],
            ["an Image that pushed: its digest and labels", { digest: LAST, labels: OURS, contextHash: "x" }, { ...holding("stack.dev.app", LAST, OURS), recorded: true }],
            ["a digest without its algorithm: normalized", { digest: "1".repeat(64), labels: OURS }, { ...holding("stack.dev.app", LAST, OURS), recorded: true }],
            ["an Image a preview left without a digest: none", { digest: "", labels: OURS }, undefined],
            ["no labels: none", { digest: LAST }, undefined],
            ["labels that are not strings are left out", { digest: LAST, labels: { ...OURS, odd: 1 } }, { ...holding("stack.dev.app", LAST, OURS), recorded: true }],
        ];
        for (const [what, outputs, recorded] of cases) {
            it(what, () => assert.deepEqual(recordedBuild(outputs, "stack.dev.app"), recorded));
        }
    });

    describe("from the release tags, when the stack's last build is other source", () => {
        const moved = holding("v2.0.0", OTHER, { ...OURS, [SOURCE_DIGEST_LABEL]: `sha256:${"6".repeat(64)}` });
        const movedSha = holding("a3f2c8d", OTHER, { [SOURCE_DIGEST_LABEL]: `sha256:${"7".repeat(64)}` });
        const cases: [string, (TagHolding | undefined)[], BuildPlan][] = [
            ["no tag yet: build", [undefined, undefined], { kind: "build" }],
            ["the version's tag holds this source: reuse its digest, declare nothing", [holding("v2.0.0", LAST, OURS), undefined], { kind: "reuse", digest: LAST }],
            [
                "another stack released this source: reuse",
                [holding("v2.0.0", LAST, { ...OURS, [STACK_LABEL]: "organization/released-service/prod" }), undefined],
                { kind: "reuse", digest: LAST },
            ],
            ["the version's tag holds other source: refuse", [moved, undefined], { kind: "refuse", holding: moved }],
            ["the short SHA's tag holds other source: refuse", [undefined, movedSha], { kind: "refuse", holding: movedSha }],
            ["an image with no source label: refuse", [holding("v2.0.0", OTHER, {})], { kind: "refuse", holding: holding("v2.0.0", OTHER, {}) }],
        ];
        for (const [what, holdings, plan] of cases) {
            it(what, () => assert.deepEqual(planBuild(holdings, OURS), plan));
        }
    });
});
