// Input checks as properties: generated valid values are accepted, generated invalid ones are
// refused with their field named and register nothing, and the registry password stays secret.
// Fixed seeds: a failure names its counterexample and reproduces on every run.
import * as assert from "node:assert/strict";

import * as pulumi from "@pulumi/pulumi";
import * as fc from "fast-check";

import * as arb from "../support/arbitraries";
import { sourceFixture, SourceFixture } from "../support/fixtures";
import { containsInPlainText, DEPLOYMENT_TYPE, IMAGE_TYPE, MockCloud, ofType, REGISTRY_HOST, runProgram, runUpdate, SAMPLE_VERSION, secretValue, SERVICE_TYPE, Update } from "../support/helpers";
import { splitRepository } from "../../components/registry/reference";
import type { ReleasedServiceArgs } from "../../components/releasedService";
import { CheckedInputs, describeProblems, inputProblems } from "../../components/config/validate";

type Module = typeof import("../../components/releasedService");
let component: Module;
let source: SourceFixture;

const SEED = 20260314;
/** Cases per property over the pure checks. */
const RUNS = 1000;
/** Cases per property that runs the component under mocks on refused input: quick, nothing registers. */
const REFUSED_RUNS = 1000;
/** Cases per property that runs a whole update under mocks, registering every resource. */
const UPDATE_RUNS = 15;
/** Cases per property that builds an image. */
const BUILD_RUNS = 20;
/** Cases per property that runs the main program, compiled afresh for every update as the CLI runs it. */
const PROGRAM_RUNS = 10;

const IMAGE = `${REGISTRY_HOST}/payment-api`;
const PINNED = `sha256:${"9c1e3a5b".repeat(8)}`;
const VALID: CheckedInputs = { name: "app", image: IMAGE, version: "v1" };

type Field =
    | "image"
    | "version"
    | "digest"
    | "sourceVersion"
    | "revisionHistoryLimit"
    | "replicas"
    | "port"
    | "promoteFrom"
    | "namespace"
    | "name"
    | "build";

const FIELDS: readonly { field: Field; valid: fc.Arbitrary<unknown>; invalid: fc.Arbitrary<unknown> }[] = [
    { field: "image", valid: arb.repository, invalid: arb.invalidRepository },
    { field: "version", valid: arb.tag, invalid: arb.invalidTag },
    { field: "digest", valid: arb.digest, invalid: arb.invalidDigest },
    { field: "sourceVersion", valid: arb.tag, invalid: arb.invalidTag },
    { field: "revisionHistoryLimit", valid: arb.count, invalid: arb.invalidCount },
    { field: "replicas", valid: arb.count, invalid: arb.invalidCount },
    { field: "port", valid: arb.portNumber, invalid: arb.invalidPort },
    { field: "promoteFrom", valid: arb.stackName, invalid: arb.invalidStackName },
    { field: "namespace", valid: arb.namespace, invalid: arb.invalidNamespace },
    { field: "name", valid: arb.workloadName, invalid: arb.invalidWorkloadName },
    { field: "build", valid: fc.boolean(), invalid: arb.notABoolean },
];

/**
 * Valid repositories moved onto the test registry: an update asks the image's registry what its tags
 * hold, and no other registry answers here. The host grammar is covered by the checks' own property.
 */
const servedRepository = arb.repository
    .map((repository) => `${REGISTRY_HOST}/${splitRepository(repository).path}`)
    .filter((repository) => repository.length <= 255);

/** Valid stack references as the file backend, where these updates run, names them. */
const fileBackendStack = arb.stackName.map((stack) => `organization/${stack.split("/").slice(1).join("/")}`);

/** Prints a generated value in a failure message, whatever its type. */
const show = (value: unknown): string => fc.stringify(value);

/** Asserts that the checks refuse `value` for `field` with exactly one problem, naming the field. */
function assertRefused(field: Field, value: unknown): void {
    const problems = inputProblems({ ...VALID, [field]: value });
    assert.equal(problems.length, 1, `${field} = ${show(value)}: ${JSON.stringify(problems)}`);
    assert.ok(problems[0].startsWith(`\`${field}\` `), problems[0]);
}

/**
 * One update of a ReleasedService named `name`. The inputs may be deliberately ill-typed, as a
 * JavaScript caller or a program reading YAML could pass them: the checks exist for those.
 */
function deploy(cloud: MockCloud, name: unknown, inputs: Record<string, unknown>): Promise<Update> {
    return runUpdate(cloud, () => {
        const service = new component.ReleasedService(name as string, inputs as unknown as ReleasedServiceArgs);
        return { imageRef: service.imageRef, version: service.version, built: service.built };
    });
}

