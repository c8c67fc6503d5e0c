// The released-service package: the component and the pure helpers behind it.
export * from "./releasedService";
export * from "./reference";
export * from "./release";
export * from "./provenance";
export * from "./validate";
export * from "./stackConfig";
export * from "./registry";
export * from "./dockerConfig";
export * from "./sourceDigest";
