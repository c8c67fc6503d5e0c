// The policy pack the Pulumi policy runtime loads (compiled to dist/policy/index.js, see
// package.json here): it serves the policies of policies.ts to the engine and does nothing else.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// The description lives in PulumiPolicy.yaml alone; one given here would override it.
new PolicyPack("released-service", { policies: [...policies] });
