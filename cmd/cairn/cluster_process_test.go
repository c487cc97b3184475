package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/ring"
)

// These tests run a cluster of real cairn processes on loopback: the RPC,
// Raft and gossip traffic between them is real TCP and UDP, and a kill -9
// is a real crash.

// procCluster is a cluster of cairn processes formed as an operator would:
// node 0 bootstraps, the others join through it, the joins are staged and
// committed, and the partitions are handed off.
type procCluster struct {
	tb    testing.TB
	nodes []*child
	extra []string // flags every node gets
	hc    *http.Client

	// nodeArgs, if set, gives the flags of the node whose data directory
	// is named by its argument (node1, node2 …), such as its certificate.
	nodeArgs func(name string) []string
}

// startProcCluster starts n nodes with ephemeral ports and waits until the
// ring has every node valid and no transfer pending, as seen by each node.
func startProcCluster(tb testing.TB, n int, extra ...string) *procCluster {
	tb.Helper()
	return startProcClusterWith(tb, n, nil, extra...)
}

// startProcClusterWith is startProcCluster with per-node flags.
func startProcClusterWith(tb testing.TB, n int, nodeArgs func(name string) []string, extra ...string) *procCluster {
	tb.Helper()
	c := &procCluster{tb: tb, extra: extra, nodeArgs: nodeArgs, hc: &http.Client{Timeout: 10 * time.Second}}
	tb.Cleanup(func() {
		if tb.Failed() {
			c.dumpLogs()
		}
	})
	c.nodes = make([]*child, n)
	for i := range n {
		c.nodes[i] = c.launch(filepath.Join(tb.TempDir(), fmt.Sprintf("node%d", i+1)),
			"127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", i == 0)
	}
	if n == 1 {
		return c
	}
	// A joined node is a member (joining) once node 0 has applied its join;
	// only then can its entry to the ring be staged.
	want := make(map[string]bool)
	for _, nd := range c.nodes[1:] {
		want[nd.id] = true
	}
	c.eventually(60*time.Second, "every node is a member", func() (bool, string) {
		st, err := c.status(c.nodes[0])
		if err != nil {
			return false, err.Error()
		}
		seen := 0
		for _, m := range st.Members {
			if want[m.ID] {
				seen++
			}
		}
		return seen == len(want), fmt.Sprintf("%d of %d joined", seen, len(want))
	})
	for _, nd := range c.nodes[1:] {
		c.admin(c.nodes[0], "/admin/cluster/stage", meta.Change{Kind: meta.ChangeJoin, Node: nd.id})
	}
	c.admin(c.nodes[0], "/admin/cluster/commit", nil)
	c.waitSettled(60 * time.Second)
	return c
}

// launch starts one node on the given addresses; the first node
// bootstraps, the others join through the first node's RPC address.
func (c *procCluster) launch(dataDir, httpAddr, rpcAddr, raftAddr, gossipAddr string, bootstrap bool) *child {
	args := []string{"--http-addr", httpAddr, "--rpc-addr", rpcAddr, "--raft-addr", raftAddr,
		"--gossip-addr", gossipAddr, "--voters", "3", "--log-level", "info"}
	if bootstrap {
		args = append(args, "--bootstrap")
	} else {
		args = append(args, "--join", c.nodes[0].rpcAddr)
	}
	if c.nodeArgs != nil {
		args = append(args, c.nodeArgs(filepath.Base(dataDir))...)
	}
	return startCairn(c.tb, dataDir, append(args, c.extra...)...)
}

// restart starts node i again on its data and its previous addresses, as
// an operator restarts a crashed node; it returns once the node announced
// it serves.
func (c *procCluster) restart(i int) {
	c.tb.Helper()
	old := c.nodes[i]
	if old.alive() {
		c.tb.Fatalf("restart of node %d, which is running", i+1)
	}
	c.nodes[i] = c.launch(old.dataDir, old.addr, old.rpcAddr, old.raftAddr, old.gossipAddr, false)
	if c.nodes[i].id != old.id {
		c.tb.Fatalf("node %d came back as %s, was %s", i+1, c.nodes[i].id, old.id)
	}
}

