// `released-service status`: the digest the stack recorded against what its workload runs live.
// The workload module lists and judges the instances; drift is named, not hidden.

import type { LiveInstance } from "../../components/workloads/kubernetes/live";
import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES, flag, text } from "../core/command";
import { type Context, writeJson } from "../core/context";
import { CliError, ExitCode } from "../core/exitCodes";
import { renderTable } from "../core/output";
import { shortDigest } from "../core/reference";
import { workloadOf } from "../core/steps";

const HELP = `Usage: released-service status [--stack S] [--json]

Compares the stack's recorded imageDigest output with the digest each live pod
pulled (its containers' imageID), for pods labelled
app.kubernetes.io/name=<name> in <namespace> (stack config; defaults app and
default). A pod running another digest is DRIFT: the Deployment was changed
outside Pulumi, for example by kubectl rollout undo. Uses kubectl and its
current context.

Options:
      --json          print the comparison as JSON
${COMMON_HELP}

${EXIT_CODES}
`;

async function status(context: Context, options: { stack?: string; json: boolean }): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    context.progress.update(`Reading the outputs of stack ${stack.name}…`);
    const [outputs, config] = await Promise.all([stack.outputs(), stack.config()]);
    if (!outputs.imageDigest) {
        context.progress.done();
        throw new CliError(`stack ${stack.name} records no imageDigest output: it has not been deployed yet (run pulumi up)`, ExitCode.NotOk);
    }
    const live = context.deps.live(workloadOf(config));
    context.progress.update(`Listing ${live.noun.many} ${live.where}…`);
    const instances = await live.instances({ digest: outputs.imageDigest, imageRef: outputs.imageRef });
    context.progress.done();
    const drift = instances.some((instance) => instance.state === "drift");
    const healthy = !drift && instances.length > 0;
    if (options.json) {
        writeJson(context, {
            stack: stack.name,
            recordedVersion: outputs.version ?? null,
            recordedDigest: outputs.imageDigest,
            imageRef: outputs.imageRef ?? null,
            [live.noun.many]: instances.map(({ name, ...rest }) => ({ [live.noun.one]: name, ...rest })),
            drift,
            ...live.location,
        });
        return healthy ? ExitCode.Ok : ExitCode.NotOk;
    }
    const { paint } = context;
    const capital = (word: string): string => word.charAt(0).toUpperCase() + word.slice(1);
    context.stdout.write(`Stack ${stack.name} records ${outputs.version ?? "(no version)"} ${outputs.imageDigest}\n`);
    if (outputs.imageRef) {
        context.stdout.write(`  image ${outputs.imageRef}\n`);
    }
    if (instances.length === 0) {
        context.stdout.write(`${live.none}\n`);
        return ExitCode.NotOk;
    }
    context.stdout.write(`\n${capital(live.noun.many)} (${live.where}):\n`);
    context.stdout.write(renderInstances(instances, live.noun.one, paint));
    if (drift) {
        const drifted = instances.filter((instance) => instance.state === "drift");
        const digests = [...new Set(drifted.map((instance) => `${instance.digest} (version label ${instance.version ?? "none"})`))];
        context.stdout.write(
            `\n${paint("DRIFT", "red")}: ${drifted.length} of ${instances.length} ${live.noun.many} run ${digests.join(", ")}, not the recorded ${outputs.imageDigest}.\n` +
                `${live.driftCause}\n`,
        );
    }
    return healthy ? ExitCode.Ok : ExitCode.NotOk;
}

function renderInstances(instances: readonly LiveInstance[], noun: string, paint: Context["paint"]): string {
    const state = (text: string): string => (text === "ok" ? paint(text, "green") : text === "drift" ? paint("DRIFT", "red") : paint(text, "yellow"));
    return renderTable(
        [noun.toUpperCase(), "PHASE", "READY", "VERSION", "DIGEST", "STATE"],
        instances.map((instance) => [
            instance.name,
            instance.phase,
            instance.ready ? "yes" : "no",
            instance.version ?? "-",
            instance.digest ? shortDigest(instance.digest) : "-",
            state(instance.state),
        ]),
    );
}

export const statusCommand: Command = {
    name: "status",
    summary: "the recorded digest against the digests the live pods run",
    help: HELP,
    options: { ...COMMON_OPTIONS, json: { type: "boolean" } },
    run: (context, values) => status(context, { stack: text(values, "stack"), json: flag(values, "json") }),
};
