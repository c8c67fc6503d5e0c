// Reading each update's recorded state on every kind of backend: what the backend URLs say (as
// Pulumi reads them), the key layout every DIY backend shares, gzip, and errors that name the
// backend without its credentials. The S3 and PostgreSQL readers against real servers: e2e/team-state.e2e.ts.

import * as assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import * as net from "node:net";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { CliError } from "../../cli/core/exitCodes";
import { DiyCheckpoints, ExportedStates, type RecordedStates, type StateBucket, storedText, UnsupportedBackend, urlSecrets } from "../../cli/core/state";
import { recordedStatesOf, type StackOnBackend } from "../../cli/core/states/backends";
import { postgresLocation, PostgresBucket, storedBytes } from "../../cli/core/states/postgres";
import { S3Bucket, s3Location } from "../../cli/core/states/s3";
import { devHistory, DIGESTS, fileCheckpoints, PULUMI_HOME } from "./fakes";

/** The dev stack's history directory as keys and bytes, under `prefix`: what a bucket or table holds. */
async function devObjects(prefix: string): Promise<Map<string, Uint8Array>> {
    const dir = ".pulumi/history/released-service/dev";
    const objects = new Map<string, Uint8Array>();
    for (const name of await readdir(path.join(PULUMI_HOME, dir))) {
        objects.set(`${prefix}${dir}/${name}`, await readFile(path.join(PULUMI_HOME, dir, name)));
    }
    return objects;
}

/** A StateBucket over a map of keys, for the layout DiyCheckpoints reads; the real stores are read in e2e. */
function bucketOf(objects: Map<string, Uint8Array>, prefix = "", failure?: Error): StateBucket & { closed: number } {
    return {
        where: "memory",
        secrets: ["hunter2"],
        closed: 0,
        async names(dir) {
            if (failure) {
                throw failure;
            }
            const under = `${prefix}${dir}/`;
            return [...objects.keys()].filter((key) => key.startsWith(under) && !key.slice(under.length).includes("/")).map((key) => key.slice(under.length));
        },
        async read(key) {
            return objects.get(`${prefix}${key}`) ?? assert.fail(`no ${key}`);
        },
        async close() {
            this.closed++;
        },
    };
}

const stackOn = (backendUrl: string): StackOnBackend => ({
    backendUrl,
    workDir: "/work/project",
    project: "released-service",
    stack: "organization/released-service/dev",
    exportVersion: async () => assert.fail("not Pulumi Cloud"),
    onProgress: () => undefined,
});

