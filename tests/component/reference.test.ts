// docs/reference.md is the component schema, written for people: equal to what reference() writes
// from the committed snapshot. After an intended change to the schema:
// UPDATE_REFERENCE=1 npx mocha tests/component/reference.test.ts
import * as assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { goName, pythonName, reference, type ReferenceSchema, splitDefault, typeIn } from "./reference";

const ROOT = join(__dirname, "..", "..");
const PAGE = join(ROOT, "docs", "reference.md");
const schema = JSON.parse(readFileSync(join(__dirname, "schema.snapshot.json"), "utf8")) as ReferenceSchema;

describe("the reference page", () => {
    it("is the schema snapshot, every input and output of every component and type", () => {
        const written = reference(schema);
        if (process.env.UPDATE_REFERENCE === "1") {
            writeFileSync(PAGE, written);
        }
        assert.equal(readFileSync(PAGE, "utf8"), written, "docs/reference.md differs from the schema: UPDATE_REFERENCE=1 npx mocha tests/component/reference.test.ts");
        for (const [token, resource] of Object.entries(schema.resources)) {
            for (const name of [...Object.keys(resource.inputProperties), ...Object.keys(resource.properties)]) {
                assert.ok(written.includes(`| \`${name}\``), `${token}: ${name} is on the page`);
            }
        }
        assert.ok(written.includes("| `buildOnPreview` | `build_on_preview`, `BuildOnPreview` |"), "buildOnPreview, in every language's name");
    });

    it("names a property and its type as each language writes them", () => {
        assert.deepEqual([pythonName("publishedPort"), goName("publishedPort"), pythonName("buildOnPreview")], ["published_port", "PublishedPort", "build_on_preview"]);
        const types = schema.types;
        const env = { type: "object", additionalProperties: { type: "string" } };
        assert.deepEqual(
            (["typescript", "yaml", "python", "go"] as const).map((language) => typeIn(env, language, types)),
            ["Record<string, string>", "Map<String>", "Mapping[str, str]", "map[string]string"],
        );
        const healthcheck = { $ref: "#/types/released-service:index:Healthcheck" };
        assert.deepEqual(
            (["typescript", "yaml", "python", "go"] as const).map((language) => typeIn(healthcheck, language, types)),
            ["Healthcheck", "Healthcheck", "HealthcheckArgs", "HealthcheckArgs"],
        );
        const kind = { $ref: "#/types/released-service:index:WorkloadKind" };
        assert.deepEqual((["python", "go"] as const).map((language) => typeIn(kind, language, types)), ["WorkloadKind", "WorkloadKind"]);
        assert.deepEqual(splitDefault("The port the container listens on.\nDefaults to 8080."), { text: "The port the container listens on.", default: "8080" });
        assert.deepEqual(splitDefault("Required."), { text: "Required.", default: "" });
    });
});
