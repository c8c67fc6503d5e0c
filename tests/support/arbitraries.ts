// Generators for the property tests: valid values built production by production from the
// image-reference grammar (distribution/reference) and the Kubernetes name rules, and invalid
// values made by breaking a valid one in one known way. Written from the grammar, not from
// components/, so that the checks are tested against the rules rather than against themselves.
import * as fc from "fast-check";

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();
const DIGITS = "0123456789";
const HEX = "0123456789abcdef";
const WORD = `${LOWER}${UPPER}${DIGITS}_`;

/** A repository name, domain included, holds at most 255 characters. */
export const MAX_REPOSITORY_LENGTH = 255;
/** A tag holds at most 128 characters. */
export const MAX_TAG_LENGTH = 128;
/** Kubernetes appends `-` and 8 characters to the workload's name; a DNS label holds 63. */
export const MAX_WORKLOAD_NAME_LENGTH = 63 - 9;
/** A namespace is a DNS label. */
export const MAX_NAMESPACE_LENGTH = 63;
/** `replicas` and `revisionHistoryLimit` are int32 fields of a Deployment. */
export const INT32_MAX = 2 ** 31 - 1;

const oneOf = (set: string): fc.Arbitrary<string> => fc.constantFrom(...set);
const text = (set: string, minLength: number, maxLength: number): fc.Arbitrary<string> =>
    fc.string({ unit: oneOf(set), minLength, maxLength });

/** `value` with `insert` placed before the character at `at` (taken modulo the length + 1). */
export function insertAt(value: string, insert: string, at: number): string {
    const i = at % (value.length + 1);
    return value.slice(0, i) + insert + value.slice(i);
}

/** `value` with the character at `at` (modulo the length) replaced; `value` must not be empty. */
function replaceAt(value: string, replacement: string, at: number): string {
    const i = at % value.length;
    return value.slice(0, i) + replacement + value.slice(i + 1);
}

// ---- Values of the wrong type, as a JavaScript caller or a hand-written program might pass.

const objects = fc.oneof(
    fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3, noNullPrototype: true }),
);
const others = fc.oneof(fc.constant(null), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.constant(Symbol("value")), objects);

/** Anything but a string. */
export const notAString: fc.Arbitrary<unknown> = fc.oneof(fc.integer(), fc.double(), fc.boolean(), others);
/** Anything but a number, including text that reads as one. */
export const notANumber: fc.Arbitrary<unknown> = fc.oneof(
    fc.integer({ min: 0, max: 100 }).map(String),
    fc.string({ maxLength: 8 }),
    fc.boolean(),
    others,
);
/** Anything but a boolean, including the words for one. */
export const notABoolean: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom("true", "false", "yes", "no", ""),
    fc.constantFrom(0, 1),
    fc.string({ maxLength: 8 }),
    fc.double(),
    others,
);

// ---- Repositories: [domain/]path-component(/path-component)*

/** alpha-numeric := [a-z0-9]+ */
const alphaNumeric = text(`${LOWER}${DIGITS}`, 1, 6);
/** separator := [_.] | __ | [-]+ */
const separator = fc.oneof(fc.constantFrom(".", "_", "__"), fc.integer({ min: 1, max: 3 }).map((n) => "-".repeat(n)));
/** path-component := alpha-numeric (separator alpha-numeric)* */
export const pathComponent: fc.Arbitrary<string> = fc
    .tuple(alphaNumeric, fc.array(fc.tuple(separator, alphaNumeric), { maxLength: 3 }))
    .map(([first, rest]) => first + rest.map(([s, a]) => s + a).join(""));

const ALNUM = `${LOWER}${UPPER}${DIGITS}`;
/** domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
const domainComponent = fc.oneof(
    oneOf(ALNUM),
    fc.tuple(oneOf(ALNUM), text(`${ALNUM}-`, 0, 8), oneOf(ALNUM)).map(([a, middle, z]) => a + middle + z),
);
/** port-number := [0-9]+ */
const port = text(DIGITS, 1, 5);
const withPort = (host: string, p: string | undefined): string => (p === undefined ? host : `${host}:${p}`);

