// The released-service project: reads the stack config, runs one ReleasedService and
// exports what runs. Rolling back is running this again with an earlier `version`.
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import { ReleasedService } from "./components";
import { CONFIG_NAMESPACE } from "./components/config/schema";
import { PLAIN_KEYS, type RawStackConfig, StackConfigError, stackSettings } from "./components/config/stackConfig";

// `npm run up` renders the manifests when no cluster answers, from a copy of this stack's config
// that sets kubernetes:renderYamlToDirectory (scripts/up). A run without that copy, a plain
// `pulumi up` or `preview`, would apply them to a cluster instead: the kubernetes provider would
// change, and the Deployment and Service would be replaced under new names. It stops here instead.
const renderCopy = path.join(".pulumi", `Pulumi.${pulumi.getStack()}.rendered.yaml`);
if (fs.existsSync(renderCopy) && new pulumi.Config("kubernetes").get("renderYamlToDirectory") === undefined) {
    throw new pulumi.RunError(
        `stack ${pulumi.getStack()} renders its manifests instead of applying them (npm run up found no cluster; ${renderCopy}), ` +
            "and this run would apply them to a cluster, replacing the rendered Deployment and Service: run `npm run up`, " +
            "which renders them again, or applies them once a cluster answers",
    );
}

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
