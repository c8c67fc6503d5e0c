// Two ReleasedServices in Go: an API this stack builds, and a worker its own pipeline pushes.
package main

import (
	releasedservice "example.com/pulumi-released-service/sdk/go/released-service"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		conf := config.New(ctx, "")
		replicas := 2.0
		periodSeconds := 5.0
		api, err := releasedservice.NewReleasedService(ctx, "api", &releasedservice.ReleasedServiceArgs{
			Image:    conf.Require("apiImage"),
			Version:  pulumi.StringRef(conf.Require("apiVersion")),
			Context:  pulumi.StringRef(conf.Require("apiContext")),
			Builder:  pulumi.StringRef(conf.Require("builder")),
			Replicas: &replicas,
			ReadinessProbe: &releasedservice.ReadinessProbeArgs{
				HttpGet:       &releasedservice.HttpGetCheckArgs{Path: "/healthz"},
				PeriodSeconds: &periodSeconds,
			},
		})
		if err != nil {
			return err
		}
		kind := releasedservice.WorkloadKindKubernetes
		worker, err := releasedservice.NewReleasedService(ctx, "worker", &releasedservice.ReleasedServiceArgs{
			Image:    conf.Require("workerImage"),
			Version:  pulumi.StringRef(conf.Require("workerVersion")),
			Build:    pulumi.BoolRef(false),
			Workload: &kind,
			Env:      pulumi.StringMap{"QUEUE": pulumi.String("orders")},
		})
		if err != nil {
			return err
		}
		ctx.Export("apiImage", api.ImageRef)
		ctx.Export("apiBuilt", api.Built)
		ctx.Export("workerImage", worker.ImageRef)
		ctx.Export("workerDeployment", worker.Workload.Deployment())
		return nil
	})
}