/**
 * domain := domain-component ('.' domain-component)* [':' port-number], in the forms Docker reads
 * as a registry host when it comes first: `localhost`, a name with a dot, or any name with a port.
 * (A first component with none of these is a path component: `acme/api` is on Docker Hub.)
 */
export const domain: fc.Arbitrary<string> = fc.oneof(
    fc.option(port, { nil: undefined, freq: 2 }).map((p) => withPort("localhost", p)),
    fc
        .tuple(fc.array(domainComponent, { minLength: 2, maxLength: 4 }), fc.option(port, { nil: undefined, freq: 2 }))
        .map(([components, p]) => withPort(components.join("."), p)),
    fc.tuple(domainComponent, port).map(([host, p]) => withPort(host, p)),
);

/**
 * A one-component host with an upper-case letter and no dot or port, e.g. `Registry/api`: the
 * grammar allows it, and Docker reads such a first component as a host because a path may not
 * hold upper-case letters.
 */
export const upperCaseHostRepository: fc.Arbitrary<string> = fc
    .tuple(domainComponent, oneOf(UPPER), fc.nat(), fc.array(pathComponent, { minLength: 1, maxLength: 3 }))
    .map(([host, upper, at, path]) => [insertAt(host, upper, at), ...path].join("/"));

const shortRepository = fc
    .tuple(fc.option(domain, { nil: undefined, freq: 3 }), fc.array(pathComponent, { minLength: 1, maxLength: 4 }))
    // Without a domain, a first component with a dot would be read as a host; the domain
    // generator covers hosts, so such a path only stands alone.
    .filter(([host, path]) => host !== undefined || path.length === 1 || !path[0].includes("."))
    .map(([host, path]) => [...(host === undefined ? [] : [host]), ...path].join("/"));

/** Lengthens a valid repository to `length` by extending its last alpha-numeric run. */
const lengthen = (repository: string, length: number, fill: string): string =>
    repository + fill.repeat(Math.max(0, length - repository.length));

/** A valid repository, sometimes right at the length limit. */
export const repository: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: shortRepository },
    {
        weight: 1,
        arbitrary: fc
            .tuple(shortRepository, fc.integer({ min: MAX_REPOSITORY_LENGTH - 20, max: MAX_REPOSITORY_LENGTH }), oneOf(LOWER))
            .map(([r, length, fill]) => lengthen(r, length, fill)),
    },
);

/** Characters no repository, tag, label or stack name may hold. */
const BAD_CHARACTERS = [" ", "\t", "\n", "!", "#", "$", "%", "&", "*", "+", ",", ";", "=", "?", "\\", "|", "~", "'", '"', "é", "ß", "Ω", "\u0000", "\u00a0"];
const badCharacter = fc.oneof(
    fc.constantFrom(...BAD_CHARACTERS),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }).filter((c) => !/^[A-Za-z0-9_.:@/-]$/.test(c)),
);

/** The last path component of a repository: always a path, never a host. */
function splitLast(repository: string): [string, string] {
    const slash = repository.lastIndexOf("/");
    return [repository.slice(0, slash + 1), repository.slice(slash + 1)];
}

export const digest: fc.Arbitrary<string> = text(HEX, 64, 64).map((hex) => `sha256:${hex}`);

