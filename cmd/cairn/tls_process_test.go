package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/gossip"
	"github.com/cairnkv/cairn/internal/clustertls"
	"github.com/cairnkv/cairn/internal/syncbuf"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vmihailenco/msgpack/v5"
)

func TestClusterTLSFlagsGoTogether(t *testing.T) {
	getenv := func(string) string { return "" }
	for _, args := range [][]string{
		{"--cluster-tls-ca", "ca.pem"},
		{"--cluster-tls-cert", "n1.pem", "--cluster-tls-key", "n1-key.pem"},
	} {
		_, err := parseConfig(args, getenv)
		if err == nil || !strings.Contains(err.Error(), "go together") {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, err := parseConfig([]string{"--cluster-tls-ca", "a", "--cluster-tls-cert", "b", "--cluster-tls-key", "c"}, getenv); err != nil {
		t.Errorf("all three: %v", err)
	}
}

// coordPut is the body of the node's kv.coord method (a write a node
// coordinates), as a peer sends it.
type coordPut struct {
	Type    string         `msgpack:"t"`
	Bucket  string         `msgpack:"b"`
	Key     string         `msgpack:"k"`
	Content object.Content `msgpack:"c"`
	N       int            `msgpack:"n"`
	W       int            `msgpack:"w"`
}

// TestClusterTLSKeepsOutStrangers runs a three-node cluster with mutual
// TLS (and a gossip key) and shows that data flows between its nodes,
// while a process without a certificate from the cluster CA cannot join
// (with one from another CA, or speaking plain TCP), cannot write data
// through the internal RPC that a holder of a cluster certificate can,
// and cannot speak to Raft; each rejection is logged by the node, with
// the caller's address.
func TestClusterTLSKeepsOutStrangers(t *testing.T) {
	start := time.Now()
	certs, otherCerts := t.TempDir(), t.TempDir()
	if err := clustertls.Generate(certs, "node1", "node2", "node3", "tester"); err != nil {
		t.Fatal(err)
	}
	if err := clustertls.Generate(otherCerts, "node1"); err != nil {
		t.Fatal(err)
	}
	tlsFlags := func(dir, name string) []string {
		f := clustertls.Paths(dir, name)
		return []string{"--cluster-tls-ca", f.CA, "--cluster-tls-cert", f.Cert, "--cluster-tls-key", f.Key}
	}
	key, err := gossip.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c := startProcClusterWith(t, 3, func(name string) []string { return tlsFlags(certs, name) }, "--gossip-key", key)
	n1 := c.nodes[0]
	if !strings.Contains(n1.logs.String(), "cluster tls on") {
		t.Fatalf("node 1 does not say cluster TLS is on:\n%s", n1.logs)
	}

	// Data crosses between the nodes over TLS: w=3 and r=3 need all.
	if code, body, err := put(c.hc, keyURL(n1, "tls", "k", "?w=3&pw=3"), "v"); err != nil || code != http.StatusNoContent {
		t.Fatalf("PUT w=3: %d %q %v", code, body, err)
	}
	if code, body, err := get(c.hc, keyURL(c.nodes[2], "tls", "k", "?r=3&pr=3")); err != nil || code != http.StatusOK || body != "v" {
		t.Fatalf("GET r=3: %d %q %v", code, body, err)
	}

	// Every rejection is counted; warnings are spaced (10s per
	// listener), so the log is checked for what it must say, the metric
	// for each rejection.
	rejected := func(listener string) int {
		t.Helper()
		resp, err := c.hc.Get("http://" + n1.addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`(?m)^cairn_cluster_tls_rejected_total\{listener="` + listener + `"\} (\d+)`).FindSubmatch(b)
		if m == nil {
			return 0
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	waitRejected := func(what, listener string, before int, logSays string) {
		t.Helper()
		c.eventually(30*time.Second, what+" rejected by node 1", func() (bool, string) {
			return rejected(listener) > before, "not counted yet"
		})
		c.eventually(30*time.Second, what+" logged by node 1", func() (bool, string) {
			return strings.Contains(grepLines(n1.logs.String(), "cluster tls handshake rejected"), logSays), "not logged yet"
		})
	}
	members := func() map[string]bool {
		t.Helper()
		st, err := c.status(n1)
		if err != nil {
			t.Fatal(err)
		}
		ids := make(map[string]bool)
		for _, m := range st.Members {
			ids[m.ID] = true
		}
		return ids
	}

	// A node with a certificate from another CA (and another gossip
	// key), then one without TLS, try to join through node 1.
	otherKey, _ := gossip.GenerateKey()
	for _, tc := range []struct {
		name string
		args []string
		says string // in node 1's warning
	}{
		{"another CA", append(tlsFlags(otherCerts, "node1"), "--gossip-key", otherKey), "listener=rpc remote=127.0.0.1:"},
		{"plain TCP", nil, "first record does not look like a TLS handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rejected("rpc")
			in := startIntruder(t, filepath.Join(t.TempDir(), "intruder"), append([]string{"--join", n1.rpcAddr}, tc.args...)...)
			waitRejected("the intruder's join", "rpc", before, tc.says)
			c.eventually(30*time.Second, "the intruder to say its join failed", func() (bool, string) {
				return strings.Contains(in.logs.String(), "join attempt failed"), "not yet"
			})
			if ms := members(); len(ms) != 3 {
				t.Fatalf("members %v; want only the three nodes", ms)
			}
			if !in.alive() {
				t.Fatalf("the intruder exited: %v", in.waitErr)
			}
			t.Logf("intruder log (tail): %s", tail(in.logs.String(), 600))
		})
	}

	// A write through the internal RPC: a holder of a certificate from
	// the cluster CA can make one, a holder of another CA's cannot, even
	// if it does not check the node's certificate.
	dial := func(f clustertls.Files, verifyServer bool) *rpc.Client {
		t.Helper()
		creds, err := clustertls.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		tc := rpc.DefaultTLSConfig()
		tc.Server, tc.Client = creds.ServerConfig(), creds.ClientConfig()
		if !verifyServer {
			tc.Client.VerifyConnection = nil
		}
		tc.Logger = slog.New(slog.DiscardHandler)
		nw, err := rpc.NewTLS(tc, rpc.TCP{})
		if err != nil {
			t.Fatal(err)
		}
		cl := rpc.NewClient(rpc.DefaultLocalConfig(), nw)
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	write := func(cl *rpc.Client, key string) error {
		body, err := msgpack.Marshal(coordPut{Type: "default", Bucket: "tls", Key: key, N: 3, W: 2,
			Content: object.Content{Value: []byte("written over RPC"), ContentType: "text/plain", LastModified: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err = cl.Call(ctx, n1.rpcAddr, "kv.coord", body)
		return err
	}
	if err := write(dial(clustertls.Paths(certs, "tester"), true), "by-member"); err != nil {
		t.Fatalf("kv.coord with a cluster certificate: %v", err)
	}
	if code, body, err := get(c.hc, keyURL(c.nodes[1], "tls", "by-member", "")); err != nil || code != http.StatusOK || body != "written over RPC" {
		t.Fatalf("GET by-member: %d %q %v", code, body, err)
	}
	before := rejected("rpc")
	stranger := dial(clustertls.Paths(otherCerts, "node1"), false)
	err = write(stranger, "by-stranger")
	if !errors.Is(err, rpc.ErrConnection) {
		t.Fatalf("kv.coord with another CA's certificate: %v; want ErrConnection", err)
	}
	waitRejected("the stranger's write", "rpc", before, "listener=rpc")
	// Nor do the metadata plane's methods answer it: a join, a ring
	// change (whatever the body, the handshake fails first).
	for _, method := range []string{"meta.join", "meta.apply"} {
		body, _ := msgpack.Marshal(map[string]any{"m": map[string]any{"id": "intruder", "rpc": "127.0.0.1:1"}})
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := stranger.Call(ctx, n1.rpcAddr, method, body)
		cancel()
		if !errors.Is(err, rpc.ErrConnection) {
			t.Fatalf("%s with another CA's certificate: %v; want ErrConnection", method, err)
		}
	}
	if ms := members(); len(ms) != 3 || ms["intruder"] {
		t.Fatalf("members %v; want only the three nodes", ms)
	}
	for i, nd := range c.nodes {
		if code, body, err := get(c.hc, keyURL(nd, "tls", "by-stranger", "?r=1")); err != nil || code != http.StatusNotFound {
			t.Fatalf("node %d: GET by-stranger: %d %q %v; want 404", i+1, code, body, err)
		}
	}

	// The Raft port: plain bytes get a hang-up and a warning.
	before = rejected("raft")
	conn, err := net.DialTimeout("tcp", n1.raftAddr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	_, _ = conn.Write([]byte("\x00not a raft stream\n"))
	if n, err := io.Copy(io.Discard, conn); n != 0 || (err != nil && !isHangUp(err)) {
		t.Fatalf("raft port answered %d bytes, %v", n, err)
	}
	waitRejected("plain bytes on the Raft port", "raft", before, "listener=raft")

	// The cluster still works.
	if code, body, err := put(c.hc, keyURL(c.nodes[2], "tls", "k2", "?w=3&pw=3"), "v2"); err != nil || code != http.StatusNoContent {
		t.Fatalf("PUT w=3 after the intruders: %d %q %v", code, body, err)
	}
	t.Logf("node 1's rejections:\n%s", grepLines(n1.logs.String(), "cluster tls handshake rejected"))
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

// startIntruder starts cairn with args and does not wait for it to
// serve: a node that cannot join never does. It is killed when the test
// ends.
func startIntruder(t *testing.T, dataDir string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(cairnBinary(t), append([]string{"--data-dir", dataDir, "--http-addr", "127.0.0.1:0",
		"--rpc-addr", "127.0.0.1:0", "--raft-addr", "127.0.0.1:0", "--gossip-addr", "127.0.0.1:0", "--log-level", "info"}, args...)...)
	c := &child{cmd: cmd, logs: &syncbuf.Buffer{}, done: make(chan struct{}), dataDir: dataDir}
	cmd.Stderr = c.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A node whose credentials cannot work refuses to start, saying why,
// rather than failing on its first connection.
func TestClusterTLSBadFilesStopStartUp(t *testing.T) {
	certs, otherCerts := t.TempDir(), t.TempDir()
	if err := clustertls.Generate(certs, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := clustertls.Generate(otherCerts, "n1"); err != nil {
		t.Fatal(err)
	}
	good := clustertls.Paths(certs, "n1")
	for _, tc := range []struct {
		name string
		f    clustertls.Files
		says string
	}{
		{"missing", clustertls.Paths(certs, "n2"), "no such file"},
		{"certificate from another CA", clustertls.Files{CA: good.CA, Cert: filepath.Join(otherCerts, "n1.pem"), Key: filepath.Join(otherCerts, "n1-key.pem")}, "does not verify"},
		{"key of another certificate", clustertls.Files{CA: good.CA, Cert: good.Cert, Key: filepath.Join(otherCerts, "n1-key.pem")}, "private key does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.RPCAddr, cfg.RaftAddr = "127.0.0.1:0", "127.0.0.1:0"
			cfg.ClusterTLSCA, cfg.ClusterTLSCert, cfg.ClusterTLSKey = tc.f.CA, tc.f.Cert, tc.f.Key
			_, _, _, err := clusterListeners(cfg, nil, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), "cluster tls") || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("clusterListeners = %v; want a cluster tls error saying %q", err, tc.says)
			}
		})
	}
	// A certificate about to expire works, with a warning at start and
	// its expiry on /metrics.
	ca, err := clustertls.LoadCA(certs)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ca.Issue(clustertls.NodeRequest{Name: "n2", Validity: 24 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.WriteFiles(certs); err != nil {
		t.Fatal(err)
	}
	soon := clustertls.Paths(certs, "n2")
	cfg := DefaultConfig()
	cfg.RPCAddr, cfg.RaftAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.ClusterTLSCA, cfg.ClusterTLSCert, cfg.ClusterTLSKey = soon.CA, soon.Cert, soon.Key
	var log syncbuf.Buffer
	reg := prometheus.NewRegistry()
	rpcLn, raftLn, nw, err := clusterListeners(cfg, reg, slog.New(slog.NewTextHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer rpcLn.Close()
	defer raftLn.Close()
	if _, ok := nw.(*rpc.TLS); !ok {
		t.Fatalf("network %T, want *rpc.TLS", nw)
	}
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "expires soon") {
		t.Errorf("no expiry warning:\n%s", log.String())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var notAfter float64
	for _, mf := range mfs {
		if mf.GetName() == "cairn_cluster_tls_cert_not_after_seconds" {
			notAfter = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if d := time.Until(time.Unix(int64(notAfter), 0)); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("cairn_cluster_tls_cert_not_after_seconds = %v, %v from now", notAfter, d)
	}
}
