// A stack whose manifests `npm run up` renders (no cluster answered): the commands that would apply
// to a cluster or read from one refuse in one sentence before changing anything, saying what the
// stack does, why the command cannot run and what to run instead; those that read the history, the registry or edit the config work as ever.
import * as assert from "node:assert/strict";

import { FakeStack, runCli, tableRegistry } from "./fakes";

const RENDERED = ".pulumi/Pulumi.dev.rendered.yaml";
const WHY = `error: stack dev renders its manifests instead of applying them because npm run up found no cluster (${RENDERED} says so), and`;

describe("a stack that renders its manifests", () => {
    const cases: [string, string[], string][] = [
        [
            "rollback",
            ["rollback", "--to", "1", "--yes"],
            "rollback would apply them to a cluster, replacing the rendered Deployment and Service: " +
                "roll back with `pulumi config set version <earlier version> --stack dev` then `npm run up`, which renders the manifests again",
        ],
        ["up", ["up", "--yes"], "up would apply them to a cluster, replacing the rendered Deployment and Service: run `npm run up` instead, which renders the manifests again"],
        [
            "drill",
            ["drill", "--yes"],
            "drill rehearses a rollback on what runs in a cluster, where this stack runs nothing: start a cluster and run `npm run up` to apply the manifests to it, then run the drill",
        ],
        [
            "status",
            ["status"],
            "status reads what runs in a cluster, where this stack runs nothing: read the digest the manifests in rendered/ pin, " +
                "or start a cluster and run `npm run up` to apply them to it, then run status again",
        ],
    ];
    for (const [name, argv, reason] of cases) {
        it(`${name} refuses in one sentence, and nothing changes`, async () => {
            const stack = new FakeStack({ rendered: RENDERED });
            const outcome = await runCli(argv, { stack, registryClient: async () => tableRegistry([]) });
            assert.deepEqual([outcome.code, outcome.stderr, outcome.stdout, stack.changes], [3, `${WHY} ${reason}\n`, "", []]);
        });
    }

    it("history still answers from the recorded updates", async () => {
        const outcome = await runCli(["history"], { stack: new FakeStack({ rendered: RENDERED }) });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.match(outcome.stdout, /v1\.1\.0/);
    });

    it("the same commands go ahead on a stack applied to a cluster", async () => {
        const stack = new FakeStack();
        const outcome = await runCli(["up", "--yes"], { stack });
        assert.equal(outcome.code, 0, outcome.stderr);
        assert.ok(stack.changes.includes("preview"), stack.changes.join(", "));
    });
});