/** tag := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, and never `latest`. */
export const tag: fc.Arbitrary<string> = fc
    .oneof(
        fc.tuple(oneOf(WORD), text(`${WORD}.-`, 0, 20)).map(([a, rest]) => a + rest),
        // Any length up to the limit (and shrinking to the shortest).
        fc
            .tuple(oneOf(WORD), fc.string({ unit: oneOf(`${WORD}.-`), maxLength: MAX_TAG_LENGTH - 1, size: "max" }))
            .map(([a, rest]) => a + rest),
        fc.tuple(oneOf(WORD), text(`${WORD}.-`, MAX_TAG_LENGTH - 1, MAX_TAG_LENGTH - 1)).map(([a, rest]) => a + rest),
        // The shapes releases take: semantic versions and git SHAs.
        fc
            .tuple(fc.nat(99), fc.nat(99), fc.nat(999), fc.option(text(`${LOWER}${DIGITS}.`, 1, 8), { nil: undefined }))
            .map(([a, b, c, pre]) => `v${a}.${b}.${c}${pre === undefined ? "" : `-${pre}`}`),
        text(HEX, 7, 40),
    )
    .filter((t) => t !== "latest");

/** Repositories broken in one way each. */
export const invalidRepository: fc.Arbitrary<unknown> = fc.oneof(
    fc.constant(""),
    // An upper-case letter in a path component.
    fc.tuple(repository, oneOf(UPPER), fc.nat()).map(([r, upper, at]) => {
        const [head, last] = splitLast(r);
        return head + insertAt(last, upper, at);
    }),
    // A tag or a digest: those are `version` and `digest`.
    fc.tuple(repository, tag).map(([r, t]) => `${r}:${t}`),
    fc.tuple(repository, digest).map(([r, d]) => `${r}@${d}`),
    // A separator where an alpha-numeric must be: leading, trailing, or two in a row.
    fc.tuple(repository, fc.constantFrom(".", "_", "__", "-")).map(([r, s]) => {
        const [head, last] = splitLast(r);
        return `${head}${s}${last}`;
    }),
    fc.tuple(repository, fc.constantFrom(".", "_", "__", "-")).map(([r, s]) => `${r}${s}`),
    fc.tuple(repository, fc.constantFrom("..", "___", "._", "_.", "-.", ".-", "-_", "_-"), fc.nat()).map(([r, s, at]) => {
        const [head, last] = splitLast(r);
        return head + insertAt(last, s, at);
    }),
    // An empty component: a double slash, or a leading or trailing slash.
    fc.tuple(repository, fc.nat()).map(([r, at]) => {
        const slashes = [...r].flatMap((c, i) => (c === "/" ? [i] : []));
        return slashes.length === 0 ? `${r}//x` : insertAt(r, "/", slashes[at % slashes.length]);
    }),
    repository.map((r) => `/${r}`),
    repository.map((r) => `${r}/`),
    // A host that is not one: a bad port, an underscore, a hyphen at an edge, an empty label.
    fc.tuple(domainComponent, text(`${LOWER}:`, 1, 3), pathComponent).map(([h, p, path]) => `${h}.io:5${p}/${path}`),
    fc.tuple(domainComponent, pathComponent).map(([h, path]) => `${h}:/${path}`),
    fc.tuple(domainComponent, domainComponent, pathComponent).map(([a, b, path]) => `${a}_${b}.io/${path}`),
    fc.tuple(domainComponent, pathComponent).map(([h, path]) => `-${h}.io/${path}`),
    fc.tuple(domainComponent, pathComponent).map(([h, path]) => `${h}-.io/${path}`),
    fc.tuple(domainComponent, pathComponent).map(([h, path]) => `${h}..io/${path}`),
    // Too long.
    fc
        .tuple(repository, fc.integer({ min: MAX_REPOSITORY_LENGTH + 1, max: 2 * MAX_REPOSITORY_LENGTH }), oneOf(LOWER))
        .map(([r, length, fill]) => lengthen(r, length, fill)),
    // A character the grammar has no place for.
    fc.tuple(repository, badCharacter, fc.nat()).map(([r, c, at]) => {
        const [head, last] = splitLast(r);
        return head + insertAt(last, c, at);
    }),
    notAString,
);

