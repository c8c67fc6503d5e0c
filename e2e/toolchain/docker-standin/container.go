// docker:index/container:Container: one container, replaced (old one first)
// whenever anything but its restart policy and the provider-side settings changes.
package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/errdefs"
	"github.com/docker/go-connections/nat"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// How long a started container may take to report running (the real
// provider's containerReadRefreshTimeout).
const containerRunningTimeout = 15 * time.Second

// The inputs the real provider changes without a replacement.
var containerUpdatable = map[string]bool{
	"restart": true, "maxRetryCount": true,
	"wait": true, "waitTimeout": true, "mustRun": true, "destroyGraceSeconds": true, "removeVolumes": true,
}

var containerInputs = []string{
	"name", "image", "ports", "envs", "restart", "maxRetryCount", "healthcheck", "networkMode",
	"labels", "command", "entrypoints", "wait", "waitTimeout", "mustRun", "destroyGraceSeconds",
	"removeVolumes", "start",
}

type containerKind struct{}

func (containerKind) replaceOn(key string) bool { return !containerUpdatable[key] }

// pulumi-docker sets deleteBeforeReplace on containers: the old one goes first.
func (containerKind) deleteBeforeReplace(_, _ map[string]any) bool { return true }

func (containerKind) check(news, olds map[string]any, urnName string, seed []byte) (map[string]any, []*pulumirpc.CheckFailure) {
	out := copyMap(news)
	var failures []*pulumirpc.CheckFailure
	fail := func(property, reason string) {
		failures = append(failures, &pulumirpc.CheckFailure{Property: property, Reason: reason})
	}
	for _, k := range unexpected(news, containerInputs...) {
		fail(k, fmt.Sprintf("%s is not implemented by the docker stand-in provider", k))
	}
	if v, ok := news["image"]; !ok || v == "" {
		fail("image", "Missing required property 'image'")
	}
	if _, ok := news["name"]; !ok {
		if n := str(olds, "name"); n != "" {
			out["name"] = n
		} else {
			out["name"] = autoName(urnName, seed)
		}
	}
	switch r := str(news, "restart"); r {
	case "", "no", "on-failure", "always", "unless-stopped":
	default:
		fail("restart", fmt.Sprintf("expected restart to be one of [no on-failure always unless-stopped], got %s", r))
	}
	if hc := obj(news, "healthcheck"); hc != nil {
		for _, k := range []string{"interval", "timeout", "startPeriod"} {
			if _, err := duration(hc, k, "healthcheck."+k); err != nil {
				fail("healthcheck."+k, err.Error())
			}
		}
	}
	setDefault(out, "restart", "no")
	setDefault(out, "wait", false)
	setDefault(out, "waitTimeout", float64(60))
	setDefault(out, "mustRun", true)
	setDefault(out, "start", true)
	setDefault(out, "removeVolumes", true)
	return out, failures
}

func (containerKind) create(ctx context.Context, d *daemon, in map[string]any) (string, map[string]any, error) {
	ref := str(in, "image")
	if err := ensureImage(ctx, d, ref); err != nil {
		return "", nil, err
	}
	config, host, err := containerSpec(in)
	if err != nil {
		return "", nil, err
	}
	created, err := d.ContainerCreate(ctx, config, host, nil, nil, str(in, "name"))
	if err != nil {
		return "", nil, fmt.Errorf("Unable to create container: %w", err)
	}
	id := created.ID
	outs := copyMap(in)
	if !boolean(in, "start", true) {
		return id, outs, nil
	}
	started := time.Now()
	if err := d.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return "", nil, fmt.Errorf("Unable to start container: %w", err)
	}
	if boolean(in, "mustRun", true) {
		if err := waitRunning(ctx, d, id, started); err != nil {
			_ = removeContainer(ctx, d, id, in)
			return "", nil, err
		}
	}
	if boolean(in, "wait", false) {
		timeout := 60 * time.Second
		if n, ok := num(in, "waitTimeout"); ok {
			timeout = time.Duration(n) * time.Second
		}
		if err := waitHealthy(ctx, d, id, timeout); err != nil {
			// Like the real provider, the container stays and is recorded.
			return id, outs, err
		}
	}
	return id, outs, nil
}

// ensureImage pulls ref unless the daemon has it, as the real provider does.
func ensureImage(ctx context.Context, d *daemon, ref string) error {
	if _, err := d.ImageInspect(ctx, ref); err == nil {
		return nil
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("unable to inspect image %s: %w", ref, err)
	}
	d.log(fmt.Sprintf("pulling %s", ref))
	rc, err := d.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return fmt.Errorf("Unable to pull image %s: %w", ref, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("Unable to pull image %s: %w", ref, err)
	}
	if strings.Contains(string(body), `"error"`) {
		return fmt.Errorf("Unable to pull image %s: %s", ref, strings.TrimSpace(string(body)))
	}
	return nil
}

