// docker:index/service:Service: a Swarm service, updated in place (Swarm rolls
// the tasks) except when its name or mode changes; with convergeConfig the
// provider waits for Swarm and reports a rolled-back or paused update as an error.
package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

var serviceReplaceOn = map[string]bool{"name": true, "mode": true, "auth": true}

var serviceInputs = []string{
	"name", "taskSpec", "mode", "endpointSpec", "labels", "updateConfig", "rollbackConfig", "convergeConfig", "auth",
}

var (
	taskSpecInputs      = []string{"containerSpec", "forceUpdate", "restartPolicy"}
	containerSpecInputs = []string{"image", "env", "args", "commands", "healthcheck", "stopGracePeriod", "labels"}
)

type serviceKind struct{}

func (serviceKind) replaceOn(key string) bool { return serviceReplaceOn[key] }

// A chosen name cannot exist twice in a Swarm, so a replacement that keeps the
// name removes the old service first.
func (serviceKind) deleteBeforeReplace(olds, news map[string]any) bool {
	return str(olds, "name") == str(news, "name")
}

func (serviceKind) check(news, olds map[string]any, urnName string, seed []byte) (map[string]any, []*pulumirpc.CheckFailure) {
	out := copyMap(news)
	var failures []*pulumirpc.CheckFailure
	fail := func(property, reason string) {
		failures = append(failures, &pulumirpc.CheckFailure{Property: property, Reason: reason})
	}
	for _, k := range unexpected(news, serviceInputs...) {
		fail(k, fmt.Sprintf("%s is not implemented by the docker stand-in provider", k))
	}
	task := obj(news, "taskSpec")
	for _, k := range unexpected(task, taskSpecInputs...) {
		fail("taskSpec."+k, fmt.Sprintf("taskSpec.%s is not implemented by the docker stand-in provider", k))
	}
	cs := obj(task, "containerSpec")
	for _, k := range unexpected(cs, containerSpecInputs...) {
		fail("taskSpec.containerSpec."+k, fmt.Sprintf("taskSpec.containerSpec.%s is not implemented by the docker stand-in provider", k))
	}
	if task == nil || cs == nil || cs["image"] == nil || cs["image"] == "" {
		fail("taskSpec", "Missing required property 'taskSpec.containerSpec.image'")
	}
	if _, ok := news["name"]; !ok {
		if n := str(olds, "name"); n != "" {
			out["name"] = n
		} else {
			out["name"] = autoName(urnName, seed)
		}
	}
	mode := obj(news, "mode")
	if boolean(mode, "global", false) && obj(mode, "replicated") != nil {
		fail("mode", "mode: only one of global and replicated may be set")
	}
	if boolean(mode, "global", false) && news["convergeConfig"] != nil {
		fail("convergeConfig", "convergeConfig is not supported in global mode")
	}
	for _, block := range []string{"updateConfig", "rollbackConfig"} {
		b := obj(news, block)
		if b == nil {
			continue
		}
		allowed := map[string]bool{"pause": true, "continue": true, "rollback": block == "updateConfig"}
		if a := str(b, "failureAction"); a != "" && !allowed[a] {
			fail(block+".failureAction", fmt.Sprintf("%s.failureAction must be one of pause, continue%s (got %q)", block, map[bool]string{true: ", rollback"}[block == "updateConfig"], a))
		}
		if o := str(b, "order"); o != "" && o != swarm.UpdateOrderStopFirst && o != swarm.UpdateOrderStartFirst {
			fail(block+".order", fmt.Sprintf("%s.order must be stop-first or start-first (got %q)", block, o))
		}
		for _, k := range []string{"delay", "monitor"} {
			if _, err := duration(b, k, block+"."+k); err != nil {
				fail(block+"."+k, err.Error())
			}
		}
		if r := str(b, "maxFailureRatio"); r != "" {
			if _, err := strconv.ParseFloat(r, 32); err != nil {
				fail(block+".maxFailureRatio", fmt.Sprintf("%s.maxFailureRatio must be a number (got %q)", block, r))
			}
		}
	}
	if c := obj(news, "convergeConfig"); c != nil {
		for _, k := range []string{"delay", "timeout"} {
			if _, err := duration(c, k, "convergeConfig."+k); err != nil {
				fail("convergeConfig."+k, err.Error())
			}
		}
	}
	return out, failures
}

