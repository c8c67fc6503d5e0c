"""Two ReleasedServices in Python: an API this stack builds, and a worker its own pipeline pushes."""
import pulumi
import pulumi_released_service as released_service

config = pulumi.Config()

api = released_service.ReleasedService(
    "api",
    image=config.require("apiImage"),
    version=config.require("apiVersion"),
    context=config.require("apiContext"),
    builder=config.require("builder"),
    replicas=2,
    readiness_probe=released_service.ReadinessProbeArgs(
        http_get=released_service.HttpGetCheckArgs(path="/healthz"),
        period_seconds=5,
    ),
)

worker = released_service.ReleasedService(
    "worker",
    image=config.require("workerImage"),
    version=config.require("workerVersion"),
    build=False,
    workload=released_service.WorkloadKind.KUBERNETES,
    env={"QUEUE": "orders"},
)

pulumi.export("apiImage", api.image_ref)
pulumi.export("apiBuilt", api.built)
pulumi.export("workerImage", worker.image_ref)
pulumi.export("workerDeployment", worker.workload.apply(lambda workload: workload.deployment))
