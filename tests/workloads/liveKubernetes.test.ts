// What a Kubernetes workload runs live, from recorded pod lists: digests from each runtime's
// imageID, sidecars left out of the judgement, and kubectl's failures in one line.

import * as assert from "node:assert/strict";
import {
    comparePods,
    describeContext,
    describeKubectlFailure,
    digestOfImageId,
    kubectlFlags,
    matchesSelector,
    type PodList,
    sharedIdentifier,
    sharedPodLister,
} from "../../components/workloads/kubernetes/live";
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
    it("points kubectl with its own flags, and names the context that answered", () => {
        assert.deepEqual(kubectlFlags({}), []);
        assert.deepEqual(kubectlFlags({ kubeconfig: "/home/ada/.kube/prod", context: "prod", cluster: "east" }), [
            "--kubeconfig",
            "/home/ada/.kube/prod",
            "--context",
            "prod",
            "--cluster",
            "east",
        ]);
        assert.equal(describeContext({ name: "kind-staging", server: "https://127.0.0.1:6443" }), "kube context kind-staging (server https://127.0.0.1:6443)");
        assert.equal(describeContext({}), "kubectl's current context");
    });

    it("matches an equality selector as the API server does: every term, exact values", () => {
        const labels = { "app.kubernetes.io/name": "api", tier: "web" };
        assert.equal(matchesSelector(labels, "app.kubernetes.io/name=api"), true);
        assert.equal(matchesSelector(labels, "app.kubernetes.io/name=api,tier=web"), true);
        assert.equal(matchesSelector(labels, "app.kubernetes.io/name=api,tier=db"), false);
        assert.equal(matchesSelector(labels, "app.kubernetes.io/name=ap"), false);
        assert.equal(matchesSelector(undefined, "tier=web"), false);
    });

    it("lists a namespace once for services asked together, each given only its own pods; a call alone keeps its selector", async () => {
        const pod = (name: string, app: string): PodList["items"][number] => ({ metadata: { name, labels: { "app.kubernetes.io/name": app } } });
        const namespace: PodList = { items: [pod("api-1", "api"), pod("worker-1", "worker"), pod("api-2", "api"), pod("other-1", "other")] };
        const calls: [string, string | undefined][] = [];
        const list = sharedPodLister(async (ns, selector) => {
            calls.push([ns, selector]);
            return selector === undefined ? namespace : { items: namespace.items.filter((p) => matchesSelector(p.metadata.labels, selector)) };
        });

        const [api, worker] = await Promise.all([list("shop", "app.kubernetes.io/name=api"), list("shop", "app.kubernetes.io/name=worker")]);
        assert.deepEqual(calls, [["shop", undefined]]);
        assert.deepEqual(api.items.map((p) => p.metadata.name), ["api-1", "api-2"]);
        assert.deepEqual(worker.items.map((p) => p.metadata.name), ["worker-1"]);

        const alone = await list("shop", "app.kubernetes.io/name=api");
        assert.deepEqual(calls, [["shop", undefined], ["shop", "app.kubernetes.io/name=api"]]);
        assert.deepEqual(alone.items.map((p) => p.metadata.name), ["api-1", "api-2"]);
    });

    it("gives every call made together the listing's error", async () => {
        const list = sharedPodLister(async () => {
            throw new Error("cannot list pods in namespace shop: kube context prod does not answer; no cluster was reached");
        });
        const answers = await Promise.allSettled([list("shop", "a=1"), list("shop", "a=2")]);
        assert.deepEqual(
            answers.map((a) => (a.status === "rejected" ? (a.reason as Error).message : "listed")),
            Array(2).fill("cannot list pods in namespace shop: kube context prod does not answer; no cluster was reached"),
        );
    });
    describe("uids of objects asked together", () => {
        const deployment = (name: string, namespace = "shop") => ({ apiVersion: "apps/v1", kind: "Deployment", name, namespace });
        const reached = "kube context prod (server https://10.0.0.2:6443)";

        it("lists a kind once per namespace for objects asked together; a name not listed has none; a call alone asks by name", async () => {
            const calls: string[] = [];
            const identify = sharedIdentifier(
                async (object) => {
                    calls.push(`get ${object.kind} ${object.namespace}/${object.name}`);
                    return { uid: "uid-alone", reached };
                },
                async (apiVersion, kind, namespace) => {
                    calls.push(`list ${apiVersion} ${kind} ${namespace}`);
                    return { uids: new Map([["api", "uid-api"], ["worker", "uid-worker"]]), reached };
                },
            );

            const together = await Promise.all([identify(deployment("api")), identify(deployment("worker")), identify(deployment("gone")), identify(deployment("api", "other"))]);
            assert.deepEqual(together, [
                { uid: "uid-api", reached },
                { uid: "uid-worker", reached },
                { uid: null, reached },
                { uid: "uid-alone", reached },
            ]);
            assert.deepEqual(calls, ["list apps/v1 Deployment shop", "get Deployment other/api"]);

            assert.deepEqual(await identify(deployment("api")), { uid: "uid-alone", reached });
            assert.deepEqual(calls.slice(2), ["get Deployment shop/api"]);
        });

        it("asks each by name when the user may not list the kind, and gives every call the listing's error", async () => {
            const byName = sharedIdentifier(
                async (object) => ({ uid: `uid-${object.name}`, reached }),
                async () => undefined,
            );
            assert.deepEqual(await Promise.all([byName(deployment("api")), byName(deployment("worker"))]), [
                { uid: "uid-api", reached },
                { uid: "uid-worker", reached },
            ]);

            const failing = sharedIdentifier(
                async () => ({ uid: "never", reached }),
                async () => {
                    throw new Error("cannot list Deployment objects in namespace shop: kube context prod does not answer; no cluster was reached");
                },
            );
            const answers = await Promise.allSettled([failing(deployment("api")), failing(deployment("worker"))]);
            assert.deepEqual(
                answers.map((a) => (a.status === "rejected" ? (a.reason as Error).message : "identified")),
                Array(2).fill("cannot list Deployment objects in namespace shop: kube context prod does not answer; no cluster was reached"),
            );
        });
    });
});