// updateConfig builds an update or rollback policy with the real provider's
// defaults for the fields a given block leaves out.
func updateConfig(b map[string]any) *swarm.UpdateConfig {
	if b == nil {
		return nil
	}
	u := &swarm.UpdateConfig{Parallelism: 1, FailureAction: swarm.UpdateFailureActionPause, Monitor: 5 * time.Second, Order: swarm.UpdateOrderStopFirst}
	if p, ok := num(b, "parallelism"); ok {
		u.Parallelism = uint64(p)
	}
	u.Delay, _ = duration(b, "delay", "")
	if m, _ := duration(b, "monitor", ""); m > 0 {
		u.Monitor = m
	}
	if a := str(b, "failureAction"); a != "" {
		u.FailureAction = a
	}
	if r, err := strconv.ParseFloat(str(b, "maxFailureRatio"), 32); err == nil {
		u.MaxFailureRatio = float32(r)
	}
	if o := str(b, "order"); o != "" {
		u.Order = o
	}
	return u
}

func replicas(in map[string]any) (uint64, bool) {
	mode := obj(in, "mode")
	if boolean(mode, "global", false) {
		return 0, false
	}
	if n, ok := num(obj(mode, "replicated"), "replicas"); ok {
		return uint64(n), true
	}
	return 1, true
}

func serviceSpec(in map[string]any) (swarm.ServiceSpec, error) {
	task := obj(in, "taskSpec")
	cs := obj(task, "containerSpec")
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: str(in, "name")},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{
			Image:   str(cs, "image"),
			Env:     envList(obj(cs, "env")),
			Args:    stringList(cs, "args"),
			Command: stringList(cs, "commands"),
		}},
		UpdateConfig:   updateConfig(obj(in, "updateConfig")),
		RollbackConfig: updateConfig(obj(in, "rollbackConfig")),
	}
	spec.Labels = labelMap(list(in, "labels"))
	if l := list(cs, "labels"); len(l) > 0 {
		spec.TaskTemplate.ContainerSpec.Labels = labelMap(l)
	}
	if g, err := duration(cs, "stopGracePeriod", "taskSpec.containerSpec.stopGracePeriod"); err != nil {
		return spec, err
	} else if g > 0 {
		spec.TaskTemplate.ContainerSpec.StopGracePeriod = &g
	}
	if hc := obj(cs, "healthcheck"); hc != nil {
		h := &container.HealthConfig{Test: stringList(hc, "tests")}
		h.Interval, _ = duration(hc, "interval", "")
		h.Timeout, _ = duration(hc, "timeout", "")
		h.StartPeriod, _ = duration(hc, "startPeriod", "")
		if r, ok := num(hc, "retries"); ok {
			h.Retries = int(r)
		}
		spec.TaskTemplate.ContainerSpec.Healthcheck = h
	}
	if f, ok := num(task, "forceUpdate"); ok {
		spec.TaskTemplate.ForceUpdate = uint64(f)
	}
	if rp := obj(task, "restartPolicy"); rp != nil {
		p := &swarm.RestartPolicy{Condition: swarm.RestartPolicyCondition(str(rp, "condition"))}
		if d, _ := duration(rp, "delay", ""); d > 0 {
			p.Delay = &d
		}
		if n, ok := num(rp, "maxAttempts"); ok {
			m := uint64(n)
			p.MaxAttempts = &m
		}
		spec.TaskTemplate.RestartPolicy = p
	}
	if n, ok := replicas(in); ok {
		spec.Mode.Replicated = &swarm.ReplicatedService{Replicas: &n}
	} else {
		spec.Mode.Global = &swarm.GlobalService{}
	}
	if ep := obj(in, "endpointSpec"); ep != nil {
		e := &swarm.EndpointSpec{Mode: swarm.ResolutionMode(str(ep, "mode"))}
		for _, p := range list(ep, "ports") {
			m, ok := p.(map[string]any)
			if !ok {
				continue
			}
			target, _ := num(m, "targetPort")
			published, _ := num(m, "publishedPort")
			pc := swarm.PortConfig{
				Name: str(m, "name"), Protocol: swarm.PortConfigProtocol(str(m, "protocol")),
				TargetPort: uint32(target), PublishedPort: uint32(published),
				PublishMode: swarm.PortConfigPublishMode(str(m, "publishMode")),
			}
			if pc.Protocol == "" {
				pc.Protocol = swarm.PortConfigProtocolTCP
			}
			if pc.PublishMode == "" {
				pc.PublishMode = swarm.PortConfigPublishModeIngress
			}
			e.Ports = append(e.Ports, pc)
		}
		spec.EndpointSpec = e
	}
	return spec, nil
}

