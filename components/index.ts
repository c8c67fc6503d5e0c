// The released-service package: the component and the pure helpers behind it.
export * from "./releasedService";
export * from "./config/entries";
export * from "./labels";
export * from "./config/schema";
export * from "./config/stackConfig";
export * from "./config/validate";
export * from "./registry/client";
export * from "./registry/credentials";
export * from "./registry/reference";
export * from "./release/image";
export * from "./release/plan";
export * from "./release/provenance";
export * from "./release/resolve";
export * from "./release/sourceDigest";
export * from "./workloads/kubernetes/deployment";
export * from "./workloads/workload";
