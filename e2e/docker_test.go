//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
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

// allNodes are every container of the demo: node5 is a member of the
// metadata plane and of gossip, outside the ring, so a split cuts it off too.
var allNodes = append(ringNodes[:len(ringNodes):len(ringNodes)], "node5")

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
	// blackholed holds, per node, the addresses its network namespace
	// drops packets to: the split in place.
	blackholed map[string][]string
	// The split's watch (watchSplit): how long each side took to see the
	// other down, and how to stop it.
	sides     [][]string
	splitSeen []time.Duration
	stopWatch func()
}

func newFaults(t *testing.T) *faults {
	t.Helper()
	ctx := context.Background()
	f := &faults{t: t, containers: map[string]string{}, endpoints: map[string]endpoint{},
		disconnected: map[string]bool{}, killed: map[string]bool{}, paused: map[string]bool{},
		blackholed: map[string][]string{}}
	for _, n := range allNodes {
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

// requireNetns fails the test unless the host can enter a container's
// network namespace, which split needs: root, nsenter and ip.
func requireNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("e2e: the split scenario enters the containers' network namespaces with nsenter: run as root")
	}
	for _, tool := range []string{"nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("e2e: the split scenario needs %s on the host (util-linux, iproute2): %v", tool, err)
		}
	}
}

// inNetns runs ip with args inside node's network namespace. The
// containers are FROM scratch, with no ip or iptables of their own, so the
// host enters their namespace: the container's process is its handle.
func (f *faults) inNetns(n string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pid, err := docker(ctx, "inspect", "-f", "{{.State.Pid}}", f.containers[n])
	if err != nil {
		return err
	}
	if pid == "" || pid == "0" {
		return fmt.Errorf("%s is not running", n)
	}
	cmd := append([]string{"-t", pid, "-n", "ip"}, args...)
	if out, err := exec.CommandContext(ctx, "nsenter", cmd...).CombinedOutput(); err != nil {
		return fmt.Errorf("nsenter %s: %w: %s", strings.Join(cmd, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// split cuts the cluster network between sides: inside each node's
// network namespace, a blackhole route drops every packet it sends to the
// nodes of the other sides (the RPC, Raft and gossip over TCP and UDP
// alike), so each side sees the other fall silent, as in a real
// partition. Unlike a network disconnect, the host still reaches every
// node's published HTTP port, so clients write on both sides.
func (f *faults) split(sides ...[]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	for i, side := range sides {
		for j, other := range sides {
			if i == j {
				continue
			}
			for _, a := range side {
				for _, b := range other {
					ip := f.endpoints[b].ip
					if err := f.inNetns(a, "route", "add", "blackhole", ip+"/32"); err != nil {
						f.t.Errorf("e2e: split: %s drops %s: %v", a, b, err)
						continue
					}
					f.blackholed[a] = append(f.blackholed[a], ip)
				}
			}
		}
	}
	names := make([]string, len(sides))
	for i, s := range sides {
		names[i] = strings.Join(s, ",")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	f.sides, f.splitSeen = sides, make([]time.Duration, len(sides))
	go func() { defer close(done); f.watchSplit(ctx, f.sides, f.splitSeen) }()
	f.stopWatch = func() { cancel(); <-done }
	f.t.Logf("fault: split %s (%s)", strings.Join(names, " | "), time.Since(start).Round(time.Millisecond))
}

// watchSplit polls the first node of every side, every half second until
// ctx ends, for the moment it reports all of the other sides' nodes down.
// seen[i] is how long side i took to notice the split (0: never); without
// that, the split did not take effect and the scenario proves nothing.
func (f *faults) watchSplit(ctx context.Context, sides [][]string, seen []time.Duration) {
	ips := map[string]string{} // gossip IP → node
	for n, e := range f.endpoints {
		ips[e.ip] = n
	}
	start := time.Now()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		pending := false
		for i, side := range sides {
			if seen[i] != 0 {
				continue
			}
			pending = true
			st, err := clusterStatus(ctx, side[0])
			if err != nil {
				continue // a side may answer slowly while it re-elects
			}
			down := map[string]bool{}
			for _, id := range st.Down {
				for _, m := range st.Members {
					if m.ID == id {
						down[ips[strings.Split(m.GossipAddr, ":")[0]]] = true
					}
				}
			}
			all := true
			for j, other := range sides {
				for _, n := range other {
					all = all && (i == j || down[n])
				}
			}
			if all {
				seen[i] = time.Since(start)
			}
		}
		if !pending {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// clusterStatus is node's /admin/cluster, the members and who it sees down.
func clusterStatus(ctx context.Context, node string) (status clusterView, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr(node)+"/admin/cluster", nil)
	if err != nil {
		return status, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return status, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return status, fmt.Errorf("status %s", resp.Status)
	}
	return status, json.NewDecoder(resp.Body).Decode(&status)
}

// clusterView is the part of /admin/cluster the split check reads.
type clusterView struct {
	Members []struct {
		ID         string `json:"id"`
		GossipAddr string `json:"gossip_addr"`
	} `json:"members"`
	Down []string `json:"down"`
}

// joinLocked removes the split's routes.
func (f *faults) joinLocked() {
	if f.stopWatch != nil {
		f.stopWatch()
		for i, side := range f.sides {
			if f.splitSeen[i] == 0 {
				f.t.Errorf("e2e: the split did not take effect: %s never reported the other side down", side[0])
			} else {
				f.t.Logf("split seen: %s reported the other side down after %s", side[0], f.splitSeen[i].Round(100*time.Millisecond))
			}
		}
		f.stopWatch, f.sides, f.splitSeen = nil, nil, nil
	}
	start := time.Now()
	for n, ips := range f.blackholed {
		for _, ip := range ips {
			if err := f.inNetns(n, "route", "del", "blackhole", ip+"/32"); err != nil {
				f.t.Errorf("e2e: heal split: %s: %v", n, err)
			}
		}
		delete(f.blackholed, n)
	}
	f.t.Logf("fault: split healed (%s)", time.Since(start).Round(time.Millisecond))
}

// join heals the split, and fails the test unless every side saw it.
func (f *faults) join() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.joinLocked()
}

// healAll undoes every fault still in place.
func (f *faults) healAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.blackholed) > 0 {
		f.joinLocked()
	}
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