/** Tags broken in one way each (for `version` and `sourceVersion`). */
export const invalidTag: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom("", "latest"),
    // A first character that may only follow.
    fc.tuple(fc.constantFrom(".", "-"), tag).map(([c, t]) => c + t),
    // Too long.
    fc
        .tuple(tag, fc.integer({ min: MAX_TAG_LENGTH + 1, max: 2 * MAX_TAG_LENGTH }), oneOf(WORD))
        .map(([t, length, fill]) => t + fill.repeat(length - t.length)),
    // A character tags do not hold, including the separators of a reference.
    fc.tuple(tag, fc.oneof(badCharacter, fc.constantFrom(":", "@", "/")), fc.nat()).map(([t, c, at]) => insertAt(t, c, at)),
    fc.tuple(repository, tag).map(([r, t]) => `${r}:${t}`),
    fc.tuple(tag, digest).map(([t, d]) => `${t}@${d}`),
    notAString,
);

/** Digests broken in one way each. */
export const invalidDigest: fc.Arbitrary<unknown> = fc.oneof(
    // Too few or too many hex digits.
    fc.oneof(text(HEX, 0, 63), text(HEX, 65, 130)).map((hex) => `sha256:${hex}`),
    // An upper-case hex digit.
    fc.tuple(digest, oneOf("ABCDEF"), fc.nat()).map(([d, c, at]) => `sha256:${replaceAt(d.slice(7), c, at)}`),
    // A character that is not a hex digit.
    fc.tuple(digest, fc.oneof(oneOf("ghijklmnopqrstuvwxyzG:_-. "), badCharacter), fc.nat()).map(
        ([d, c, at]) => `sha256:${replaceAt(d.slice(7), c, at)}`,
    ),
    // Another algorithm, or none.
    fc
        .tuple(fc.constantFrom("", "sha256", "SHA256:", "sha512:", "sha384:", "sha256=", "sha-256:", "sha256::"), digest)
        .map(([algorithm, d]) => algorithm + d.slice(7)),
    text(HEX, 128, 128).map((hex) => `sha512:${hex}`),
    // Whitespace around, or a whole reference.
    fc.tuple(digest, fc.constantFrom(" ", "\n", "\t")).chain(([d, w]) => fc.constantFrom(`${w}${d}`, `${d}${w}`)),
    fc.tuple(repository, digest).map(([r, d]) => `${r}@${d}`),
    notAString,
);

// ---- Kubernetes names.

/** A DNS-1035 label (Services need one) short enough for Kubernetes' generated suffix. */
export const workloadName: fc.Arbitrary<string> = fc.oneof(
    oneOf(LOWER),
    fc.tuple(oneOf(LOWER), text(`${LOWER}${DIGITS}-`, 0, 20), oneOf(`${LOWER}${DIGITS}`)).map(([a, m, z]) => a + m + z),
    fc
        .tuple(oneOf(LOWER), text(`${LOWER}${DIGITS}-`, MAX_WORKLOAD_NAME_LENGTH - 12, MAX_WORKLOAD_NAME_LENGTH - 2), oneOf(`${LOWER}${DIGITS}`))
        .map(([a, m, z]) => a + m + z),
);

/** A DNS-1123 label. */
export const namespace: fc.Arbitrary<string> = fc.oneof(
    oneOf(`${LOWER}${DIGITS}`),
    fc
        .tuple(oneOf(`${LOWER}${DIGITS}`), text(`${LOWER}${DIGITS}-`, 0, 20), oneOf(`${LOWER}${DIGITS}`))
        .map(([a, m, z]) => a + m + z),
    fc
        .tuple(oneOf(`${LOWER}${DIGITS}`), text(`${LOWER}${DIGITS}-`, MAX_NAMESPACE_LENGTH - 12, MAX_NAMESPACE_LENGTH - 2), oneOf(`${LOWER}${DIGITS}`))
        .map(([a, m, z]) => a + m + z),
);