// converge is the wait convergeConfig asks for: its delay before and between
// looks (7s by default), its timeout (3m by default).
type converge struct{ delay, timeout time.Duration }

func convergeOf(in map[string]any) (converge, bool) {
	c := obj(in, "convergeConfig")
	if c == nil {
		return converge{}, false
	}
	cc := converge{delay: 7 * time.Second, timeout: 3 * time.Minute}
	if d, _ := duration(c, "delay", ""); d > 0 {
		cc.delay = d
	}
	if t, _ := duration(c, "timeout", ""); t > 0 {
		cc.timeout = t
	}
	return cc, true
}

// didNotConverge is the real provider's timeout message.
func didNotConverge(id string, timeout time.Duration) error {
	return fmt.Errorf("Service with ID (%s) did not converge after %s", id, timeout)
}

func (serviceKind) create(ctx context.Context, d *daemon, in map[string]any) (string, map[string]any, error) {
	spec, err := serviceSpec(in)
	if err != nil {
		return "", nil, err
	}
	created, err := d.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{QueryRegistry: true})
	if err != nil {
		return "", nil, err
	}
	for _, w := range created.Warnings {
		d.log(w)
	}
	if cc, ok := convergeOf(in); ok {
		want, _ := replicas(in)
		if err := waitTasksRunning(ctx, d, created.ID, want, cc); err != nil {
			// The real provider deletes a service that does not converge.
			if derr := d.ServiceRemove(ctx, created.ID); derr != nil && !errdefs.IsNotFound(derr) {
				return "", nil, fmt.Errorf("Error deleting service %s: %w", created.ID, derr)
			}
			return "", nil, err
		}
	}
	return created.ID, copyMap(in), nil
}

// waitTasksRunning polls until `want` tasks of the service run.
func waitTasksRunning(ctx context.Context, d *daemon, id string, want uint64, cc converge) error {
	deadline := time.Now().Add(cc.timeout)
	for {
		if err := pause(ctx, cc.delay); err != nil {
			return err
		}
		running, err := runningTasks(ctx, d, id)
		if err != nil {
			return err
		}
		d.log(fmt.Sprintf("%d/%d tasks running", len(running), want))
		if uint64(len(running)) >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return didNotConverge(id, cc.timeout)
		}
	}
}

func runningTasks(ctx context.Context, d *daemon, id string) ([]swarm.Task, error) {
	tasks, err := d.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(
		filters.Arg("service", id), filters.Arg("desired-state", "running"))})
	if err != nil {
		return nil, err
	}
	var running []swarm.Task
	for _, t := range tasks {
		if t.Status.State == swarm.TaskStateRunning {
			running = append(running, t)
		}
	}
	return running, nil
}

