// The checks of a pod's placement, as tables: Kubernetes' affinity by its three kinds, and each
// topology spread field by field, with what the API server would refuse only at apply.
import * as assert from "node:assert/strict";

import { podProblems } from "../../components/config/pod";

const ZONE = "topology.kubernetes.io/zone";
const HOST = "kubernetes.io/hostname";

/** The problems of a pod with only these fields, and no container settings. */
function problems(pod: Record<string, unknown>): string[] {
    return podProblems(pod, undefined, undefined);
}

describe("pod placement checks", () => {
    it("accept every kind of affinity as given, and spreads at their legal edges", () => {
        assert.deepEqual(
            problems({
                affinity: {
                    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "Exists" }] }] } },
                    podAffinity: {},
                    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] },
                },
                topologySpread: [
                    { topologyKey: ZONE },
                    { topologyKey: ZONE, whenUnsatisfiable: "ScheduleAnyway", maxSkew: 2 ** 31 - 1 },
                    { topologyKey: HOST, maxSkew: 1, whenUnsatisfiable: "DoNotSchedule", minDomains: 1 },
                    { topologyKey: `${"a".repeat(253)}/${"b".repeat(63)}` },
                ],
            }),
            [],
        );
        assert.deepEqual(problems({ affinity: {}, topologySpread: [] }), []);
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
        ["topologySpread not a list", { topologySpread: { topologyKey: ZONE } }, ["`pod.topologySpread` must be a list (got an object)"]],
        ["a spread not an object", { topologySpread: [ZONE] }, [`\`pod.topologySpread[0]\` must be an object with \`topologyKey\` (got "${ZONE}")`]],
        [
            "a spread without topologyKey",
            { topologySpread: [{ maxSkew: 1 }] },
            ["`pod.topologySpread[0].topologyKey` is required: the node label whose values are the domains, such as topology.kubernetes.io/zone"],
        ],
        [
            "a topologyKey that is no label key",
            { topologySpread: [{ topologyKey: "zone name" }] },
            ['`pod.topologySpread[0].topologyKey` must be a node label key such as topology.kubernetes.io/zone or kubernetes.io/hostname (got "zone name")'],
        ],
        [
            "an empty topologyKey",
            { topologySpread: [{ topologyKey: "" }] },
            ['`pod.topologySpread[0].topologyKey` must be a node label key such as topology.kubernetes.io/zone or kubernetes.io/hostname (got "")'],
        ],
        [
            "a topologyKey with two prefixes",
            { topologySpread: [{ topologyKey: "a.io/b.io/zone" }] },
            ['`pod.topologySpread[0].topologyKey` must be a node label key such as topology.kubernetes.io/zone or kubernetes.io/hostname (got "a.io/b.io/zone")'],
        ],
        [
            "a topologyKey name longer than 63",
            { topologySpread: [{ topologyKey: `example.com/${"z".repeat(64)}` }] },
            [`\`pod.topologySpread[0].topologyKey\` must be a node label key such as topology.kubernetes.io/zone or kubernetes.io/hostname (got "example.com/${"z".repeat(64)}")`],
        ],
        ["a topologyKey not text", { topologySpread: [{ topologyKey: 1 }] }, ["`pod.topologySpread[0].topologyKey` must be a node label key such as topology.kubernetes.io/zone or kubernetes.io/hostname (got 1)"]],
        ["maxSkew 0", { topologySpread: [{ topologyKey: ZONE, maxSkew: 0 }] }, ["`pod.topologySpread[0].maxSkew` must be a whole number from 1 to 2147483647 (got 0)"]],
        ["maxSkew a fraction", { topologySpread: [{ topologyKey: ZONE, maxSkew: 1.5 }] }, ["`pod.topologySpread[0].maxSkew` must be a whole number from 1 to 2147483647 (got 1.5)"]],
        ["maxSkew text", { topologySpread: [{ topologyKey: ZONE, maxSkew: "1" }] }, ['`pod.topologySpread[0].maxSkew` must be a whole number from 1 to 2147483647 (got "1")']],
        [
            "maxSkew beyond int32",
            { topologySpread: [{ topologyKey: ZONE, maxSkew: 2 ** 31 }] },
            ["`pod.topologySpread[0].maxSkew` must be a whole number from 1 to 2147483647 (got 2147483648)"],
        ],
        [
            "whenUnsatisfiable unknown",
            { topologySpread: [{ topologyKey: ZONE, whenUnsatisfiable: "doNotSchedule" }] },
            ['`pod.topologySpread[0].whenUnsatisfiable` must be one of DoNotSchedule, ScheduleAnyway (got "doNotSchedule")'],
        ],
        ["minDomains 0", { topologySpread: [{ topologyKey: ZONE, minDomains: 0 }] }, ["`pod.topologySpread[0].minDomains` must be a whole number from 1 to 2147483647 (got 0)"]],
        [
            "minDomains with ScheduleAnyway",
            { topologySpread: [{ topologyKey: ZONE, whenUnsatisfiable: "ScheduleAnyway", minDomains: 3 }] },
            ["`pod.topologySpread[0].minDomains` needs `whenUnsatisfiable` DoNotSchedule: with ScheduleAnyway no pod waits for a domain"],
        ],
        [
            "two spreads of one key, DoNotSchedule the default of one",
            { topologySpread: [{ topologyKey: ZONE }, { topologyKey: HOST }, { topologyKey: ZONE, whenUnsatisfiable: "DoNotSchedule", maxSkew: 2 }] },
            [
                "`pod.topologySpread[2]` spreads over \"topology.kubernetes.io/zone\" with DoNotSchedule, as an earlier entry does: one spread per topology key and `whenUnsatisfiable`",
            ],
        ],
        [
            "a label selector of the user's",
            { topologySpread: [{ topologyKey: ZONE, labelSelector: { matchLabels: { "app.kubernetes.io/name": "payment" } } }] },
            ["`pod.topologySpread[0].labelSelector` is the component's own (a spread counts the service's pods, those its selector matches); leave it out"],
        ],
        [
            "a field of Kubernetes' constraint not offered",
            { topologySpread: [{ topologyKey: ZONE, nodeTaintsPolicy: "Honor" }] },
            ["`pod.topologySpread[0].nodeTaintsPolicy` is not a field of a topology spread: topologyKey, maxSkew, whenUnsatisfiable, minDomains"],
        ],
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

    it("report every problem of every spread, each field named, in the entries' order", () => {
        assert.deepEqual(
            problems({
                topologySpread: [{ topologyKey: HOST, maxskew: 2, whenUnsatisfiable: "ScheduleAnyway", minDomains: -1 }, null, { maxSkew: 0, whenUnsatisfiable: "Always" }],
            }),
            [
                "`pod.topologySpread[0].maxskew` is not a field of a topology spread: topologyKey, maxSkew, whenUnsatisfiable, minDomains",
                "`pod.topologySpread[0].minDomains` must be a whole number from 1 to 2147483647 (got -1)",
                "`pod.topologySpread[0].minDomains` needs `whenUnsatisfiable` DoNotSchedule: with ScheduleAnyway no pod waits for a domain",
                "`pod.topologySpread[1]` must be an object with `topologyKey` (got null)",
                "`pod.topologySpread[2].topologyKey` is required: the node label whose values are the domains, such as topology.kubernetes.io/zone",
                "`pod.topologySpread[2].maxSkew` must be a whole number from 1 to 2147483647 (got 0)",
                '`pod.topologySpread[2].whenUnsatisfiable` must be one of DoNotSchedule, ScheduleAnyway (got "Always")',
            ],
        );
    });
});
