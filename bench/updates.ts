// The updates a building stack makes most: a stack of services deployed at v1, then at v2 after the
// source moved on, then rolled back to v1 by version and rolled forward to v2, rolled back again by
// a pin such as `released-service rollback` writes and forward again once it is lifted, and updated
// with nothing changed. What each costs is counted: builds, pushes, registry requests, changes. The
// program exports every service's digest, so each update can read the stack's last state.
import { DEPLOYMENT_TYPE, MockCloud, ofType, runUpdate, Update } from "../tests/support/helpers";
import { componentProgram, CONTEXT_V2, Program, repository, serviceName, V1, V2 } from "./programs";

/** The measured updates, in the order they run, and the version each leaves running. */
export const UPDATES = [
    { name: "rollback", title: `rollback to ${V1} by version`, runs: V1 },
    { name: "roll forward", title: `roll forward to ${V2}`, runs: V2 },
    { name: "pinned rollback", title: `rollback to ${V1} by a pin (released-service rollback)`, runs: V1 },
    { name: "pin lifted", title: `roll forward to ${V2}, the pin lifted`, runs: V2 },
    { name: "no change", title: `update with nothing changed (${V2})`, runs: V2 },
] as const;

export interface UpdateFigures {
    readonly name: string;
    readonly title: string;
    readonly builds: number;
    readonly pushes: number;
    /** Manifest requests: the look-ups by tag or digest. */
    readonly lookups: number;
    readonly lookupsPerService: number;
    /** Config blobs read for an image's labels, which a real registry serves as requests of their own. */
    readonly blobReads: number;
    /** Resources the update changed (their inputs differ), in total and by type. */
    readonly changed: number;
    readonly changedByType: Record<string, number>;
    /** Services whose Deployment runs exactly the digest the version's own build pushed. */
    readonly runningOwnDigest: number;
    readonly updateMs: number;
}

export interface UpdatesFigures {
    readonly services: number;
    readonly updates: UpdateFigures[];
    /** Everything that contradicts "these updates build nothing and run each version's own image". */
    readonly problems: string[];
}

export async function measureUpdates(services: number): Promise<UpdatesFigures> {
    const cloud = new MockCloud();
    const problems: string[] = [];
    const check = (step: string, update: Update): void => {
        problems.push(...update.errors.map((e) => `${step}: ${e}`));
    };

    check(`deploy ${V1}`, await runUpdate(cloud, componentProgram(services, V1, undefined, true)));
    // What each version's build pushed, read before anything else could move a tag.
    const v1Digests = Array.from({ length: services }, (_, i) => cloud.registry.get(`${repository(i)}:${V1}`));
    check(`deploy ${V2}`, await runUpdate(cloud, componentProgram(services, V2, CONTEXT_V2, true)));
    const v2Digests = Array.from({ length: services }, (_, i) => cloud.registry.get(`${repository(i)}:${V2}`));
    const own = { [V1]: v1Digests, [V2]: v2Digests };

    // What the rollback command writes: each service pinned to v1's digest, its args still asking for v2.
    const pins = JSON.stringify(
        Object.fromEntries(v1Digests.map((digest, i) => [serviceName(i), { version: V1, digest, update: 3, asked: { version: V2 } }])),
    );
    const programs: Record<(typeof UPDATES)[number]["name"], { program: Program; config?: Record<string, string> }> = {
        rollback: { program: componentProgram(services, V1, CONTEXT_V2, true) },
        "pinned rollback": { program: componentProgram(services, V2, CONTEXT_V2, true), config: { "released-service:pins": pins } },
        "roll forward": { program: componentProgram(services, V2, CONTEXT_V2, true) },
        "pin lifted": { program: componentProgram(services, V2, CONTEXT_V2, true) },
        "no change": { program: componentProgram(services, V2, CONTEXT_V2, true) },
    };

    const updates: UpdateFigures[] = [];
    for (const { name, title, runs } of UPDATES) {
        const started = process.hrtime.bigint();
        const update = await runUpdate(cloud, programs[name].program, { config: programs[name].config });
        const updateMs = Number(process.hrtime.bigint() - started) / 1e6;
        check(name, update);
        const figures = countUpdate(name, title, services, update, own[runs], updateMs);
        problems.push(...figures.problems);
        updates.push(figures.update);
    }
    return { services, updates, problems };
}

function countUpdate(
    name: string,
    title: string,
    services: number,
    update: Update,
    digests: readonly (string | undefined)[],
    updateMs: number,
): { update: UpdateFigures; problems: string[] } {
    const problems: string[] = [];
    const changedByType: Record<string, number> = {};
    for (const [key, operation] of update.operations) {
        if (operation !== "same") {
            const type = key.slice(0, key.indexOf("::"));
            changedByType[type] = (changedByType[type] ?? 0) + 1;
        }
    }
    const images = new Map(ofType(update, DEPLOYMENT_TYPE).map((d) => [d.name, deploymentImage(d.inputs)]));
    let runningOwnDigest = 0;
    digests.forEach((digest, i) => {
        const expected = digest === undefined ? undefined : `${repository(i)}@${digest}`;
        if (expected !== undefined && images.get(serviceName(i)) === expected) {
            runningOwnDigest++;
        } else {
            problems.push(`${name}: ${serviceName(i)} runs ${images.get(serviceName(i))}, not ${expected}`);
        }
    });
    if (update.builds !== 0) problems.push(`${name}: built ${update.builds} images (must be 0)`);
    if (update.pushes !== 0) problems.push(`${name}: pushed ${update.pushes} tags (must be 0)`);
    if (update.deleted.length !== 0) problems.push(`${name}: deleted ${update.deleted.join(", ")} (must delete nothing)`);
    return {
        update: {
            name,
            title,
            builds: update.builds,
            pushes: update.pushes,
            lookups: update.lookups,
            lookupsPerService: update.lookups / services,
            blobReads: update.blobReads,
            changed: Object.values(changedByType).reduce((a, b) => a + b, 0),
            changedByType,
            runningOwnDigest,
            updateMs,
        },
        problems,
    };
}

/** The container image of a registered Deployment's inputs. */
function deploymentImage(inputs: Record<string, unknown>): unknown {
    const spec = inputs.spec as { template?: { spec?: { containers?: { image?: unknown }[] } } } | undefined;
    return spec?.template?.spec?.containers?.[0]?.image;
}