func (serviceKind) read(ctx context.Context, d *daemon, id string, inputs map[string]any) (map[string]any, map[string]any, error) {
	svc, _, err := d.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
	if errdefs.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	live := copyMap(inputs)
	live["name"] = svc.Spec.Name
	task := copyMap(obj(inputs, "taskSpec"))
	cs := copyMap(obj(task, "containerSpec"))
	if spec := svc.Spec.TaskTemplate.ContainerSpec; spec != nil {
		cs["image"] = spec.Image
		if _, ok := cs["env"]; ok || len(spec.Env) > 0 {
			env := map[string]any{}
			for _, kv := range spec.Env {
				for i := 0; i < len(kv); i++ {
					if kv[i] == '=' {
						env[kv[:i]] = kv[i+1:]
						break
					}
				}
			}
			cs["env"] = env
		}
	}
	task["containerSpec"] = cs
	live["taskSpec"] = task
	if r := svc.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
		mode := copyMap(obj(inputs, "mode"))
		rep := copyMap(obj(mode, "replicated"))
		if _, ok := rep["replicas"]; ok || *r.Replicas != 1 {
			rep["replicas"] = float64(*r.Replicas)
			mode["replicated"] = rep
			live["mode"] = mode
		}
	}
	return live, live, nil
}

func (serviceKind) update(ctx context.Context, d *daemon, id string, _, news map[string]any) (map[string]any, error) {
	svc, _, err := d.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
	if err != nil {
		return nil, err
	}
	spec, err := serviceSpec(news)
	if err != nil {
		return nil, err
	}
	sent := time.Now()
	resp, err := d.ServiceUpdate(ctx, id, svc.Version, spec, swarm.ServiceUpdateOptions{})
	if err != nil {
		return nil, err
	}
	for _, w := range resp.Warnings {
		d.log(w)
	}
	outs := copyMap(news)
	if cc, ok := convergeOf(news); ok {
		if err := waitUpdated(ctx, d, id, spec, sent, cc); err != nil {
			return outs, err
		}
	}
	return outs, nil
}

// waitUpdated polls the service's UpdateStatus until Swarm completed this
// update, and fails with the real provider's messages when Swarm rolled it
// back or paused it. A status from before this update is not looked at;
// without a fresh one (an update that changes no task) the update is done
// once the wanted number of tasks run the spec's image.
func waitUpdated(ctx context.Context, d *daemon, id string, spec swarm.ServiceSpec, sent time.Time, cc converge) error {
	deadline := time.Now().Add(cc.timeout)
	want := uint64(0)
	if spec.Mode.Replicated != nil && spec.Mode.Replicated.Replicas != nil {
		want = *spec.Mode.Replicated.Replicas
	}
	for {
		if err := pause(ctx, cc.delay); err != nil {
			return err
		}
		svc, _, err := d.ServiceInspectWithRaw(ctx, id, swarm.ServiceInspectOptions{})
		if err != nil {
			return err
		}
		st := svc.UpdateStatus
		fresh := st != nil && st.StartedAt != nil && !st.StartedAt.Before(sent.Add(-500*time.Millisecond))
		if fresh {
			d.log(fmt.Sprintf("update %s %s", st.State, st.Message))
			switch st.State {
			case swarm.UpdateStateCompleted:
				return nil
			case swarm.UpdateStateRollbackCompleted:
				return fmt.Errorf("service rollback completed: %s", st.Message)
			case swarm.UpdateStatePaused:
				return fmt.Errorf("service update paused: %s", st.Message)
			case swarm.UpdateStateRollbackPaused:
				return fmt.Errorf("service rollback paused: %s", st.Message)
			}
		} else {
			running, err := runningTasks(ctx, d, id)
			if err != nil {
				return err
			}
			matching := uint64(0)
			for _, t := range running {
				if t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.Image == spec.TaskTemplate.ContainerSpec.Image {
					matching++
				}
			}
			if matching == uint64(len(running)) && (want == 0 || matching == want) && len(running) > 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return didNotConverge(id, cc.timeout)
		}
	}
}

func (serviceKind) delete(ctx context.Context, d *daemon, id string, _ map[string]any) error {
	if err := d.ServiceRemove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("Error deleting service %s: %w", id, err)
	}
	// Swarm stops the service's containers after the service is gone; wait for
	// them, so that a replacement or the daemon's shutdown does not race them.
	for {
		left, err := d.ContainerList(ctx, container.ListOptions{All: true,
			Filters: filters.NewArgs(filters.Arg("label", "com.docker.swarm.service.id="+id))})
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		if err := pause(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}
