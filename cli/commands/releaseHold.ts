// `released-service release-hold`: lifts the hold a rollback left, so updates may run another
// digest again. Runs no update.

import { COMMON_HELP, COMMON_OPTIONS, type Command, EXIT_CODES, text } from "../core/command";
import type { Context } from "../core/context";
import { ExitCode } from "../core/exitCodes";
import { describeHold, HOLD_KEY, holdOf } from "../core/hold";

const HELP = `Usage: released-service release-hold [--stack S]

Removes the hold a rollback set (released-service:hold in the stack config), so
updates may run another digest again. Runs no update. Commit the stack config
file afterwards.

Options:
${COMMON_HELP}

${EXIT_CODES}
`;

async function releaseHold(context: Context, options: { stack?: string }): Promise<number> {
    const stack = await context.deps.openStack(options.stack);
    context.progress.update(`Reading the config of stack ${stack.name}…`);
    const hold = holdOf(await stack.config());
    if (!hold) {
        context.progress.done();
        context.stdout.write(`Stack ${stack.name} has no hold; nothing to do.\n`);
        return ExitCode.Ok;
    }
    await stack.editConfig({ set: {}, remove: [HOLD_KEY] });
    context.progress.done();
    context.stdout.write(
        `Lifted the hold of stack ${stack.name} on ${describeHold(hold)}.\n` +
            `Updates may run another digest again. Commit ${stack.configFile} so the hold is gone from git too.\n`,
    );
    return ExitCode.Ok;
}

export const releaseHoldCommand: Command = {
    name: "release-hold",
    summary: "lift the hold a rollback left",
    help: HELP,
    options: { ...COMMON_OPTIONS },
    run: (context, values) => releaseHold(context, { stack: text(values, "stack") }),
};
