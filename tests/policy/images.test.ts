// Table tests of the policy pack's image-reference reading (policy/images.ts), without Pulumi.
import * as assert from "assert";
import { isPinnedByDigest, parseImageReference, podContainers, usesLatestTag } from "../../policy/images";

const HEX = "0123456789abcdef".repeat(4);
const DIGEST = `sha256:${HEX}`;

describe("policy image references", () => {
    const cases: { image: string; pinned: boolean; latest: boolean; why: string }[] = [
        { image: "nginx", pinned: false, latest: true, why: "no tag and no digest pulls latest" },
        { image: "nginx:latest", pinned: false, latest: true, why: "explicit latest" },
        { image: "nginx:1.27", pinned: false, latest: false, why: "a release tag is not a pin" },
        { image: `nginx@${DIGEST}`, pinned: true, latest: false, why: "digest alone" },
        { image: `nginx:1.27@${DIGEST}`, pinned: true, latest: false, why: "tag and digest" },
        { image: `nginx:latest@${DIGEST}`, pinned: true, latest: true, why: "pinned, but still names latest" },
        { image: "localhost:5000/app", pinned: false, latest: true, why: "a registry port is not a tag" },
        { image: "localhost:5000/app:latest", pinned: false, latest: true, why: "latest after a registry port" },
        { image: "localhost:5000/app:v2.4.1", pinned: false, latest: false, why: "release tag after a registry port" },
        { image: `localhost:5000/app@${DIGEST}`, pinned: true, latest: false, why: "digest after a registry port" },
        { image: "docker.io/library/nginx:1.27", pinned: false, latest: false, why: "fully qualified, tagged" },
        { image: "latest/app:1.0", pinned: false, latest: false, why: "a path named latest is not a tag" },
        { image: "nginx:Latest", pinned: false, latest: false, why: "tags are case-sensitive" },
        { image: "nginx:latest-alpine", pinned: false, latest: false, why: "a tag that starts with latest is another tag" },
        { image: `nginx@sha256:${HEX.slice(1)}`, pinned: false, latest: false, why: "63 hex digits" },
        { image: `nginx@sha256:${HEX}0`, pinned: false, latest: false, why: "65 hex digits" },
        { image: `nginx@sha256:${HEX.toUpperCase()}`, pinned: false, latest: false, why: "upper-case hex" },
        { image: `nginx@sha512:${HEX}${HEX}`, pinned: false, latest: false, why: "only sha256 counts as a pin" },
        { image: `nginx@${HEX}`, pinned: false, latest: false, why: "digest without its algorithm" },
        { image: "nginx@", pinned: false, latest: false, why: "empty digest" },
        { image: "", pinned: false, latest: false, why: "no reference at all" },
    ];
    for (const c of cases) {
        it(`${JSON.stringify(c.image)}: pinned ${c.pinned}, latest ${c.latest} (${c.why})`, () => {
            assert.deepStrictEqual(
                { pinned: isPinnedByDigest(c.image), latest: usesLatestTag(c.image) },
                { pinned: c.pinned, latest: c.latest },
            );
        });
    }

    it("splits repository, tag and digest", () => {
        assert.deepStrictEqual(parseImageReference("nginx"), { repository: "nginx", digest: undefined });
        assert.deepStrictEqual(parseImageReference("localhost:5000/team/app:v1@sha256:abc"), {
            repository: "localhost:5000/team/app",
            tag: "v1",
            digest: "sha256:abc",
        });
        assert.deepStrictEqual(parseImageReference(`localhost:5000/app@${DIGEST}`), {
            repository: "localhost:5000/app",
            digest: DIGEST,
        });
    });
});

describe("policy pod containers", () => {
    it("lists init containers first, then containers, named for messages", () => {
        assert.deepStrictEqual(
            podContainers({
                containers: [{ name: "app", image: "a" }, { name: "sidecar" }],
                initContainers: [{ name: "migrate", image: "m" }],
            }),
            [
                { label: 'init container "migrate"', image: "m" },
                { label: 'container "app"', image: "a" },
                { label: 'container "sidecar"', image: undefined },
            ],
        );
    });

    it("names a nameless container by its index", () => {
        assert.deepStrictEqual(podContainers({ containers: [{ image: "a" }, { name: "", image: "b" }] }), [
            { label: "container #0", image: "a" },
            { label: "container #1", image: "b" },
        ]);
    });

    it("reads nothing from a missing pod spec", () => {
        assert.deepStrictEqual(podContainers(undefined), []);
        assert.deepStrictEqual(podContainers({}), []);
    });
});
