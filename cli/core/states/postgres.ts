// PostgreSQL (`pulumi login postgres://user@host:5432/db?table=…`), read with `pg` the way Pulumi's
// postgres diy backend keeps its "bucket" (pulumi v3.274.1 pkg/backend/diy/postgres/bucket.go and
// schema.sql): one row per object in a table (`table` parameter, default `pulumi_state`) with
// columns `key TEXT` and `data JSON` holding `{"data": "<base64 of the object>"}`. The rest of the
// URL is handed to lib/pq, so its defaults hold here too: sslmode `require`, the PG* environment.
// The URL's path is the database, and Pulumi's diy backend also prefixes every key with it
// (backend.go: a URL's path becomes a blob.PrefixedBucket for every scheme but file://).

import * as os from "node:os";
import type { Client, ClientConfig } from "pg";
import { type StateBucket, urlSecrets } from "../state";

export interface PostgresLocation {
    readonly table: string;
    /** The key prefix of the backend's root: empty, or a path ending in `/`. */
    readonly prefix: string;
    readonly client: ClientConfig;
}

/** A table name as Pulumi puts it into its SQL: a name, or schema.name. Anything else is refused rather than quoted differently. */
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;

/** What lib/pq's sslmode means, as `pg`'s `ssl` option. */
function sslOf(mode: string, rootCert: string | undefined, host: string): ClientConfig["ssl"] {
    switch (mode) {
        case "disable":
        case "allow":
            return false;
        case "":
        case "prefer":
        case "require":
            // lib/pq: encrypted, the server's certificate unchecked (checked against sslrootcert when one is given).
            return rootCert ? { ca: rootCert, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { rejectUnauthorized: false };
        case "verify-ca":
            return { ca: rootCert, rejectUnauthorized: true, checkServerIdentity: () => undefined };
        case "verify-full":
            return { ca: rootCert, rejectUnauthorized: true, servername: host };
        default:
            throw new Error(`the postgres:// backend URL's \`sslmode\` must be one of disable, allow, prefer, require, verify-ca, verify-full (got "${mode}")`);
    }
}

/**
 * Where a `postgres://` backend URL points and how to connect, as lib/pq reads the URL with the
 * `table` parameter removed. Certificate paths are returned as paths; PostgresBucket reads them.
 */
export function postgresLocation(backendUrl: string, env: NodeJS.ProcessEnv = process.env): PostgresLocation {
    const url = new URL(backendUrl);
    if (url.protocol !== "postgres:") {
        throw new Error("a postgres backend URL starts with postgres://");
    }
    const param = (key: string): string | undefined => url.searchParams.get(key) || undefined;
    const table = param("table") ?? "pulumi_state";
    if (!TABLE_NAME.test(table)) {
        throw new Error(`the postgres:// backend URL's \`table\` must be a table name, optionally schema-qualified (got "${table}")`);
    }
    const host = decodeURIComponent(url.hostname) || param("host") || env.PGHOST || "localhost";
    const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || param("dbname") || env.PGDATABASE || undefined;
    const user = decodeURIComponent(url.username) || param("user") || env.PGUSER || os.userInfo().username;
    const password = decodeURIComponent(url.password) || param("password") || env.PGPASSWORD || undefined;
    const timeout = Number(param("connect_timeout") ?? env.PGCONNECT_TIMEOUT ?? 0);
    const path = url.pathname.replace(/^\/+/, "");
    return {
        table,
        prefix: path === "" || path.endsWith("/") ? path : `${path}/`,
        client: {
            host,
            port: Number(url.port || param("port") || env.PGPORT || 5432),
            user,
            ...(password !== undefined ? { password } : {}),
            ...(database !== undefined ? { database } : {}),
            ssl: sslOf(param("sslmode") ?? env.PGSSLMODE ?? "", param("sslrootcert") ?? env.PGSSLROOTCERT, host),
            ...(timeout > 0 ? { connectionTimeoutMillis: timeout * 1000 } : {}),
            ...(param("application_name") ? { application_name: param("application_name") } : {}),
            ...(param("options") ? { options: param("options") } : {}),
        },
    };
}

/** `value` as the body of a LIKE pattern that matches it literally. */
function likeLiteral(value: string): string {
    return value.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** The bytes of one row's `data`: `{"data": base64}` in a JSON column, or raw bytes in the BYTEA column older releases made. */
export function storedBytes(data: unknown): Uint8Array {
    if (Buffer.isBuffer(data)) {
        return data;
    }
    const wrapped = (typeof data === "string" ? JSON.parse(data) : data) as { data?: unknown } | null;
    if (typeof wrapped?.data !== "string") {
        throw new Error('a row\'s data is not {"data": "<base64>"}');
    }
    return Buffer.from(wrapped.data, "base64");
}

/** One table, read with SELECT (the only privilege needed). */
export class PostgresBucket implements StateBucket {
    readonly where: string;
    readonly secrets: readonly string[];
    private client: Promise<Client> | undefined;

    constructor(
        private readonly location: PostgresLocation,
        backendUrl: string,
        env: NodeJS.ProcessEnv = process.env,
    ) {
        const { host, port, database } = location.client;
        this.where = `postgres://${host}:${port}/${database ?? ""} (table ${location.table})`;
        this.secrets = [...urlSecrets(backendUrl), env.PGPASSWORD ?? ""].filter((secret) => secret !== "");
    }

    private open(): Promise<Client> {
        this.client ??= (async () => {
            const { Client } = await import("pg");
            const { readFile } = await import("node:fs/promises");
            const ssl = this.location.client.ssl;
            const ca = typeof ssl === "object" && typeof ssl.ca === "string" ? await readFile(ssl.ca, "utf8") : undefined;
            const client = new Client({ ...this.location.client, ...(ca ? { ssl: { ...(ssl as object), ca } } : {}) });
            // A connection the server drops while idle is reported on the client, not on a query.
            client.on("error", () => undefined);
            await client.connect();
            return client;
        })();
        return this.client;
    }

    async names(dir: string): Promise<string[]> {
        const client = await this.open();
        const prefix = `${this.location.prefix}${dir}/`;
        const { rows } = await client.query<{ key: string }>(`SELECT key FROM ${this.location.table} WHERE key LIKE $1 ORDER BY key`, [`${likeLiteral(prefix)}%`]);
        return rows.map((row) => row.key.slice(prefix.length)).filter((name) => name !== "" && !name.includes("/"));
    }

    async read(key: string): Promise<Uint8Array> {
        const client = await this.open();
        const { rows } = await client.query<{ data: unknown }>(`SELECT data FROM ${this.location.table} WHERE key = $1`, [`${this.location.prefix}${key}`]);
        if (rows.length === 0) {
            throw new Error(`no row for ${key}`);
        }
        return storedBytes(rows[0].data);
    }

    async close(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        await (await client?.catch(() => undefined))?.end();
    }
}
