// Where the command reads a workload: the cluster or Docker daemon `pulumi up` deploys it to, from
// the stack config or the recorded inputs of the provider its resource names; and how the real
// clients take it (kubectl's flags, DOCKER_HOST).
import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { dockerHostOf, kubectlTarget } from "../../cli/core/clients";
import { type Connection, connectionOf, describeConnection, DOCKER_PROVIDER_DEFAULT_HOST, originOf, type RecordedProvider } from "../../cli/core/connection";
import { servicesOfState } from "../../cli/core/services";

const DEFAULT: RecordedProvider = { name: "default_4_34_2", default: true, inputs: { version: "4.34.2", context: "kind-old" } };
const PROD: RecordedProvider = { name: "prod-cluster", default: false, inputs: { context: "prod-east", kubeconfig: "~/.kube/prod", version: "4.34.2" } };
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" };
const CONTENT = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster: {server: https://10.0.0.1:6443}\n";

describe("where the command reads a workload", () => {
    const cases: [string, Parameters<typeof connectionOf>, Connection][] = [
        ["kubectl's current context when the stack sets nothing", ["kubernetes", {}, DEFAULT], { from: "ambient" }],
        ["the stack config's kubernetes:context for the default provider, not the context it recorded", ["kubernetes", { "kubernetes:context": "kind-prod" }, DEFAULT], { context: "kind-prod", from: "stack config" }],
        [
            "the stack config's kubeconfig path, context and cluster",
            ["kubernetes", { "kubernetes:kubeconfig": "~/.kube/prod", "kubernetes:context": "prod", "kubernetes:cluster": "east" }, DEFAULT],
            { kubeconfig: "~/.kube/prod", context: "prod", cluster: "east", from: "stack config" },
        ],
        ["a kubeconfig's content in the stack config, as the provider takes it", ["kubernetes", { "kubernetes:kubeconfig": CONTENT }, DEFAULT], { kubeconfig: CONTENT, from: "stack config" }],
        ["the stack config when the state names no provider", ["kubernetes", { "kubernetes:context": "kind-prod" }, undefined], { context: "kind-prod", from: "stack config" }],
        ["nothing from an empty setting", ["kubernetes", { "kubernetes:context": "" }, undefined], { from: "ambient" }],
        [
            "an explicit provider's recorded inputs, whatever the stack config says",
            ["kubernetes", { "kubernetes:context": "kind-staging" }, PROD],
            { kubeconfig: "~/.kube/prod", context: "prod-east", from: { provider: "prod-cluster" } },
        ],
        ["the current context for an explicit provider that sets none, whatever the stack config says", ["kubernetes", { "kubernetes:context": "kind-staging" }, { name: "plain", default: false, inputs: {} }], { from: "ambient" }],
        [
            "an explicit provider's readable inputs, naming a secret one",
            ["kubernetes", {}, { name: "eks", default: false, inputs: { kubeconfig: SECRET, context: "eks-prod" } }],
            { context: "eks-prod", from: { provider: "eks" }, secret: ["kubeconfig"] },
        ],
        ["the stack config's docker:host for a container", ["docker", { "docker:host": "ssh://deploy@edge", "kubernetes:context": "prod" }, undefined], { dockerHost: "ssh://deploy@edge", from: "stack config" }],
        ["the Docker provider's default daemon for a container when nothing sets a host", ["docker", {}, undefined], { dockerDefaultHost: DOCKER_PROVIDER_DEFAULT_HOST, from: "ambient" }],
        ["an explicit Docker provider's host for a Swarm service", ["swarm", { "docker:host": "ssh://other" }, { name: "swarm-manager", default: false, inputs: { host: "tcp://swarm:2376" } }], { dockerHost: "tcp://swarm:2376", from: { provider: "swarm-manager" } }],
        ["the stack config's docker:host for a Compose file", ["compose", { "docker:host": "ssh://deploy@edge" }, undefined], { dockerHost: "ssh://deploy@edge", from: "stack config" }],
        ["the docker CLI's own context for a Compose file otherwise: docker compose runs it, not a provider", ["compose", {}, undefined], { from: "ambient" }],
    ];
    for (const [what, args, connection] of cases) {
        it(`reads ${what}`, () => {
            assert.deepEqual(connectionOf(...args), connection);
        });
    }

    it("says where a connection points and where that came from", () => {
        const table: [Connection, string][] = [
            [{ from: "ambient" }, ""],
            [{ context: "kind-prod", from: "stack config" }, "kube context kind-prod (stack config kubernetes:context)"],
            [{ kubeconfig: "~/.kube/prod", context: "prod-east", from: { provider: "prod-cluster" } }, "kube context prod-east (provider prod-cluster's context), kubeconfig ~/.kube/prod (provider prod-cluster's kubeconfig)"],
            [{ kubeconfig: CONTENT, from: "stack config" }, "the kubeconfig it holds (stack config kubernetes:kubeconfig)"],
            [{ dockerHost: "ssh://deploy@edge", from: "stack config" }, "Docker host ssh://deploy@edge (stack config docker:host)"],
        ];
        for (const [connection, text] of table) {
            assert.equal(describeConnection(connection), text);
        }
    });
});

describe("where the state says a workload was deployed", () => {
    const STACK = "urn:pulumi:prod::shop::";
    const provider = (name: string, inputs: Record<string, unknown>) => ({ type: "pulumi:providers:kubernetes", urn: `${STACK}pulumi:providers:kubernetes::${name}`, inputs });
    const deployment = (providerName: string | undefined, uid: string | undefined) => ({
        type: "kubernetes:apps/v1:Deployment",
        urn: `${STACK}released-service:index:ReleasedService$kubernetes:apps/v1:Deployment::api`,
        parent: `${STACK}released-service:index:ReleasedService::api`,
        ...(providerName === undefined ? {} : { provider: `${STACK}pulumi:providers:kubernetes::${providerName}::04da6b54-80e4-46f7-96ec-b56ff0331ba9` }),
        outputs: { metadata: { name: "api", namespace: "shop", ...(uid === undefined ? {} : { uid }) } },
    });

    it("reads the provider the Deployment names, default or the program's, and the Deployment's uid", () => {
        const resources = [provider("default_4_34_2", { version: "4.34.2" }), provider("prod-cluster", { context: "prod-east" })];
        assert.deepEqual(originOf([deployment("prod-cluster", "5f0c6a1e")], resources), { provider: { name: "prod-cluster", default: false, inputs: { context: "prod-east" } }, uid: "5f0c6a1e" });
        assert.deepEqual(originOf([deployment("default_4_34_2", "5f0c6a1e")], resources), { provider: { name: "default_4_34_2", default: true, inputs: { version: "4.34.2" } }, uid: "5f0c6a1e" });
        assert.deepEqual(originOf([deployment(undefined, "5f0c6a1e")], resources), { uid: "5f0c6a1e" });
        assert.equal(originOf([deployment(undefined, undefined)], resources), undefined);
        assert.equal(originOf([{ type: "docker-build:index:Image" }], resources), undefined);
    });

    it("reads a container's Docker provider, which records no uid", () => {
        const docker = { type: "pulumi:providers:docker", urn: `${STACK}pulumi:providers:docker::edge`, inputs: { host: "ssh://deploy@edge" } };
        const container = { type: "docker:index/container:Container", provider: `${STACK}pulumi:providers:docker::edge::1d2c`, outputs: { name: "web" } };
        assert.deepEqual(originOf([container], [docker]), { provider: { name: "edge", default: false, inputs: { host: "ssh://deploy@edge" } } });
    });

    it("is part of each service the state records", () => {
        const component = {
            type: "released-service:index:ReleasedService",
            urn: `${STACK}released-service:index:ReleasedService::api`,
            outputs: { imageDigest: `sha256:${"a".repeat(64)}`, workload: { kind: "kubernetes", namespace: "shop", deployment: "api", service: "api", selector: { app: "api" } } },
        };
        const [service] = servicesOfState({ version: 3, deployment: { resources: [provider("prod-cluster", { context: "prod-east" }), component, deployment("prod-cluster", "5f0c6a1e")] } });
        assert.deepEqual(service.origin, { provider: { name: "prod-cluster", default: false, inputs: { context: "prod-east" } }, uid: "5f0c6a1e" });
    });
});

describe("the real clients of a connection", () => {
    const home = mkdtempSync(path.join(os.tmpdir(), "released-service-home-"));
    const project = path.join(home, "shop");
    mkdirSync(path.join(home, ".kube"));
    mkdirSync(project);
    writeFileSync(path.join(home, ".kube", "prod"), CONTENT);
    writeFileSync(path.join(project, "kubeconfig.yaml"), CONTENT);
    const machine = { env: {}, home, projectDir: project };

    it("give kubectl a kubeconfig path as it is, after ~ and relative to the project, and the content in a file of its own", () => {
        const written: string[] = [];
        const write = (content: string): string => {
            written.push(content);
            return "/tmp/written";
        };
        const table: [Connection, ReturnType<typeof kubectlTarget>][] = [
            [{ from: "ambient" }, {}],
            [{ context: "prod", cluster: "east", from: "stack config" }, { context: "prod", cluster: "east" }],
            [{ kubeconfig: "~/.kube/prod", from: "stack config" }, { kubeconfig: path.join(home, ".kube", "prod") }],
            [{ kubeconfig: "kubeconfig.yaml", context: "prod", from: "stack config" }, { kubeconfig: path.join(project, "kubeconfig.yaml"), context: "prod" }],
            [{ kubeconfig: CONTENT, from: { provider: "prod-cluster" } }, { kubeconfig: "/tmp/written" }],
        ];
        for (const [connection, target] of table) {
            assert.deepEqual(kubectlTarget(connection, machine, write), target);
        }
        assert.deepEqual(written, [CONTENT]);
    });

    it("give the docker CLI the configured host, else DOCKER_HOST, else the provider's default, else its own context", () => {
        const table: [Connection, NodeJS.ProcessEnv, string | undefined][] = [
            [{ dockerHost: "ssh://edge", from: "stack config" }, { DOCKER_HOST: "unix:///run/user/1000/docker.sock" }, "ssh://edge"],
            [{ dockerDefaultHost: DOCKER_PROVIDER_DEFAULT_HOST, from: "ambient" }, { DOCKER_HOST: "tcp://127.0.0.1:2375" }, "tcp://127.0.0.1:2375"],
            [{ dockerDefaultHost: DOCKER_PROVIDER_DEFAULT_HOST, from: "ambient" }, {}, DOCKER_PROVIDER_DEFAULT_HOST],
            [{ from: "ambient" }, {}, undefined],
        ];
        for (const [connection, env, host] of table) {
            assert.equal(dockerHostOf(connection, env), host);
        }
    });
});