describe("cli state backends", () => {
    it("reads the S3 URL as Pulumi does: bucket, prefix, endpoint with the scheme disableSSL picks, path style, region", () => {
        assert.deepEqual(s3Location("s3://team-state?endpoint=127.0.0.1:8333&s3ForcePathStyle=true&disableSSL=true&region=us-east-1", {}), {
            bucket: "team-state",
            prefix: "",
            client: {
                region: "us-east-1",
                endpoint: "http://127.0.0.1:8333",
                forcePathStyle: true,
                useDualstackEndpoint: false,
                useFipsEndpoint: false,
                useAccelerateEndpoint: false,
                responseChecksumValidation: "WHEN_REQUIRED",
            },
        });
        const aws = s3Location("s3://acme-pulumi/teams/payments?profile=ops", { AWS_REGION: "eu-west-1" });
        assert.deepEqual(aws, {
            bucket: "acme-pulumi",
            prefix: "teams/payments/",
            client: { region: "eu-west-1", profile: "ops", forcePathStyle: false, useDualstackEndpoint: false, useFipsEndpoint: false, useAccelerateEndpoint: false },
        });
        assert.equal(s3Location("s3://b?endpoint=minio.internal:9000", {}).client.endpoint, "https://minio.internal:9000");
        assert.equal(s3Location("s3://b?endpoint=http://minio:9000&disableSSL=false&use_path_style=1", {}).client.endpoint, "http://minio:9000");
        assert.equal(s3Location("s3://b?region=ap-south-1", { AWS_REGION: "eu-west-1" }).client.region, "ap-south-1");
        assert.equal(s3Location("s3://b", { AWS_DEFAULT_REGION: "us-west-2" }).client.region, "us-west-2");
    });

    it("refuses an S3 URL it cannot honour, naming the parameter", () => {
        assert.throws(() => s3Location("s3://b?regoin=us-east-1", {}), { message: "the s3:// backend URL has an unknown query parameter `regoin`" });
        assert.throws(() => s3Location("s3://b?s3ForcePathStyle=yes", {}), { message: 'the s3:// backend URL\'s `s3ForcePathStyle` must be true or false (got "yes")' });
        assert.throws(() => s3Location("s3://b?role=arn:aws:iam::1:role/x", {}), /`role` \(assume an IAM role\) is not supported yet/);
        assert.throws(() => recordedStatesOf(stackOn("s3://b?regoin=x")), { message: "cannot read the s3:// state backend: the s3:// backend URL has an unknown query parameter `regoin`" });
    });

    it("reads the PostgreSQL URL as lib/pq does once Pulumi takes `table` out: the database also prefixes every key", () => {
        assert.deepEqual(postgresLocation("postgres://ada:s3cret@db.example:6543/infra?sslmode=disable&table=team_state&connect_timeout=5", {}), {
            table: "team_state",
            prefix: "infra/",
            client: { host: "db.example", port: 6543, user: "ada", password: "s3cret", database: "infra", ssl: false, connectionTimeoutMillis: 5000 },
        });
        // lib/pq's defaults: table pulumi_state, sslmode require (encrypted, certificate unchecked), the PG* environment.
        assert.deepEqual(postgresLocation("postgres:///", { PGHOST: "pg", PGPORT: "5433", PGUSER: "ci", PGPASSWORD: "pw", PGDATABASE: "state" }), {
            table: "pulumi_state",
            prefix: "",
            client: { host: "pg", port: 5433, user: "ci", password: "pw", database: "state", ssl: { rejectUnauthorized: false } },
        });
        assert.equal(postgresLocation("postgres://u@h/d?table=ops.state", {}).table, "ops.state");
        assert.throws(() => postgresLocation("postgres://u@h/d?table=state;drop", {}), { message: 'the postgres:// backend URL\'s `table` must be a table name, optionally schema-qualified (got "state;drop")' });
        assert.throws(() => postgresLocation("postgres://u@h/d?sslmode=on", {}), /`sslmode` must be one of disable, allow, prefer, require, verify-ca, verify-full \(got "on"\)/);
    });

    it("decodes a row as Pulumi's postgres backend writes it, and the raw bytes of the older BYTEA table", () => {
        const checkpoint = Buffer.from('{"version":3}');
        assert.deepEqual(storedBytes({ data: checkpoint.toString("base64") }), checkpoint);
        assert.deepEqual(storedBytes(JSON.stringify({ data: checkpoint.toString("base64") })), checkpoint);
        assert.deepEqual(storedBytes(checkpoint), checkpoint);
        assert.throws(() => storedBytes({ version: 3 }), { message: 'a row\'s data is not {"data": "<base64>"}' });
    });

    it("finds each update's checkpoint under .pulumi/history/<project>/<stack>/ in a bucket, under the URL's prefix, gzipped or not", async () => {
        const plain = await fileCheckpoints(PULUMI_HOME, "released-service", "dev").statesOf(devHistory(), [1, 2, 3, 4, 5, 6]);
        const bucket = bucketOf(await devObjects("infra/"), "infra/");
        const states = await new DiyCheckpoints(bucket, "released-service", "dev").statesOf(devHistory(), [1, 2, 3, 4, 5, 6]);
        assert.deepEqual(states, plain);
        assert.equal(states.get(1)?.[0]?.imageDigest, DIGESTS["v1.0.0"]);
        assert.equal(bucket.closed, 1);
        assert.equal(storedText(gzipSync('{"a":1}')), '{"a":1}');
    });

    it("reads the locks and the recorded states at once on one connection, let go of once, after both: a close under a read would end it", async () => {
        const bucket = bucketOf(await devObjects("infra/"), "infra/");
        // As a PostgreSQL client's end() does: a read in flight when the connection is let go fails.
        let open = 0;
        const { names, read } = bucket;
        const connected = <T>(ask: () => Promise<T>): Promise<T> => {
            const generation = open;
            return new Promise((resolve, reject) =>
                setImmediate(() => (generation === open ? ask().then(resolve, reject) : reject(new Error("Connection terminated")))),
            );
        };
        bucket.names = (dir) => connected(() => names.call(bucket, dir));
        bucket.read = (key) => connected(() => read.call(bucket, key));
        const close = bucket.close.bind(bucket);
        bucket.close = async () => {
            open++;
            await close();
        };
        const reader = new DiyCheckpoints(bucket, "released-service", "dev");
        const [unfinished, states] = await Promise.all([reader.unfinished(), reader.statesOf(devHistory(), [1, 2, 3, 4, 5, 6])]);
        assert.deepEqual(unfinished, { where: "memory", locks: [], pending: [] });
        assert.equal(states.get(1)?.[0]?.imageDigest, DIGESTS["v1.0.0"]);
        assert.equal(bucket.closed, 1);
    });

    it("says which backend failed and why, with no credential in the message, and exits 3", async () => {
        const failing = bucketOf(new Map(), "", new Error("password authentication failed (password hunter2)"));
        await assert.rejects(new DiyCheckpoints(failing, "released-service", "dev").statesOf(devHistory(), [1]), (error: CliError) => {
            assert.equal(error.message, "cannot read the recorded state of stack dev from memory: password authentication failed (password [credential])");
            assert.equal(error.exitCode, 3);
            return true;
        });
        assert.equal(failing.closed, 1);
    });

    it("names a PostgreSQL server it cannot reach without its password", async () => {
        const port = await closedPort();
        const url = `postgres://ada:s3cret%21@127.0.0.1:${port}/postgres?sslmode=disable`;
        const reader = new DiyCheckpoints(new PostgresBucket(postgresLocation(url, {}), url, {}), "released-service", "dev");
        await assert.rejects(reader.statesOf(devHistory(), [1]), {
            message: `cannot read the recorded state of stack dev from postgres://127.0.0.1:${port}/postgres (table pulumi_state): connect ECONNREFUSED 127.0.0.1:${port}`,
        });
        assert.deepEqual(urlSecrets(url), ["s3cret%21", "s3cret!"]);
        const s3 = new S3Bucket(s3Location("s3://b?endpoint=127.0.0.1:1&disableSSL=true", {}), "s3://b", { AWS_SECRET_ACCESS_KEY: "wJalr" });
        assert.equal(s3.where, "s3://b/");
        assert.deepEqual(s3.secrets, ["wJalr"]);
    });

    it("picks one reader per backend and says in one line that gs:// and azblob:// are not read yet", async () => {
        assert.ok(recordedStatesOf(stackOn("file://~")) instanceof DiyCheckpoints);
        assert.ok(recordedStatesOf(stackOn("s3://b?region=us-east-1")) instanceof DiyCheckpoints);
        assert.ok(recordedStatesOf(stackOn("postgres://u@h/d")) instanceof DiyCheckpoints);
        assert.ok(recordedStatesOf(stackOn("https://api.pulumi.com")) instanceof ExportedStates);
        for (const scheme of ["gs", "azblob"]) {
            const reader = recordedStatesOf(stackOn(`${scheme}://team-state`));
            assert.ok(reader instanceof UnsupportedBackend);
            await assert.rejects((reader as RecordedStates).statesOf(devHistory(), [1]), {
                message: `the ${scheme}:// state backend is not supported yet: released-service reads each update's state from file://, s3://, postgres:// and Pulumi Cloud backends`,
            });
        }
    });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
}
