// The policy pack loaded by the real CLI: it passes this project's stacks and refuses a
// Deployment that runs an image by tag, with the messages the docs show.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { environment } from "./support/hooks";
import { REPO_ROOT, type Environment } from "./support/environment";
import { Stack, succeeded } from "./support/project";

const POLICY_PACK = path.join(REPO_ROOT, "policy");

describe("the policy pack under the real CLI", function () {
    let env: Environment;

    before(() => {
        env = environment();
    });

    it("passes a stack of this project", async () => {
        const image = `${env.registry.host}/policy-api`;
        await env.registry.push("policy-api", "v1.0.0");
        const stack = new Stack(env, "policy");
        await stack.init({ image, name: "policy-app", version: "v1.0.0", build: "false" });
        const result = succeeded(await stack.preview("--policy-pack", POLICY_PACK), "pulumi preview --policy-pack");
        assert.match(result.stdout, /released-service/);
        assert.doesNotMatch(result.stdout + result.stderr, /mandatory/);
    });

    it("fails a stack whose Deployment runs an image by tag, naming each broken rule", async () => {
        const project = path.join(env.scratch, "tag-only");
        fs.cpSync(path.join(REPO_ROOT, "e2e", "fixtures", "tag-only"), project, { recursive: true });
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(project, "node_modules"));
        succeeded(await env.pulumi(["stack", "init", "tag-only", "--non-interactive"], { cwd: project }), "stack init");
        const result = await env.pulumi(["preview", "--non-interactive", "--stack", "tag-only", "--policy-pack", POLICY_PACK], { cwd: project });
        assert.notEqual(result.code, 0, result.stdout);
        const output = result.stdout + result.stderr;
        for (const expected of [
            "images-pinned-by-digest",
            'container "web" image "registry.example.com/web:1.27" is not pinned by digest',
            "deployment-version-label",
            'metadata.labels["app.kubernetes.io/version"] is missing',
            "deployment-change-cause",
            'metadata.annotations["kubernetes.io/change-cause"] is missing',
        ]) {
            assert.ok(output.includes(expected), `${expected}\n---\n${output}`);
        }
    });
});
