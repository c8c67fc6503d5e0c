// The error a release is refused with, as the SDK's run script handles it: the message as written
// (the SDK prefixes the property path onto it in place), no frames to format, no resource to walk.
import * as assert from "node:assert/strict";
import { inspect } from "node:util";
import * as pulumi from "@pulumi/pulumi";

import { releaseError } from "../../components/release/resolve";

describe("the error a release is refused with", () => {
    const owner = { urn: "urn:pulumi:dev::shop::released-service:index:ReleasedService::api" } as unknown as pulumi.Resource;

    it("is a ResourceError on its owner, its stack hidden, and its message stays as written", () => {
        const error = releaseError("version v9.9.9 cannot be resolved", owner);
        assert.equal(pulumi.ResourceError.isInstance(error), true);
        assert.deepEqual([error.resource, error.hideStack], [owner, true]);
        // What the SDK does to an error that fails a resource input.
        error.message = `error serializing property "metadata": ${error.message}`;
        assert.equal(error.message, "version v9.9.9 cannot be resolved");
    });

    it("gives util.inspect neither frames nor the resource to format", () => {
        const error = releaseError("version v9.9.9 cannot be resolved", owner);
        assert.equal(error.stack, "ResourceError: version v9.9.9 cannot be resolved");
        const formatted = inspect(error, { colors: true });
        assert.ok(formatted.includes("version v9.9.9 cannot be resolved"), formatted);
        assert.doesNotMatch(formatted, /\n\s+at |urn:pulumi/);
    });
});
