// The schema other Pulumi languages see, inferred from the TypeScript source exactly as the engine
// infers it when it runs the plugin directory: a change to the args that another language cannot
// read fails here, and any change to what they read shows as a change to the committed snapshot.
// After an intended change: UPDATE_SCHEMA_SNAPSHOT=1 npx mocha tests/component/schema.test.ts
import * as assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental/provider";

import { WorkloadKind } from "../../components/workloads/workload";
import { RestartPolicy } from "../../components/workloads/docker/settings";
import { SwarmMode } from "../../components/workloads/swarm/settings";
import { SETTINGS } from "../../components/config/schema";

const ROOT = join(__dirname, "..", "..");
const PLUGIN_DIR = join(ROOT, "plugin");
const SNAPSHOT = join(__dirname, "schema.snapshot.json");
const TOKEN = "released-service:index:ReleasedService";

interface Property {
    readonly type?: string;
    readonly $ref?: string;
    readonly description?: string;
}
interface Schema {
    readonly name: string;
    readonly version: string;
    readonly resources: Record<string, { inputProperties: Record<string, Property>; properties: Record<string, Property>; requiredInputs: string[] }>;
    readonly types: Record<string, { type: string; enum?: { name: string; value: string }[]; properties?: Record<string, Property> }>;
}

function readJson(path: string): Record<string, unknown> {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

describe("the schema other languages read", function () {
    // The inference type-checks the package's source: seconds, not milliseconds.
    this.timeout(120_000);
    let schema: Schema;

    before(async () => {
        // What cmd/run-plugin does with the plugin directory: the provider's name from its
        // package.json, the components among the package's exports, the schema from the source.
        const manifest = readJson(join(PLUGIN_DIR, "package.json"));
        const components = getPulumiComponents(await import("../../components"));
        assert.deepEqual(
            components.map((c) => c.name),
            ["ReleasedService", "ReleasedImage"],
        );
        const provider = new ComponentProvider({ name: String(manifest.name), dirname: PLUGIN_DIR, components });
        schema = JSON.parse(await provider.getSchema()) as Schema;
    });

    it("equals the committed snapshot", () => {
        if (process.env.UPDATE_SCHEMA_SNAPSHOT === "1") {
            writeFileSync(SNAPSHOT, `${JSON.stringify(schema, null, 2)}\n`);
        }
        assert.deepEqual(schema, readJson(SNAPSHOT));
    });

    it("is the package's name and version", () => {
        const manifest = readJson(join(ROOT, "package.json"));
        assert.equal(schema.name, manifest.name);
        assert.equal(schema.version, manifest.version);
        assert.ok(TOKEN in schema.resources, `${TOKEN} among ${Object.keys(schema.resources).join(", ")}`);
    });

    it("describes every input, output and field of a type", () => {
        const resource = schema.resources[TOKEN];
        const properties: [string, Property][] = [
            ...Object.entries(resource.inputProperties).map(([name, p]): [string, Property] => [`input ${name}`, p]),
            ...Object.entries(resource.properties).map(([name, p]): [string, Property] => [`output ${name}`, p]),
            ...Object.entries(schema.types)
                .filter(([token]) => !/:(ResourceRequirements|ResourceClaim)$/.test(token)) // Kubernetes' own, as it describes them
                .flatMap(([token, type]) => Object.entries(type.properties ?? {}).map(([name, p]): [string, Property] => [`${token}.${name}`, p])),
        ];
        assert.deepEqual(
            properties.filter(([, p]) => !p.description).map(([name]) => name),
            [],
        );
    });

    it("takes every argument setting as an input", () => {
        const inputs = Object.keys(schema.resources[TOKEN].inputProperties).sort();
        const settings = SETTINGS.filter((s) => s.scope === "both" || s.scope === "arg").map((s) => s.key);
        assert.deepEqual(
            settings.filter((key) => !inputs.includes(key)),
            [],
        );
        assert.deepEqual(schema.resources[TOKEN].requiredInputs, ["image"]);
    });

    const enums: [string, string, Readonly<Record<string, string>>][] = [
        ["workload", "WorkloadKind", WorkloadKind],
        ["restart", "RestartPolicy", RestartPolicy],
        ["mode", "SwarmMode", SwarmMode],
    ];
    for (const [input, name, values] of enums) {
        it(`offers ${input} as the enum ${name}, with the values the checks accept`, () => {
            const token = `released-service:index:${name}`;
            assert.equal(schema.resources[TOKEN].inputProperties[input].$ref, `#/types/${token}`);
            assert.deepEqual(
                schema.types[token].enum?.map((member) => [member.name, member.value]),
                Object.entries(values),
            );
        });
    }

    it("gives the workload output one object type, its kind the same enum", () => {
        const token = "released-service:index:ServiceWorkload";
        assert.equal(schema.resources[TOKEN].properties.workload.$ref, `#/types/${token}`);
        assert.equal(schema.types[token].properties?.kind.$ref, "#/types/released-service:index:WorkloadKind");
    });
});
