// The released-service project: reads the stack config, runs one ReleasedService and
// exports what runs. Rolling back is running this again with an earlier `version`.
import * as pulumi from "@pulumi/pulumi";

import { ReleasedService } from "./components";
import { CONFIG_NAMESPACE } from "./components/config/schema";
import { PLAIN_KEYS, type RawStackConfig, StackConfigError, stackSettings } from "./components/config/stackConfig";

const config = new pulumi.Config(CONFIG_NAMESPACE);
const raw: RawStackConfig = Object.fromEntries(PLAIN_KEYS.map((key) => [key, config.get(key)]));

let settings;
try {
    const prefix = `${CONFIG_NAMESPACE}:`;
    const keys = Object.keys(pulumi.runtime.allConfig())
        .filter((key) => key.startsWith(prefix))
        .map((key) => key.slice(prefix.length));
    settings = stackSettings(raw, config.getSecret("registryPassword"), { keys, organization: pulumi.getOrganization() });
} catch (err) {
    // A refused config is the user's to fix: say what is wrong, without a stack trace.
    throw err instanceof StackConfigError ? new pulumi.RunError(err.message) : err;
}

const service = new ReleasedService(settings.name, settings.args);

export const imageDigest = service.imageDigest;
export const imageRef = service.imageRef;
export const version = service.version;
export const built = service.built;