// waitSettled waits until every running node sees every node valid, no
// transfer pending and the same ring epoch.
func (c *procCluster) waitSettled(timeout time.Duration) {
	c.tb.Helper()
	c.eventually(timeout, "ring settled", func() (bool, string) {
		var epoch uint64
		for i, nd := range c.nodes {
			if !nd.alive() {
				continue
			}
			st, err := c.status(nd)
			if err != nil {
				return false, fmt.Sprintf("node %d: %v", i+1, err)
			}
			if st.Ring == nil {
				return false, fmt.Sprintf("node %d: no ring", i+1)
			}
			valid := 0
			for _, m := range st.Members {
				if m.State == meta.Valid {
					valid++
				}
			}
			if valid != len(c.nodes) || st.Ring.Pending != 0 {
				return false, fmt.Sprintf("node %d: %d of %d valid, %d pending transfers", i+1, valid, len(c.nodes), st.Ring.Pending)
			}
			if epoch != 0 && st.Ring.Epoch != epoch {
				return false, fmt.Sprintf("node %d at ring epoch %d, another at %d", i+1, st.Ring.Epoch, epoch)
			}
			epoch = st.Ring.Epoch
		}
		return true, ""
	})
}

// eventually polls cond until it holds or timeout passes. Polling is the
// only way to learn the state of other processes; the pause between polls
// is short and the deadline generous.
func (c *procCluster) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		if time.Now().After(deadline) {
			c.tb.Fatalf("%s: not after %v: %s", what, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *procCluster) status(nd *child) (*adminapi.ClusterStatus, error) {
	resp, err := c.hc.Get("http://" + nd.addr + "/admin/cluster")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /admin/cluster: %s: %s", resp.Status, body)
	}
	var st adminapi.ClusterStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// admin POSTs body as JSON to an admin path and fails the test unless it
// succeeds.
func (c *procCluster) admin(nd *child, path string, body any) {
	c.tb.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.tb.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	resp, err := c.hc.Post("http://"+nd.addr+path, "application/json", rd)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		c.tb.Fatalf("POST %s: %s: %s", path, resp.Status, out)
	}
}

// ring returns the committed ring as node nd has it.
func (c *procCluster) ring(nd *child) *ring.Ring {
	c.tb.Helper()
	resp, err := c.hc.Get("http://" + nd.addr + "/admin/ring")
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var rs meta.RingState
	if err := json.NewDecoder(resp.Body).Decode(&rs); err != nil {
		c.tb.Fatal(err)
	}
	r, err := ring.New(ring.Config{Size: rs.Size}, rs.Owners, rs.Epoch)
	if err != nil {
		c.tb.Fatal(err)
	}
	return r
}

func (c *procCluster) dumpLogs() {
	for i, nd := range c.nodes {
		logs := nd.logs.String()
		if len(logs) > 20000 {
			logs = "…" + logs[len(logs)-20000:]
		}
		c.tb.Logf("node %d (%s) log:\n%s", i+1, nd.id, logs)
	}
}

func keyURL(nd *child, bucket, key, query string) string {
	return "http://" + nd.addr + "/types/default/buckets/" + bucket + "/keys/" + key + query
}

// put writes value and returns the status code and the body (an error's
// reason).
func put(hc *http.Client, url, value string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(value))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "text/plain")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(body)), err
}

