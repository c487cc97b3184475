package rpc

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/internal/clustertls"
	"github.com/cairnkv/cairn/internal/syncbuf"
	"github.com/prometheus/client_golang/prometheus"
)

// tlsCreds generates a cluster CA with node certificates for names in a
// temporary directory and loads them.
func tlsCreds(t testing.TB, names ...string) map[string]*clustertls.Credentials {
	t.Helper()
	dir := t.TempDir()
	if err := clustertls.Generate(dir, names...); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*clustertls.Credentials)
	for _, n := range names {
		c, err := clustertls.Load(clustertls.Paths(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// tlsNetwork is TCP under TLS with creds, logging to log (nil: nowhere)
// and counting in reg (may be nil).
func tlsNetwork(t testing.TB, creds *clustertls.Credentials, log *syncbuf.Buffer, reg prometheus.Registerer) *TLS {
	t.Helper()
	cfg := DefaultTLSConfig()
	cfg.Server, cfg.Client = creds.ServerConfig(), creds.ClientConfig()
	cfg.Registry = reg
	cfg.Logger = slog.New(slog.DiscardHandler)
	if log != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	nw, err := NewTLS(cfg, TCP{})
	if err != nil {
		t.Fatal(err)
	}
	return nw
}

// counted is echo that counts the requests it ran.
func counted(n *atomic.Int64) Handler {
	return func(ctx context.Context, method string, body []byte) ([]byte, error) {
		n.Add(1)
		return echo(ctx, method, body)
	}
}

func TestTLSCall(t *testing.T) {
	checkGoroutines(t)
	creds := tlsCreds(t, "n1", "n2")
	_, addr := startServer(t, testConfig(), tlsNetwork(t, creds["n1"], nil, nil), "127.0.0.1:0", echo)
	c := newTestClient(t, testConfig(), tlsNetwork(t, creds["n2"], nil, nil))
	out, err := c.Call(ctxTimeout(t, waitLong), addr, "echo", []byte("hello"))
	if err != nil || string(out) != "hello" {
		t.Fatalf("Call = %q, %v", out, err)
	}
}

// A process without a certificate from the cluster CA gets no answer:
// its handshake fails, the handler never runs, and the server logs the
// rejection with the caller's address and counts it.
func TestTLSRejectsStrangers(t *testing.T) {
	checkGoroutines(t)
	creds := tlsCreds(t, "n1", "n2")
	strangers := tlsCreds(t, "n2") // same name, another CA
	var log syncbuf.Buffer
	reg := prometheus.NewRegistry()
	var ran atomic.Int64
	srvNet := tlsNetwork(t, creds["n1"], &log, reg)
	_, addr := startServer(t, testConfig(), srvNet, "127.0.0.1:0", counted(&ran))

	// An intruder does not care who the server is: it skips verifying
	// the server's certificate, so that only the server's check of its
	// own certificate stands between it and the handler.
	intruder := func(creds *clustertls.Credentials) Network {
		cfg := DefaultTLSConfig()
		cfg.Server, cfg.Client = creds.ServerConfig(), creds.ClientConfig()
		cfg.Client.VerifyConnection = nil
		cfg.Logger = slog.New(slog.DiscardHandler)
		nw, err := NewTLS(cfg, TCP{})
		if err != nil {
			t.Fatal(err)
		}
		return nw
	}
	noCert := DefaultTLSConfig()
	noCert.Server = creds["n2"].ServerConfig()
	noCert.Client = creds["n2"].ClientConfig()
	noCert.Client.Certificates = nil
	noCert.Client.VerifyConnection = nil
	noCert.Logger = slog.New(slog.DiscardHandler)
	noCertNet, err := NewTLS(noCert, TCP{})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		nw   Network
	}{
		{"certificate from another CA", intruder(strangers["n2"])},
		{"certificate from another CA, verifying the server", tlsNetwork(t, strangers["n2"], nil, nil)},
		{"no certificate", noCertNet},
		{"plain TCP", TCP{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rejected(t, reg)
			c := newTestClient(t, testConfig(), tc.nw)
			out, err := c.Call(ctxTimeout(t, waitLong), addr, "echo", []byte("let me in"))
			if !errors.Is(err, ErrConnection) {
				t.Fatalf("Call = %q, %v; want ErrConnection", out, err)
			}
			t.Logf("Call: %v", err)
			waitFor(t, func() bool { return rejected(t, reg) > before }, "the rejection to be counted")
		})
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("the handler ran %d times for callers without credentials", n)
	}
	// The first rejection is logged at once; the others fall within the
	// log interval and are only counted.
	logs := log.String()
	t.Logf("server log:\n%s", logs)
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "cluster tls handshake rejected") ||
		!strings.Contains(logs, "remote=127.0.0.1:") || !strings.Contains(logs, "unknown authority") || !strings.Contains(logs, "listener=127.0.0.1:") {
		t.Fatalf("no rejection warning in the log:\n%s", logs)
	}
	if got := rejected(t, reg); got != 4 {
		t.Errorf("cairn_cluster_tls_rejected_total = %v, want 4", got)
	}
}

// A node whose own server certificate is from another CA is refused by
// its callers: they never send it a request.
func TestTLSClientRefusesStrangeServer(t *testing.T) {
	checkGoroutines(t)
	creds := tlsCreds(t, "n1")
	strangers := tlsCreds(t, "n2")
	var ran atomic.Int64
	_, addr := startServer(t, testConfig(), tlsNetwork(t, strangers["n2"], nil, nil), "127.0.0.1:0", counted(&ran))
	var log syncbuf.Buffer
	c := newTestClient(t, testConfig(), tlsNetwork(t, creds["n1"], &log, nil))
	if _, err := c.Call(ctxTimeout(t, waitLong), addr, "echo", []byte("secret")); !errors.Is(err, ErrDial) {
		t.Fatalf("Call = %v, want ErrDial", err)
	}
	if ran.Load() != 0 {
		t.Fatal("the request reached a server the client should not trust")
	}
	if !strings.Contains(log.String(), "listener=dial") || !strings.Contains(log.String(), "unknown authority") {
		t.Fatalf("log:\n%s", log.String())
	}
}

// A connection that never starts its handshake is closed after the
// handshake timeout and logged; closing the listener meanwhile abandons
// the handshakes in progress.
func TestTLSHandshakeTimeout(t *testing.T) {
	checkGoroutines(t)
	creds := tlsCreds(t, "n1")
	var log syncbuf.Buffer
	cfg := DefaultTLSConfig()
	cfg.Server, cfg.Client = creds["n1"].ServerConfig(), creds["n1"].ClientConfig()
	cfg.HandshakeTimeout = 100 * time.Millisecond
	cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	nw, err := NewTLS(cfg, TCP{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := nw.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	silent, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(waitLong))
	if _, err := silent.Read(make([]byte, 1)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent connection: read %v, want it closed", err)
	}
	waitFor(t, func() bool { return strings.Contains(log.String(), "deadline exceeded") }, "the timeout to be logged")

	// One more silent connection, then Close: it returns without waiting
	// out the timeout.
	cfg.HandshakeTimeout = waitLong
	slow, _ := NewTLS(cfg, TCP{})
	ln2, err := slow.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln2.Close() })
	c2, err := net.Dial("tcp", ln2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	start := time.Now()
	ln.Close()
	ln2.Close()
	if d := time.Since(start); d > waitLong/2 {
		t.Fatalf("Close took %v", d)
	}
	if _, err := ln2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v", err)
	}
}