/** The component's name and inputs with `field` set to `value`, on top of a valid pinned release. */
function withField(field: Field, value: unknown): { name: unknown; inputs: Record<string, unknown> } {
    const inputs: Record<string, unknown> = { image: IMAGE, version: "v1", digest: PINNED, build: false, context: source.context };
    if (field === "name") {
        return { name: value, inputs };
    }
    if (field === "promoteFrom") {
        delete inputs.digest;
    }
    return { name: "payment", inputs: { ...inputs, [field]: value } };
}

describe("input check properties", () => {
    before(async () => {
        await pulumi.runtime.setMocks(new MockCloud(), "released-service", "dev", false);
        component = await import("../../components/releasedService");
        source = sourceFixture("v1");
    });

    for (const { field, valid, invalid } of FIELDS) {
        describe(`\`${field}\``, () => {
            it(`accepts every valid value (${RUNS} generated)`, () => {
                fc.assert(
                    fc.property(valid, (value) => {
                        assert.deepEqual(inputProblems({ ...VALID, [field]: value }), [], `${field} = ${show(value)}`);
                    }),
                    { seed: SEED, numRuns: RUNS },
                );
            });

            it(`refuses every invalid value, naming the field (${RUNS} generated)`, () => {
                fc.assert(
                    fc.property(invalid, (value) => assertRefused(field, value)),
                    { seed: SEED, numRuns: RUNS },
                );
            });

            it(`registers nothing for an invalid value, the component's error naming the field (${REFUSED_RUNS} generated)`, async () => {
                await fc.assert(
                    fc.asyncProperty(invalid, async (value) => {
                        const { name, inputs } = withField(field, value);
                        const update = await deploy(new MockCloud(), name, inputs);
                        assert.deepEqual(update.resources, [], `${field} = ${show(value)}`);
                        assert.deepEqual(update.errors, [describeProblems(inputProblems({ name, ...inputs }))]);
                        assert.ok(update.errors[0].startsWith(`\`${field}\` `), update.errors[0]);
                    }),
                    { seed: SEED, numRuns: REFUSED_RUNS },
                );
            }).timeout(30_000);

            it(`runs exactly one Deployment and one Service for a valid value (${UPDATE_RUNS} generated)`, async () => {
                await fc.assert(
                    fc.asyncProperty(field === "image" ? servedRepository : field === "promoteFrom" ? fileBackendStack : valid, async (value) => {
                        const { name, inputs } = withField(field, value);
                        const cloud = new MockCloud();
                        cloud.pushDigest(field === "digest" ? String(value) : PINNED);
                        if (field === "promoteFrom") {
                            cloud.stacks.set(String(value), { imageDigest: PINNED, version: "v1" });
                        }
                        const update = await deploy(cloud, name, inputs);
                        assert.deepEqual(update.errors, [], `${field} = ${show(value)}`);
                        assert.equal(ofType(update, DEPLOYMENT_TYPE).length, 1);
                        assert.equal(ofType(update, SERVICE_TYPE).length, 1);
                        const ref = `${field === "image" ? String(value) : IMAGE}@${field === "digest" ? String(value) : PINNED}`;
                        assert.equal(update.outputs.imageRef, ref);
                        assert.equal(ofType(update, DEPLOYMENT_TYPE)[0].inputs.spec.template.spec.containers[0].image, ref);
                    }),
                    { seed: SEED, numRuns: UPDATE_RUNS },
                );
            }).timeout(30_000);
        });
    }

    it(`refuses replicas and revisionHistoryLimit beyond int32, which a Deployment cannot hold (${RUNS} generated)`, () => {
        fc.assert(
            fc.property(fc.constantFrom<Field>("replicas", "revisionHistoryLimit"), arb.beyondInt32, assertRefused),
            { seed: SEED, numRuns: RUNS },
        );
    });

    it("accepts a registry host Docker recognises by its upper-case letters, e.g. Registry/api", () => {
        fc.assert(
            fc.property(arb.upperCaseHostRepository, (image) => {
                assert.deepEqual(inputProblems({ ...VALID, image }), [], image);
            }),
            { seed: SEED, numRuns: RUNS },
        );
    });

    it("refuses an object without a prototype with the field named, rather than failing to print it", () => {
        for (const { field } of FIELDS) {
            assert.doesNotThrow(() => assertRefused(field, Object.create(null)), field);
        }
    });

    describe("several bad fields at once", () => {
        const badFields = fc
            .shuffledSubarray([...FIELDS], { minLength: 2 })
            .chain((cases) => fc.tuple(...cases.map(({ field, invalid }) => invalid.map((value): [Field, unknown] => [field, value]))))
            .map((pairs) => new Map(pairs));

        /** The message names every bad field, each on its own line, and nothing else is wrong. */
        function assertNamesEvery(bad: Map<Field, unknown>, message: string): void {
            const lines = message.split("\n");
            const both = bad.has("digest") && bad.has("promoteFrom");
            const count = bad.size + (both ? 1 : 0);
            assert.equal(lines[0], `${count} invalid inputs:`, message);
            assert.equal(lines.length, count + 1, message);
            for (const field of bad.keys()) {
                assert.ok(
                    lines.some((line) => line.startsWith(`  - \`${field}\` must`)),
                    `${field} not named in:\n${message}`,
                );
            }
        }

        it(`names every bad field in one message (${RUNS} generated)`, () => {
            fc.assert(
                fc.property(badFields, (bad) => {
                    assertNamesEvery(bad, describeProblems(inputProblems({ ...VALID, ...Object.fromEntries(bad) })));
                }),
                { seed: SEED, numRuns: RUNS },
            );
        });

        it(`registers nothing, and the component's error names every bad field (${REFUSED_RUNS} generated)`, async () => {
            await fc.assert(
                fc.asyncProperty(badFields, async (bad) => {
                    const inputs: Record<string, unknown> = { image: IMAGE, version: "v1", build: false, ...Object.fromEntries(bad) };
                    const name = bad.has("name") ? bad.get("name") : "payment";
                    delete inputs.name;
                    const update = await deploy(new MockCloud(), name, inputs);
                    assert.deepEqual(update.resources, []);
                    assert.equal(update.errors.length, 1);
                    assertNamesEvery(bad, update.errors[0]);
                }),
                { seed: SEED, numRuns: REFUSED_RUNS },
            );
        }).timeout(30_000);
    });

    describe("the registry password", () => {
        const credentials = fc.tuple(arb.userName, arb.password).filter(([user, password]) => !user.includes(password));

        /** Nothing the engine saw or the update produced holds the password outside a secret. */
        function assertNowhereInPlainText(update: Update, password: string): void {
            for (const resource of update.resources) {
                assert.equal(containsInPlainText(resource, password), false, `${resource.type} ${resource.name}`);
            }
            assert.equal(containsInPlainText(update.outputs, password), false, "outputs");
            assert.equal(containsInPlainText(update.errors, password), false, "errors");
        }

        /** The password did reach the build, as a secret: the property is not true for want of it. */
        function assertSecretInBuild(update: Update, user: string, password: string, image: string): void {
            const builds = ofType(update, IMAGE_TYPE);
            assert.equal(builds.length, 1);
            const host = image.split("/")[0];
            assert.deepEqual(secretValue(builds[0].inputs.registries), [{ address: host, username: user, password }]);
        }

        it(`never appears in plain text through the component (${BUILD_RUNS} generated)`, async () => {
            const image = arb.pathComponent.map((path) => `${REGISTRY_HOST}/${path}`);
            await fc.assert(
                fc.asyncProperty(credentials, image, async ([user, password], repository) => {
                    const cloud = new MockCloud();
                    cloud.credentials = { username: user, password };
                    const update = await deploy(cloud, "payment", {
                        image: repository,
                        version: "v1",
                        context: source.context,
                        registryUsername: user,
                        registryPassword: password,
                    });
                    assert.deepEqual(update.errors, []);
                    assertSecretInBuild(update, user, password, repository);
                    assertNowhereInPlainText(update, password);
                }),
                { seed: SEED, numRuns: BUILD_RUNS },
            );
        }).timeout(30_000);

        it(`never appears in plain text through the main program, from secret stack config (${PROGRAM_RUNS} generated)`, async () => {
            // The project's own source, at its own version: the program builds it, with the credentials.
            const config = { image: IMAGE, version: SAMPLE_VERSION };
            await fc.assert(
                fc.asyncProperty(credentials, async ([user, password]) => {
                    const cloud = new MockCloud();
                    cloud.credentials = { username: user, password };
                    const update = await runProgram(
                        cloud,
                        { ...config, registryUsername: user, registryPassword: password },
                        { secretKeys: ["registryPassword"] },
                    );
                    assert.deepEqual(update.errors, []);
                    assertSecretInBuild(update, user, password, IMAGE);
                    assertNowhereInPlainText(update, password);
                }),
                { seed: SEED, numRuns: PROGRAM_RUNS },
            );
        }).timeout(30_000);
    });
});
