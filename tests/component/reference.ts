// docs/reference.md, written from the component schema every language reads
// (tests/component/schema.snapshot.json): each input and output of each component and each type,
// with its type in TypeScript, YAML, Python and Go, its default and its description. Pure.

interface Property {
    readonly type?: string;
    readonly $ref?: string;
    readonly items?: Property;
    readonly additionalProperties?: Property;
    readonly optional?: boolean;
    readonly plain?: boolean;
    readonly secret?: boolean;
    readonly description?: string;
}

interface ObjectType {
    readonly type: string;
    readonly description?: string;
    readonly properties?: Record<string, Property>;
    readonly required?: string[];
    readonly enum?: { readonly name: string; readonly value: string; readonly description?: string }[];
}

export interface ReferenceSchema {
    readonly name: string;
    readonly resources: Record<
        string,
        { readonly description?: string; readonly inputProperties: Record<string, Property>; readonly requiredInputs?: string[]; readonly properties: Record<string, Property>; readonly required?: string[] }
    >;
    readonly types: Record<string, ObjectType>;
}

type Language = "typescript" | "yaml" | "python" | "go";

const SCALARS: Record<string, Record<Language, string>> = {
    string: { typescript: "string", yaml: "String", python: "str", go: "string" },
    number: { typescript: "number", yaml: "Number", python: "float", go: "float64" },
    integer: { typescript: "number", yaml: "Integer", python: "int", go: "int" },
    boolean: { typescript: "boolean", yaml: "Boolean", python: "bool", go: "bool" },
};

const shortName = (token: string): string => token.slice(token.lastIndexOf(":") + 1);

/** A property's type as one language writes it. Object types are input types: Python and Go name them `…Args`. */
export function typeIn(property: Property, language: Language, types: ReferenceSchema["types"], output = false): string {
    if (property.$ref !== undefined) {
        const token = property.$ref.replace("#/types/", "");
        const name = shortName(token);
        const isEnum = types[token]?.enum !== undefined;
        return isEnum || output || language === "typescript" || language === "yaml" ? name : `${name}Args`;
    }
    if (property.type === "array") {
        const item = typeIn(property.items ?? {}, language, types, output);
        return { typescript: `${item}[]`, yaml: `List<${item}>`, python: `Sequence[${item}]`, go: `[]${item}` }[language];
    }
    if (property.type === "object") {
        const value = typeIn(property.additionalProperties ?? { type: "string" }, language, types, output);
        return { typescript: `Record<string, ${value}>`, yaml: `Map<${value}>`, python: `Mapping[str, ${value}]`, go: `map[string]${value}` }[language];
    }
    return SCALARS[property.type ?? "string"]?.[language] ?? property.type ?? "?";
}

/** `publishedPort` → `published_port`. */
export function pythonName(name: string): string {
    return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** `publishedPort` → `PublishedPort`. */
export function goName(name: string): string {
    return name.charAt(0).toUpperCase() + name.slice(1);
}

/** The description's `Defaults to …` sentence, as the default, and the rest. */
export function splitDefault(description: string): { text: string; default: string } {
    const flat = description.replace(/\s+/g, " ").trim();
    const match = /(?:^|\s)Defaults to (.+?)\.(?=\s|$)/.exec(flat);
    if (match === null) {
        return { text: flat, default: "" };
    }
    return { text: flat.replace(match[0], "").trim(), default: match[1] };
}

const cell = (text: string): string => text.replace(/\|/g, "\\|");
const code = (text: string): string => `\`${text}\``;

function table(properties: Record<string, Property>, required: readonly string[], types: ReferenceSchema["types"], output: boolean): string {
    const rows = Object.entries(properties).map(([name, property]) => {
        const { text, default: fallback } = splitDefault(property.description ?? "");
        const needed = required.includes(name) || (!output && property.optional !== true && !text.endsWith("Required."));
        return [
            `${code(name)}${needed && !output ? " (required)" : ""}`,
            `${code(pythonName(name))}, ${code(goName(name))}`,
            code(typeIn(property, "typescript", types, output)),
            code(typeIn(property, "yaml", types, output)),
            code(typeIn(property, "python", types, output)),
            code(typeIn(property, "go", types, output)),
            output ? "" : property.plain === true ? "plain" : "input",
            cell(fallback),
            cell(text),
        ];
    });
    const header = ["name", "Python, Go", "TypeScript", "YAML", "Python", "Go", "takes", "default", "description"];
    const columns = output ? header.map((title, index) => [title, index]).filter(([title]) => title !== "takes" && title !== "default") : header.map((title, index) => [title, index]);
    const keep = columns.map(([, index]) => index as number);
    const line = (cells: readonly string[]): string => `| ${keep.map((index) => cells[index]).join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** docs/reference.md as the schema says. */
export function reference(schema: ReferenceSchema): string {
    const parts: string[] = [
        "# Reference",
        "",
        "Every input and output of the components and of the types they take, as every Pulumi language",
        "reads them: written from the component schema (`tests/component/schema.snapshot.json`, what",
        "`pulumi package get-schema` prints for `plugin/`) by `tests/component/reference.ts`; `npm test`",
        "fails when this page and the schema differ, and `UPDATE_REFERENCE=1 npx mocha",
        "tests/component/reference.test.ts` writes it again.",
        "",
        "Names: TypeScript and YAML use a property's name as it is, Python in `snake_case`, Go in",
        "`PascalCase`. Object types are `…Args` in Python and Go where they are inputs. **takes**: a",
        "`plain` input is a value the component reads while the program runs (a literal or config, not",
        "another resource's output); an `input` also takes an output (`pulumi.Input<T>` in TypeScript,",
        "`Input[T]` in Python, the type's `…Input` in Go). Outputs are `Output<T>` in TypeScript,",
        "`Output[T]` in Python and the type's `…Output` in Go.",
        "",
    ];
    for (const [token, resource] of Object.entries(schema.resources)) {
        parts.push(
            `## ${shortName(token)}`,
            "",
            `\`${token}\`: ${(resource.description ?? "").replace(/\s+/g, " ").trim()}`,
            "",
            "### Inputs",
            "",
            table(resource.inputProperties, resource.requiredInputs ?? [], schema.types, false),
            "",
            "### Outputs",
            "",
            table(resource.properties, resource.required ?? [], schema.types, true),
            "",
        );
    }
    parts.push("## Types", "");
    for (const [token, type] of Object.entries(schema.types)) {
        parts.push(`### ${shortName(token)}`, "");
        if (type.description !== undefined) {
            parts.push(type.description.replace(/\s+/g, " ").trim(), "");
        }
        if (type.enum !== undefined) {
            parts.push(
                `An enum of ${type.type}s: \`${shortName(token)}.<Name>\` in TypeScript and Python, \`${shortName(token)}<Name>\` in Go, the value itself in YAML.`,
                "",
                "| name | value | description |",
                "| --- | --- | --- |",
                ...type.enum.map((member) => `| ${code(member.name)} | ${code(member.value)} | ${cell((member.description ?? "").replace(/\s+/g, " ").trim())} |`),
                "",
            );
        } else {
            const output = token.endsWith(":ServiceWorkload");
            parts.push(table(type.properties ?? {}, type.required ?? [], schema.types, output), "");
        }
    }
    return `${parts.join("\n").trimEnd()}\n`;
}