func containerSpec(in map[string]any) (*container.Config, *container.HostConfig, error) {
	config := &container.Config{
		Image:      str(in, "image"),
		Env:        stringList(in, "envs"),
		Cmd:        stringList(in, "command"),
		Entrypoint: stringList(in, "entrypoints"),
		Labels:     labelMap(list(in, "labels")),
	}
	if hc := obj(in, "healthcheck"); hc != nil {
		h := &container.HealthConfig{Test: stringList(hc, "tests")}
		var err error
		if h.Interval, err = duration(hc, "interval", "healthcheck.interval"); err != nil {
			return nil, nil, err
		}
		if h.Timeout, err = duration(hc, "timeout", "healthcheck.timeout"); err != nil {
			return nil, nil, err
		}
		if h.StartPeriod, err = duration(hc, "startPeriod", "healthcheck.startPeriod"); err != nil {
			return nil, nil, err
		}
		if r, ok := num(hc, "retries"); ok {
			h.Retries = int(r)
		}
		config.Healthcheck = h
	}
	host := &container.HostConfig{
		NetworkMode:   container.NetworkMode(str(in, "networkMode")),
		RestartPolicy: restartPolicy(in),
		PortBindings:  nat.PortMap{},
	}
	for _, p := range list(in, "ports") {
		m, ok := p.(map[string]any)
		if !ok {
			continue
		}
		internal, _ := num(m, "internal")
		protocol := str(m, "protocol")
		if protocol == "" {
			protocol = "tcp"
		}
		port := nat.Port(fmt.Sprintf("%d/%s", int(internal), protocol))
		if config.ExposedPorts == nil {
			config.ExposedPorts = nat.PortSet{}
		}
		config.ExposedPorts[port] = struct{}{}
		binding := nat.PortBinding{HostIP: str(m, "ip")}
		if binding.HostIP == "" {
			binding.HostIP = "0.0.0.0"
		}
		if external, ok := num(m, "external"); ok {
			binding.HostPort = strconv.Itoa(int(external))
		}
		host.PortBindings[port] = append(host.PortBindings[port], binding)
	}
	return config, host, nil
}

func restartPolicy(in map[string]any) container.RestartPolicy {
	p := container.RestartPolicy{Name: container.RestartPolicyMode(str(in, "restart"))}
	if p.Name == "" {
		p.Name = container.RestartPolicyDisabled
	}
	if n, ok := num(in, "maxRetryCount"); ok && p.Name == container.RestartPolicyOnFailure {
		p.MaximumRetryCount = int(n)
	}
	return p
}

// waitRunning polls until the container runs; one that stopped since it was
// started "exited immediately", as the real provider words it.
func waitRunning(ctx context.Context, d *daemon, id string, started time.Time) error {
	deadline := time.Now().Add(containerRunningTimeout)
	for {
		c, err := d.ContainerInspect(ctx, id)
		if err != nil {
			return err
		}
		if c.State != nil && c.State.Running {
			return nil
		}
		if c.State != nil {
			if finished, err := time.Parse(time.RFC3339Nano, c.State.FinishedAt); err == nil && finished.After(started) {
				return fmt.Errorf("container exited immediately")
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container failed to be in running state")
		}
		if err := pause(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// waitHealthy polls the container's health check until it says healthy.
func waitHealthy(ctx context.Context, d *daemon, id string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := "no health check"
	for {
		c, err := d.ContainerInspect(ctx, id)
		if err != nil {
			return err
		}
		if c.State == nil || c.State.Health == nil {
			return fmt.Errorf("container %s has no health check to wait for (wait needs one)", id)
		}
		last = c.State.Health.Status
		if last == container.Healthy {
			return nil
		}
		if !c.State.Running {
			return fmt.Errorf("container %s stopped while waiting for it to become healthy (exit code %d)", id, c.State.ExitCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container %s did not become healthy within %s (health: %s)", id, timeout, last)
		}
		if err := pause(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (containerKind) read(ctx context.Context, d *daemon, id string, inputs map[string]any) (map[string]any, map[string]any, error) {
	c, err := d.ContainerInspect(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	live := map[string]any{
		"name":  strings.TrimPrefix(c.Name, "/"),
		"image": c.Config.Image,
	}
	if c.HostConfig != nil {
		live["restart"] = string(c.HostConfig.RestartPolicy.Name)
		live["networkMode"] = string(c.HostConfig.NetworkMode)
	}
	ins := copyMap(inputs)
	outs := copyMap(inputs)
	for k, v := range live {
		// Fields the program left out stay out, or the next diff would replace.
		if _, ok := inputs[k]; ok || len(inputs) == 0 {
			ins[k] = v
			outs[k] = v
		}
	}
	if c.State != nil && !c.State.Running {
		outs["exitCode"] = float64(c.State.ExitCode)
	}
	return outs, ins, nil
}

func (containerKind) update(ctx context.Context, d *daemon, id string, olds, news map[string]any) (map[string]any, error) {
	if str(olds, "restart") != str(news, "restart") || fmt.Sprint(olds["maxRetryCount"]) != fmt.Sprint(news["maxRetryCount"]) {
		if _, err := d.ContainerUpdate(ctx, id, container.UpdateConfig{RestartPolicy: restartPolicy(news)}); err != nil {
			return nil, fmt.Errorf("Unable to update a container: %w", err)
		}
	}
	return copyMap(news), nil
}

func (containerKind) delete(ctx context.Context, d *daemon, id string, in map[string]any) error {
	return removeContainer(ctx, d, id, in)
}

func removeContainer(ctx context.Context, d *daemon, id string, in map[string]any) error {
	if grace, ok := num(in, "destroyGraceSeconds"); ok && grace > 0 {
		seconds := int(grace)
		if err := d.ContainerStop(ctx, id, container.StopOptions{Timeout: &seconds}); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("Error stopping container %s: %w", id, err)
		}
	}
	err := d.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: boolean(in, "removeVolumes", true)})
	if err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("Error deleting container %s: %w", id, err)
	}
	// Removal is asynchronous: the name is free only once the container is gone.
	for {
		if _, err := d.ContainerInspect(ctx, id); errdefs.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if err := pause(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// labelMap turns the schema's [{label, value}] lists into Docker's label map.
func labelMap(labels []any) map[string]string {
	out := map[string]string{}
	for _, l := range labels {
		if m, ok := l.(map[string]any); ok {
			out[str(m, "label")] = str(m, "value")
		}
	}
	return out
}

// envList is the sorted KEY=VALUE form of an env map.
func envList(m map[string]any) []string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(out)
	return out
}