// Warnings are spaced by LogInterval per listener; the count of those not
// logged travels with the next one.
func TestTLSRejectLogSpacing(t *testing.T) {
	var log syncbuf.Buffer
	clk := clock.NewFake(time.Unix(1000, 0))
	cfg := DefaultTLSConfig()
	cfg.Server, cfg.Client = tlsCreds(t, "n1")["n1"].ServerConfig(), nil
	cfg.Client = cfg.Server
	cfg.Clock = clk
	cfg.LogInterval = 10 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(&log, nil))
	nw, err := NewTLS(cfg, TCP{})
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("bad certificate")
	for range 4 {
		nw.reject("rpc", "10.0.0.9:4000", bad)
	}
	nw.reject("raft", "10.0.0.9:4001", bad) // another listener: its own spacing
	if n := strings.Count(log.String(), "level=WARN"); n != 2 {
		t.Fatalf("%d warnings, want 2:\n%s", n, log.String())
	}
	clk.Advance(10 * time.Second)
	nw.reject("rpc", "10.0.0.9:4002", bad)
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	last := lines[len(lines)-1]
	if len(lines) != 3 || !strings.Contains(last, "not_logged_since_last=3") || !strings.Contains(last, "remote=10.0.0.9:4002") {
		t.Fatalf("log:\n%s", log.String())
	}
}

func TestTLSConfigValidate(t *testing.T) {
	if err := DefaultTLSConfig().Validate(); err == nil {
		t.Fatal("a TLS config without credentials validated")
	}
}

// rejected reads cairn_cluster_tls_rejected_total, all listeners.
func rejected(t testing.TB, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "cairn_cluster_tls_rejected_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// waitFor polls cond until it holds or waitLong passes.
func waitFor(t testing.TB, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
