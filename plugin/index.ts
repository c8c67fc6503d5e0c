// The package's entry point as the schema inference reads it: the engine runs the compiled package
// (package.json `main`), and the inference reads this TypeScript source of the same exports.
export * from "../components";
