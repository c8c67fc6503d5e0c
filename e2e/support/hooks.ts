/**
 * Mocha root hooks of the real-engine suite: one environment for every scenario, started
 * before the first and stopped after the last, with the versions it ran with in the log.
 */
import { startEnvironment, versions, type Environment } from "./environment";

let current: Environment | undefined;

/** The running environment; scenarios call this inside their hooks and tests. */
export function environment(): Environment {
    if (current === undefined) {
        throw new Error("the e2e environment is not running (e2e/support/hooks.ts starts it before all tests)");
    }
    return current;
}

const log = (line: string): void => {
    process.stderr.write(`e2e: ${line}\n`);
};

export const mochaHooks = {
    async beforeAll(this: Mocha.Context): Promise<void> {
        this.timeout(90 * 60_000);
        current = await startEnvironment(log);
        for (const line of await versions(current)) {
            log(line);
        }
    },
    async afterAll(this: Mocha.Context): Promise<void> {
        this.timeout(120_000);
        await current?.stop();
        current = undefined;
    },
};
