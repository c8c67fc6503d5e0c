// What the schema is inferred from: the TypeScript source of the exports index.js runs.
export * from "../components";
