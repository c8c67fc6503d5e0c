// The rollback scenario: a stack of services deployed at v1, then at v2 after the source moved
// on, then rolled back to v1. What the rollback costs is counted, not timed alone.
import { DEPLOYMENT_TYPE, MockCloud, ofType, runUpdate, Update } from "../tests/support/helpers";
import { componentProgram, CONTEXT_V2, repository, serviceName, V1, V2 } from "./programs";

export interface RollbackFigures {
    readonly services: number;
    readonly builds: number;
    readonly pushes: number;
    readonly lookups: number;
    readonly lookupsPerService: number;
    /** Resources the rollback updated (their inputs changed), in total and by type. */
    readonly changed: number;
    readonly changedByType: Record<string, number>;
    /** Services whose Deployment runs exactly the digest v1's build pushed. */
    readonly runningV1Digest: number;
    readonly updateMs: number;
    /** Everything that contradicts "a rollback builds nothing and runs v1's own image". */
    readonly problems: string[];
}

export async function rollback(services: number): Promise<RollbackFigures> {
    const cloud = new MockCloud();
    const problems: string[] = [];
    const check = (step: string, update: Update): void => {
        problems.push(...update.errors.map((e) => `${step}: ${e}`));
    };

    check("deploy v1", await runUpdate(cloud, componentProgram(services, V1)));
    // What v1's build pushed, read before anything else can move the tag.
    const v1Digests = Array.from({ length: services }, (_, i) => cloud.registry.get(`${repository(i)}:${V1}`));
    check("deploy v2", await runUpdate(cloud, componentProgram(services, V2, CONTEXT_V2)));

    const started = process.hrtime.bigint();
    const update = await runUpdate(cloud, componentProgram(services, V1, CONTEXT_V2));
    const updateMs = Number(process.hrtime.bigint() - started) / 1e6;
    check("roll back to v1", update);

    const changedByType: Record<string, number> = {};
    for (const [key, operation] of update.operations) {
        if (operation !== "same") {
            const type = key.slice(0, key.indexOf("::"));
            changedByType[type] = (changedByType[type] ?? 0) + 1;
        }
    }
    const images = new Map(ofType(update, DEPLOYMENT_TYPE).map((d) => [d.name, deploymentImage(d.inputs)]));
    let runningV1Digest = 0;
    v1Digests.forEach((digest, i) => {
        const expected = digest === undefined ? undefined : `${repository(i)}@${digest}`;
        if (expected !== undefined && images.get(serviceName(i)) === expected) {
            runningV1Digest++;
        } else {
            problems.push(`${serviceName(i)} runs ${images.get(serviceName(i))}, not v1's ${expected}`);
        }
    });
    if (update.builds !== 0) problems.push(`the rollback built ${update.builds} images (must be 0)`);
    if (update.pushes !== 0) problems.push(`the rollback pushed ${update.pushes} tags (must be 0)`);

    return {
        services,
        builds: update.builds,
        pushes: update.pushes,
        lookups: update.lookups,
        lookupsPerService: update.lookups / services,
        changed: Object.values(changedByType).reduce((a, b) => a + b, 0),
        changedByType,
        runningV1Digest,
        updateMs,
        problems,
    };
}

/** The container image of a registered Deployment's inputs. */
function deploymentImage(inputs: Record<string, unknown>): unknown {
    const spec = inputs.spec as { template?: { spec?: { containers?: { image?: unknown }[] } } } | undefined;
    return spec?.template?.spec?.containers?.[0]?.image;
}
