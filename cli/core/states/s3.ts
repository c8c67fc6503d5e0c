// S3 and S3-compatible stores (`pulumi login s3://bucket/prefix?region=…&endpoint=…`), read with
// the AWS SDK for JavaScript the way Pulumi's diy backend opens the URL with gocloud.dev's s3blob
// (pulumi v3.274.1 pkg/backend/diy/backend.go translateLegacyS3Params, gocloud.dev blob/s3blob
// and aws.V2ConfigFromURLParams): the host is the bucket, the path a prefix inside it, and the
// AWS environment (credentials, AWS_PROFILE, AWS_REGION, shared config files) fills in the rest.

import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { type StateBucket, urlSecrets } from "../state";

export interface S3Location {
    readonly bucket: string;
    /** Where the backend's root is inside the bucket: empty, or a path ending in `/`. */
    readonly prefix: string;
    readonly client: S3ClientConfig;
}

function flag(url: URL, key: string): boolean | undefined {
    const value = url.searchParams.get(key);
    if (value === null || value === "") {
        return undefined;
    }
    // Go's strconv.ParseBool.
    if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) {
        return true;
    }
    if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) {
        return false;
    }
    throw new Error(`the s3:// backend URL's \`${key}\` must be true or false (got "${value}")`);
}

/** Parameters that only shape writes or client-side pacing: nothing a reader does changes with them. */
const WRITE_ONLY = ["ssetype", "kmskeyid", "request_checksum_calculation", "rate_limiter_capacity", "awssdk"];
const KNOWN = new Set([
    ...WRITE_ONLY,
    "region",
    "endpoint",
    "profile",
    "disableSSL",
    "disable_https",
    "s3ForcePathStyle",
    "use_path_style",
    "dualstack",
    "fips",
    "accelerate",
    "anonymous",
    "hostname_immutable",
    "response_checksum_validation",
    "role",
]);

/** Where an `s3://` backend URL points and how to reach it; `env` is the AWS environment. */
export function s3Location(backendUrl: string, env: NodeJS.ProcessEnv = process.env): S3Location {
    const url = new URL(backendUrl);
    if (url.protocol !== "s3:" || url.hostname === "") {
        throw new Error("an s3:// backend URL names its bucket first: s3://<bucket>[/<prefix>][?region=…]");
    }
    for (const key of url.searchParams.keys()) {
        if (!KNOWN.has(key)) {
            throw new Error(`the s3:// backend URL has an unknown query parameter \`${key}\``);
        }
    }
    if (url.searchParams.has("role")) {
        throw new Error("the s3:// backend URL's `role` (assume an IAM role) is not supported yet: assume it in the environment instead");
    }
    // disableSSL is the v1 name Pulumi still accepts; it only picks the scheme of an endpoint without one.
    const insecure = flag(url, "disableSSL") ?? flag(url, "disable_https") ?? false;
    let endpoint = url.searchParams.get("endpoint") || undefined;
    if (endpoint && !endpoint.includes("://")) {
        endpoint = `${insecure ? "http" : "https"}://${endpoint}`;
    }
    const region = url.searchParams.get("region") || env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? "us-east-1" : undefined);
    const validation = url.searchParams.get("response_checksum_validation");
    const client: S3ClientConfig = {
        ...(region ? { region } : {}),
        ...(endpoint ? { endpoint } : {}),
        ...(url.searchParams.get("profile") ? { profile: url.searchParams.get("profile") as string } : {}),
        forcePathStyle: flag(url, "use_path_style") ?? flag(url, "s3ForcePathStyle") ?? false,
        useDualstackEndpoint: flag(url, "dualstack") ?? false,
        useFipsEndpoint: flag(url, "fips") ?? false,
        useAccelerateEndpoint: flag(url, "accelerate") ?? false,
        // As Pulumi does for a store other than AWS: the checksums the SDK would otherwise ask for
        // are not what every S3-compatible server answers.
        ...(validation ? { responseChecksumValidation: validation === "when_required" ? "WHEN_REQUIRED" : "WHEN_SUPPORTED" } : endpoint ? { responseChecksumValidation: "WHEN_REQUIRED" } : {}),
        ...(flag(url, "anonymous") ? { credentials: { accessKeyId: "", secretAccessKey: "" }, signer: { sign: async (request) => request } } : {}),
    };
    const path = decodeURIComponent(url.pathname).replace(/^\/+/, "");
    return { bucket: url.hostname, prefix: path === "" || path.endsWith("/") ? path : `${path}/`, client };
}

/** One bucket, listed and read with ListObjectsV2 and GetObject (the s3:ListBucket and s3:GetObject permissions). */
export class S3Bucket implements StateBucket {
    readonly where: string;
    readonly secrets: readonly string[];
    private client: S3Client | undefined;

    constructor(
        private readonly location: S3Location,
        backendUrl: string,
        env: NodeJS.ProcessEnv = process.env,
    ) {
        this.where = `s3://${location.bucket}/${location.prefix}`;
        this.secrets = [...urlSecrets(backendUrl), env.AWS_SECRET_ACCESS_KEY ?? "", env.AWS_SESSION_TOKEN ?? ""].filter((secret) => secret !== "");
    }

    private async open(): Promise<{ s3: typeof import("@aws-sdk/client-s3"); client: S3Client }> {
        const s3 = await import("@aws-sdk/client-s3");
        this.client ??= new s3.S3Client(this.location.client);
        return { s3, client: this.client };
    }

    async names(dir: string): Promise<string[]> {
        const { s3, client } = await this.open();
        const prefix = `${this.location.prefix}${dir}/`;
        const names: string[] = [];
        let token: string | undefined;
        do {
            const page = await client.send(new s3.ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, Delimiter: "/", ContinuationToken: token }));
            names.push(...(page.Contents ?? []).flatMap((object) => (object.Key ? [object.Key.slice(prefix.length)] : [])));
            token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return names;
    }

    async read(key: string): Promise<Uint8Array> {
        const { s3, client } = await this.open();
        const object = await client.send(new s3.GetObjectCommand({ Bucket: this.location.bucket, Key: `${this.location.prefix}${key}` }));
        if (!object.Body) {
            throw new Error(`${key} is empty`);
        }
        return object.Body.transformToByteArray();
    }

    async close(): Promise<void> {
        this.client?.destroy();
        this.client = undefined;
    }
}
