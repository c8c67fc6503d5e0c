// The checks of a pod's placement, as tables: Kubernetes' affinity by its three kinds.
import * as assert from "node:assert/strict";

import { podProblems } from "../../components/config/pod";

/** The problems of a pod with only these fields, and no container settings. */
function problems(pod: Record<string, unknown>): string[] {
    return podProblems(pod, undefined, undefined);
}

describe("pod placement checks", () => {
    it("accept every kind of affinity as given", () => {
        assert.deepEqual(
            problems({
                affinity: {
                    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "Exists" }] }] } },
                    podAffinity: {},
                    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
                },
            }),
            [],
        );
        assert.deepEqual(problems({ affinity: {} }), []);
    });

    const cases: [string, Record<string, unknown>, string[]][] = [
        ["affinity not an object", { affinity: ["nodeAffinity"] }, ["`pod.affinity` must be an object of nodeAffinity, podAffinity, podAntiAffinity (got an array)"]],
        ["affinity misspelt", { affinity: { nodeAfinity: {} } }, ["`pod.affinity.nodeAfinity` is not a field of an affinity: nodeAffinity, podAffinity, podAntiAffinity"]],
        [
            "affinity in a pod spec's words",
            { affinity: { affinity: { podAntiAffinity: {} } } },
            ["`pod.affinity.affinity` is not a field of an affinity: nodeAffinity, podAffinity, podAntiAffinity"],
        ],
        ["affinity kind not an object", { affinity: { podAntiAffinity: "soft" } }, ['`pod.affinity.podAntiAffinity` must be an object (got "soft")']],
    ];
    for (const [title, pod, expected] of cases) {
        it(`refuse ${title}`, () => {
            assert.deepEqual(problems(pod), expected);
        });
    }

    it("report every problem of an affinity, each field named", () => {
        assert.deepEqual(problems({ affinity: { nodeAffinity: null, podAntiAffinity: {}, preferred: [] } }), [
            "`pod.affinity.nodeAffinity` must be an object (got null)",
            "`pod.affinity.preferred` is not a field of an affinity: nodeAffinity, podAffinity, podAntiAffinity",
        ]);
    });
});
