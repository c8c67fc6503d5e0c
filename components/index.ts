// The released-service package: the component and the pure helpers behind it.
export * from "./releasedService";
export * from "./registry/reference";
export * from "./release/plan";
export * from "./release/provenance";
export * from "./config/validate";
export * from "./config/stackConfig";
export * from "./registry/client";
export * from "./registry/credentials";
export * from "./release/sourceDigest";
