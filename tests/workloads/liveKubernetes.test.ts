// What a Kubernetes workload runs live, from recorded pod lists: digests from each runtime's
// imageID, sidecars left out of the judgement, and kubectl's failures in one line.

import * as assert from "node:assert/strict";
import { comparePods, describeKubectlFailure, digestOfImageId, type PodList } from "../../components/workloads/kubernetes/live";
import { DIGESTS, IMAGE } from "../cli/fakes";

const RECORDED = { digest: DIGESTS["v1.1.0"], imageRef: `${IMAGE}@${DIGESTS["v1.1.0"]}` };

describe("kubernetes live workload", () => {
    it("reads the digest from each runtime's imageID form, and not from a local image ID", () => {
        const table: [string, string | undefined][] = [
            [`docker-pullable://${IMAGE}@${DIGESTS["v1.0.0"]}`, DIGESTS["v1.0.0"]],
            [`${IMAGE}@${DIGESTS["v1.0.0"]}`, DIGESTS["v1.0.0"]],
            [`docker.io/library/nginx@${DIGESTS["v1.2.1"]}`, DIGESTS["v1.2.1"]],
            [DIGESTS["v1.0.0"], undefined],
            ["", undefined],
        ];
        for (const [imageId, digest] of table) {
            assert.equal(digestOfImageId(imageId), digest, imageId);
        }
    });

    it("judges a pod by all its containers when none is from the recorded repository", () => {
        const pods: PodList = {
            items: [
                {
                    metadata: { name: "hand-edited" },
                    status: { phase: "Running", containerStatuses: [{ name: "app", image: "ghcr.io/x/other:v9", imageID: `ghcr.io/x/other@${DIGESTS["v1.0.0"]}`, ready: true }] },
                },
            ],
        };
        assert.deepEqual(comparePods(RECORDED, pods), [
            { name: "hand-edited", phase: "Running", ready: true, version: null, digest: DIGESTS["v1.0.0"], state: "drift" },
        ]);
    });


    it("says which context does not answer, without the client's log lines", () => {
        const refused =
            'E1201 11:40:02.123456   4242 memcache.go:265] couldn\'t get current server API group list: Get "https://127.0.0.1:6443/api?timeout=32s": dial tcp 127.0.0.1:6443: connect: connection refused\n' +
            "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n";
        const what = "cannot list pods app.kubernetes.io/name=api in namespace shop";
        assert.equal(
            describeKubectlFailure(what, refused, { name: "kind-dev", server: "https://127.0.0.1:6443" }),
            `${what}: kube context kind-dev (server https://127.0.0.1:6443) does not answer; no cluster was reached`,
        );
        assert.equal(
            describeKubectlFailure(what, refused, {}),
            `${what}: kubectl has no current context (kubectl config current-context names none); set one with kubectl config use-context`,
        );
        assert.equal(
            describeKubectlFailure(what, 'W1201 11:40:02.1 1 warn.go:1] noise\nError from server (Forbidden): pods is forbidden: User "dev" cannot list resource "pods"\n', { name: "prod" }),
            `${what}: Error from server (Forbidden): pods is forbidden: User "dev" cannot list resource "pods"`,
        );
    });
});