// get reads a key and returns the status code and body.
func get(hc *http.Client, url string) (int, string, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// TestClusterKill9LosesNoAcknowledgedWrite streams w=2 writes at a
// three-node cluster, kill -9s a non-bootstrap node in the middle of the
// stream and restarts it while the stream goes on, then reads every
// acknowledged key back with r=2 from every node in turn.
func TestClusterKill9LosesNoAcknowledgedWrite(t *testing.T) {
	start := time.Now()
	// A short handoff interval: fallback copies reach the restarted node
	// soon after it is back, whether or not gossip's alive event does it
	// first.
	c := startProcCluster(t, 3, "--handoff-interval", "1s")
	t.Logf("cluster of 3 formed in %v", time.Since(start).Round(time.Millisecond))
	victim := 2

	const (
		writers       = 4
		keysPerWriter = 500 // per writer: 2000 keys in all
		killAt        = 600 // acknowledged writes before the kill -9
		restartAt     = 1200
	)
	streamDeadline := time.Now().Add(40 * time.Second)
	var (
		acked, ackedSinceKill, failed atomic.Int64
		killed                        atomic.Bool
		wg                            sync.WaitGroup
		acks                          = make([]map[string]string, writers)
		hc                            = &http.Client{Timeout: 15 * time.Second}
		run                           = fmt.Sprintf("%x", rand.Uint32())
		killNow, restartNow           = make(chan struct{}), make(chan struct{})
		failMu                        sync.Mutex
		failures                      = make(map[string]int) // by status and reason
	)
	// The stream never goes to the victim: writes continue through the
	// two nodes that stay up, which coordinate or forward.
	live := []*child{c.nodes[0], c.nodes[1]}
	for w := range writers {
		acks[w] = make(map[string]string)
		wg.Go(func() {
			for i := range keysPerWriter {
				if time.Now().After(streamDeadline) {
					return
				}
				key := fmt.Sprintf("w%d-%04d", w, i)
				val := "v-" + run + "-" + key
				code, body, err := put(hc, keyURL(live[(w+i)%len(live)], "crash", key, "?w=2"), val)
				if err != nil || code != http.StatusNoContent {
					failed.Add(1)
					why := fmt.Sprintf("%d %s", code, body)
					if err != nil {
						why = err.Error()
					}
					why = addrPattern.ReplaceAllString(why, "ADDR")
					failMu.Lock()
					failures[why]++
					failMu.Unlock()
					continue
				}
				acks[w][key] = val
				switch acked.Add(1) {
				case killAt:
					close(killNow)
				case restartAt:
					close(restartNow)
				}
				if killed.Load() {
					ackedSinceKill.Add(1)
				}
			}
		})
	}
	streamDone := make(chan struct{})
	go func() { wg.Wait(); close(streamDone) }()
	waitFor := func(reached <-chan struct{}) {
		select {
		case <-reached:
		case <-streamDone:
		}
	}

	waitFor(killNow)
	atKill := acked.Load()
	if err := c.nodes[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.nodes[victim].done
	killed.Store(true)
	t.Logf("kill -9 node %d (%s) after %d acknowledged writes", victim+1, c.nodes[victim].id, atKill)

	waitFor(restartNow)
	restartStart := time.Now()
	atRestart := acked.Load()
	c.restart(victim)
	t.Logf("node %d restarted after %d acknowledged writes; it announced itself in %v",
		victim+1, atRestart, time.Since(restartStart).Round(time.Millisecond))
	<-streamDone

	all := make(map[string]string)
	for _, m := range acks {
		for k, v := range m {
			all[k] = v
		}
	}
	t.Logf("stream: %d acknowledged (%d after the kill), %d failed or refused", len(all), ackedSinceKill.Load(), failed.Load())
	for why, n := range failures {
		t.Logf("  %4d × %s", n, why)
	}
	if ackedSinceKill.Load() == 0 {
		t.Fatal("no write was acknowledged after the kill: the cluster stopped taking writes")
	}
	if len(all) < killAt {
		t.Fatalf("only %d writes acknowledged", len(all))
	}

	// Every acknowledged key, read with r=2 from each node in turn. A
	// write acknowledged while the victim was down may sit on a fallback
	// for a partition with two replicas on the victim (3 nodes cannot keep
	// every preference list of a 64-partition ring on distinct nodes): an
	// r=2 read that hears the victim's two "not found" first answers 404
	// until hinted handoff has brought the copy home. Those are read again
	// until handoff is done; anything else is a lost or wrong write.
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	type miss struct {
		key  string
		code int
		body string
	}
	readAll := func(keys []string, offset int) []miss {
		var (
			mu     sync.Mutex
			misses []miss
			rg     sync.WaitGroup
		)
		const readers = 4
		for r := range readers {
			rg.Go(func() {
				for i := r; i < len(keys); i += readers {
					k := keys[i]
					nd := c.nodes[(i+offset)%len(c.nodes)]
					code, body, err := get(hc, keyURL(nd, "crash", k, "?r=2"))
					if err != nil || code != http.StatusOK || body != all[k] {
						if err != nil {
							body = err.Error()
						}
						mu.Lock()
						misses = append(misses, miss{k, code, body})
						mu.Unlock()
					}
				}
			})
		}
		rg.Wait()
		return misses
	}
	// Only "not found" or "quorum not met" (or a failed request) may be
	// waiting for handoff; a wrong value or siblings are wrong for good.
	checkMisses := func(misses []miss) {
		for _, m := range misses {
			if m.code != http.StatusNotFound && m.code != http.StatusServiceUnavailable && m.code != 0 {
				t.Errorf("%s: %d %q, want 200 %q", m.key, m.code, m.body, all[m.key])
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	misses := readAll(keys, 0)
	firstPass := len(misses)
	checkMisses(misses)
	readStart := time.Now()
	deadline := readStart.Add(30 * time.Second)
	for pass := 1; len(misses) > 0; pass++ {
		if time.Now().After(deadline) {
			for i, m := range misses {
				if i == 10 {
					t.Errorf("… and %d more", len(misses)-10)
					break
				}
				t.Errorf("%s: %d %q, want 200 %q", m.key, m.code, m.body, all[m.key])
			}
			t.Fatalf("%d of %d acknowledged writes still not readable with r=2 %v after the first read",
				len(misses), len(all), time.Since(readStart).Round(time.Millisecond))
		}
		retry := make([]string, len(misses))
		for i, m := range misses {
			retry[i] = m.key
		}
		time.Sleep(100 * time.Millisecond) // hinted handoff runs every second
		misses = readAll(retry, pass)
		checkMisses(misses)
	}
	t.Logf("read back all %d acknowledged writes with r=2: %d at the first read, %d more once hinted handoff had run (%v); test took %v",
		len(all), len(all)-firstPass, firstPass, time.Since(readStart).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	for i, nd := range c.nodes {
		if !nd.alive() {
			t.Fatalf("node %d exited: %v", i+1, nd.waitErr)
		}
	}
}

// TestClusterRPCSurvivesGarbage sends what no cairn node would to a node's
// RPC port — random bytes, a frame cut short, a frame that claims 4 GiB —
// each on its own connection, and checks after each that the node hung up
// on it, still serves HTTP and still takes part in writes that need every
// primary.
func TestClusterRPCSurvivesGarbage(t *testing.T) {
	start := time.Now()
	c := startProcCluster(t, 3)
	target := c.nodes[1]

	// Keys with a replica on the target: a write through node 1 with
	// pw=3 can succeed only over an RPC connection to the target.
	r := c.ring(c.nodes[0])
	var viaTarget []string
	for i := 0; len(viaTarget) < 8; i++ {
		k := fmt.Sprintf("rpc-%d", i)
		for _, v := range r.Preflist(node.Location{Type: "default", Bucket: "garbage", Key: k}.Bytes(), 3) {
			if v.Node == target.id {
				viaTarget = append(viaTarget, k)
				break
			}
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	header := func(length uint32) []byte {
		var h [8]byte
		binary.BigEndian.PutUint32(h[0:4], length)
		binary.BigEndian.PutUint32(h[4:8], 0xdeadbeef)
		return h[:]
	}
	cases := []struct {
		name string
		send []byte
	}{
		{"random 64KiB", random},
		{"truncated frame", append(header(100), random[:10]...)},
		{"4GiB length", header(0xFFFFFFFF)},
	}
	hc := c.hc
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", target.rpcAddr, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
			// The node may hang up before it has read everything: a
			// reset while writing is one of the right answers.
			if _, err := conn.Write(tc.send); err != nil && !isHangUp(err) {
				t.Fatalf("write: %v", err)
			}
			if err := conn.(*net.TCPConn).CloseWrite(); err != nil && !isHangUp(err) {
				t.Fatalf("close write: %v", err)
			}
			// The node must close the connection, not wait on it forever.
			n, err := io.Copy(io.Discard, conn)
			if err != nil && !isHangUp(err) {
				t.Fatalf("the node kept the connection open: %v (read %d bytes)", err, n)
			}
			if !target.alive() {
				t.Fatalf("the node exited: %v\n%s", target.waitErr, target.logs)
			}

			key := fmt.Sprintf("after-%d", i)
			val := "value-after-" + tc.name
			if code, body, err := put(hc, keyURL(target, "garbage", key, "?w=2"), val); err != nil || code != http.StatusNoContent {
				t.Fatalf("PUT on the node: %d %q %v", code, body, err)
			}
			if code, body, err := get(hc, keyURL(target, "garbage", key, "?r=2")); err != nil || code != http.StatusOK || body != val {
				t.Fatalf("GET on the node: %d %q %v", code, body, err)
			}
			for _, k := range viaTarget[2*i : 2*i+2] {
				q := "?w=3&pw=3"
				if code, body, err := put(hc, keyURL(c.nodes[0], "garbage", k, q), val); err != nil || code != http.StatusNoContent {
					t.Fatalf("PUT %s%s through node 1: %d %q %v", k, q, code, body, err)
				}
				if code, body, err := get(hc, keyURL(c.nodes[2], "garbage", k, "?r=3&pr=3")); err != nil || code != http.StatusOK || body != val {
					t.Fatalf("GET %s?r=3&pr=3 through node 3: %d %q %v", k, code, body, err)
				}
			}
		})
	}
	if !target.alive() {
		t.Fatalf("the node exited: %v", target.waitErr)
	}
	t.Logf("node %s survived %d kinds of garbage on its RPC port; test took %v", target.id, len(cases), time.Since(start).Round(time.Millisecond))
}

// addrPattern matches host:port, so that failures differing only in the
// ports of their connections are counted together.
var addrPattern = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)

// isHangUp reports whether err is the peer closing or resetting the
// connection.
func isHangUp(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ENOTCONN) || errors.Is(err, io.EOF)
}
