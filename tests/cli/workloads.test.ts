// What each kind's recorded resource says its workload was last told to run: the command's signal
// that an update changed a workload, whatever its kind.
import * as assert from "node:assert/strict";

import { deployedImageOf } from "../../cli/core/workloads";

const REF = `127.0.0.1:5000/shop@sha256:${"a".repeat(64)}`;

describe("the image a recorded workload names", () => {
    const cases: [string, { type: string; outputs: Record<string, unknown> }[], string | undefined][] = [
        ["a Deployment's first container", [{ type: "kubernetes:apps/v1:Deployment", outputs: { spec: { template: { spec: { containers: [{ image: REF }] } } } } }], REF],
        ["a Docker container", [{ type: "docker:index/container:Container", outputs: { name: "shop", image: REF } }], REF],
        ["a Swarm service's tasks", [{ type: "docker:index/service:Service", outputs: { name: "shop", taskSpec: { containerSpec: { image: REF } } } }], REF],
        ["nothing for a Compose file, which has no resource", [{ type: "docker-build:index:Image", outputs: { ref: REF } }], undefined],
    ];
    for (const [what, resources, image] of cases) {
        it(`reads ${what}`, () => {
            assert.equal(deployedImageOf(resources), image);
        });
    }
});
