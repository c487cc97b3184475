//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// demoProject is the compose project of scripts/demo-cluster.sh.
const demoProject = "cairn-demo"

// ringNodes are the nodes of the demo's ring, published on 28098..28101.
var ringNodes = []string{"node1", "node2", "node3", "node4"}

// httpAddr is a demo node's HTTP API as published on the host.
func httpAddr(node string) string {
	var i int
	fmt.Sscanf(node, "node%d", &i)
	return fmt.Sprintf("127.0.0.1:%d", 28098+i-1)
}

// docker runs the docker CLI and returns its trimmed stdout.
func docker(ctx context.Context, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// endpoint is how a container sits on its network, to reconnect it as it was.
type endpoint struct {
	network, ip string
	aliases     []string
}

// faults injects and heals faults on the demo containers, remembering what
// it did so that healAll undoes exactly that.
type faults struct {
	t            *testing.T
	containers   map[string]string   // node → container name
	endpoints    map[string]endpoint // node → its network endpoint
	mu           sync.Mutex
	disconnected map[string]bool
	killed       map[string]bool
	paused       map[string]bool
}

func newFaults(t *testing.T) *faults {
	t.Helper()
	ctx := context.Background()
	f := &faults{t: t, containers: map[string]string{}, endpoints: map[string]endpoint{},
		disconnected: map[string]bool{}, killed: map[string]bool{}, paused: map[string]bool{}}
	for _, n := range ringNodes {
		name, err := docker(ctx, "ps", "-a", "--filter", "label=com.docker.compose.project="+demoProject,
			"--filter", "label=com.docker.compose.service="+n, "--format", "{{.Names}}")
		if err != nil || name == "" || strings.Contains(name, "\n") {
			t.Fatalf("e2e: no single container for %s of project %s (is `make demo` up?): %q %v", n, demoProject, name, err)
		}
		js, err := docker(ctx, "inspect", "-f", "{{json .NetworkSettings.Networks}}", name)
		if err != nil {
			t.Fatal(err)
		}
		var nets map[string]struct {
			IPAMConfig *struct{ IPv4Address string }
			Aliases    []string
		}
		if err := json.Unmarshal([]byte(js), &nets); err != nil || len(nets) != 1 {
			t.Fatalf("e2e: %s: want one network, got %s (%v)", name, js, err)
		}
		for net, ep := range nets {
			e := endpoint{network: net}
			if ep.IPAMConfig != nil {
				e.ip = ep.IPAMConfig.IPv4Address
			}
			for _, a := range ep.Aliases {
				if a == n { // the service name; the container id alias comes back by itself
					e.aliases = append(e.aliases, a)
				}
			}
			f.endpoints[n] = e
		}
		f.containers[n] = name
	}
	return f
}

func (f *faults) do(what string, args ...string) {
	f.t.Helper()
	start := time.Now()
	if _, err := docker(context.Background(), args...); err != nil {
		f.t.Errorf("e2e: %s: %v", what, err)
		return
	}
	f.t.Logf("fault: %s (%s)", what, time.Since(start).Round(time.Millisecond))
}

func (f *faults) disconnect(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.do("disconnect "+n, "network", "disconnect", f.endpoints[n].network, f.containers[n])
	f.disconnected[n] = true
}

func (f *faults) connect(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connectLocked(n)
}

func (f *faults) connectLocked(n string) {
	e := f.endpoints[n]
	args := []string{"network", "connect"}
	if e.ip != "" {
		args = append(args, "--ip", e.ip)
	}
	for _, a := range e.aliases {
		args = append(args, "--alias", a)
	}
	f.do("reconnect "+n, append(args, e.network, f.containers[n])...)
	delete(f.disconnected, n)
}

func (f *faults) kill(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.do("kill -9 "+n, "kill", "-s", "KILL", f.containers[n])
	f.killed[n] = true
}

func (f *faults) start(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.do("start "+n, "start", f.containers[n])
	delete(f.killed, n)
}

func (f *faults) pause(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.do("pause "+n, "pause", f.containers[n])
	f.paused[n] = true
}

func (f *faults) unpause(n string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.do("unpause "+n, "unpause", f.containers[n])
	delete(f.paused, n)
}

// healAll undoes every fault still in place.
func (f *faults) healAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := range f.paused {
		f.do("unpause "+n, "unpause", f.containers[n])
		delete(f.paused, n)
	}
	for n := range f.killed {
		f.do("start "+n, "start", f.containers[n])
		delete(f.killed, n)
	}
	for n := range f.disconnected {
		f.connectLocked(n)
	}
}