/** Labels broken in one way each; `first` is what may not start one (a digit, for a DNS-1035 label). */
function invalidLabel(valid: fc.Arbitrary<string>, maxLength: number, first: string): fc.Arbitrary<unknown> {
    return fc.oneof(
        fc.constant(""),
        fc.tuple(oneOf(first), valid).map(([c, v]) => c + v),
        valid.map((v) => `${v}-`),
        fc.tuple(valid, oneOf(UPPER), fc.nat()).map(([v, c, at]) => insertAt(v, c, at)),
        fc.tuple(valid, fc.oneof(fc.constantFrom(".", "_", "/", ":"), badCharacter), fc.nat()).map(([v, c, at]) => insertAt(v, c, at)),
        fc
            .tuple(valid, fc.integer({ min: maxLength + 1, max: 2 * maxLength }), oneOf(`${LOWER}${DIGITS}`))
            .map(([v, length, fill]) => v + fill.repeat(Math.max(0, length - v.length))),
        notAString,
    );
}

export const invalidWorkloadName = invalidLabel(workloadName, MAX_WORKLOAD_NAME_LENGTH, `${DIGITS}-`);
export const invalidNamespace = invalidLabel(namespace, MAX_NAMESPACE_LENGTH, "-");

// ---- Stacks to promote from: org/project/stack.

const STACK_CHARACTERS = `${ALNUM}_.-`;
const stackSegment = fc.oneof(text(STACK_CHARACTERS, 1, 20), text(STACK_CHARACTERS, 90, 100));
export const stackName: fc.Arbitrary<string> = fc.array(stackSegment, { minLength: 3, maxLength: 3 }).map((s) => s.join("/"));

export const invalidStackName: fc.Arbitrary<unknown> = fc.oneof(
    // Too few or too many parts.
    fc.oneof(fc.array(stackSegment, { minLength: 1, maxLength: 2 }), fc.array(stackSegment, { minLength: 4, maxLength: 6 })).map((s) => s.join("/")),
    // An empty part.
    fc.tuple(fc.array(stackSegment, { minLength: 3, maxLength: 3 }), fc.nat(2)).map(([s, i]) => s.map((p, j) => (i === j ? "" : p)).join("/")),
    stackName.map((s) => `/${s}`),
    stackName.map((s) => `${s}/`),
    // A character stack names do not hold.
    fc.tuple(fc.array(stackSegment, { minLength: 3, maxLength: 3 }), fc.nat(2), fc.oneof(badCharacter, fc.constantFrom(":", "@")), fc.nat()).map(
        ([s, i, c, at]) => s.map((p, j) => (i === j ? insertAt(p, c, at) : p)).join("/"),
    ),
    notAString,
);

// ---- Numbers.

const fraction = fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true });
const notFinite = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);

/** A count Kubernetes stores as int32 (`replicas`, `revisionHistoryLimit`). */
export const count: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: INT32_MAX }));
/** Counts broken in one way each, within what a JavaScript number holds exactly. */
export const invalidCount: fc.Arbitrary<unknown> = fc.oneof(
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
    fraction,
    notFinite,
    notANumber,
);
/** Whole numbers no int32 field can hold. */
export const beyondInt32: fc.Arbitrary<number> = fc.integer({ min: INT32_MAX + 1, max: Number.MAX_SAFE_INTEGER });

export const portNumber: fc.Arbitrary<number> = fc.integer({ min: 1, max: 65535 });
export const invalidPort: fc.Arbitrary<unknown> = fc.oneof(
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: 0 }),
    fc.integer({ min: 65536, max: Number.MAX_SAFE_INTEGER }),
    fraction,
    notFinite,
    notANumber,
);

// ---- Secrets.

/** Passwords distinctive enough that finding one in plain text is never a coincidence. */
export const password: fc.Arbitrary<string> = fc
    .oneof(fc.string({ unit: "grapheme", minLength: 12, maxLength: 40 }), fc.string({ unit: "binary-ascii", minLength: 12, maxLength: 40 }))
    .filter((p) => new Set(p).size >= 6);
export const userName: fc.Arbitrary<string> = text(`${LOWER}${DIGITS}-`, 1, 16);
