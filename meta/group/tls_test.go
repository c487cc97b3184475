package group

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/clustertls"
	"github.com/cairnkv/cairn/internal/syncbuf"
	"github.com/cairnkv/cairn/node/rpc"
)

// TestTLSGroupKeepsOutStrangers runs the group over mutual TLS on the
// in-memory network: a member with a certificate from the cluster CA
// joins and Raft replicates to it over TLS, while a node with another
// CA's certificate cannot join (it never receives the group's state)
// and cannot open a Raft stream; the leader logs each rejection.
func TestTLSGroupKeepsOutStrangers(t *testing.T) {
	certs, otherCerts := t.TempDir(), t.TempDir()
	if err := clustertls.Generate(certs, "n1", "n2"); err != nil {
		t.Fatal(err)
	}
	if err := clustertls.Generate(otherCerts, "n3"); err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, net: rpc.NewMemNetwork()}
	t.Cleanup(c.stop)
	var leaderLog syncbuf.Buffer
	secure := func(id, dir string, log *syncbuf.Buffer, verifyServer bool) rpc.Network {
		t.Helper()
		creds, err := clustertls.Load(clustertls.Paths(dir, id))
		if err != nil {
			t.Fatal(err)
		}
		tc := rpc.DefaultTLSConfig()
		tc.Server, tc.Client = creds.ServerConfig(), creds.ClientConfig()
		if !verifyServer {
			tc.Client.VerifyConnection = nil
		}
		tc.Logger = slog.New(slog.DiscardHandler)
		if log != nil {
			tc.Logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
		nw, err := rpc.NewTLS(tc, c.net.Host(id))
		if err != nil {
			t.Fatal(err)
		}
		return nw
	}
	config := func(id string, bootstrap bool) Config {
		cfg := DefaultLocalConfig(id)
		cfg.Voters = 1
		cfg.RaftAddr, cfg.RPCAddr, cfg.HTTPAddr = id+":8300", id+":8099", id+":8098"
		cfg.Logger = testLogger().With("node", id)
		cfg.Bootstrap = bootstrap
		if !bootstrap {
			cfg.Join = []string{"n1:8099"}
		}
		return cfg
	}
	n1 := c.startOn(config("n1", true), InmemStores(), secure("n1", certs, &leaderLog, true))
	n2 := c.startOn(config("n2", false), InmemStores(), secure("n2", certs, nil, true))
	c.waitFor("n2 joined and has the ring", 20*time.Second, func() bool {
		st, err := n1.g.RaftStatus(context.Background())
		return err == nil && len(st.Servers) == 2 && n2.g.FSM().Ring() != nil && len(n2.g.FSM().Members()) == 2
	})

	n3 := c.startOn(config("n3", false), InmemStores(), secure("n3", otherCerts, nil, true))
	c.waitFor("n1 to log the stranger's rejection", 20*time.Second, func() bool {
		return strings.Contains(leaderLog.String(), "cluster tls handshake rejected")
	})
	// The stranger skipping its own check of n1 gets no further: n1
	// checks it. On the Raft port too.
	intruder := secure("n3", otherCerts, nil, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := intruder.Dial(ctx, "n1:8300")
	if err != nil {
		t.Fatalf("dial: %v", err) // the client's half of the handshake succeeds
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = conn.Write([]byte{0, 1, 2, 3}) // rpcAppendEntries and garbage
	if n, err := conn.Read(make([]byte, 64)); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the Raft port answered %d bytes, %v", n, err)
	}
	c.waitFor("n1 to log the rejection on its Raft port", 20*time.Second, func() bool {
		return strings.Contains(leaderLog.String(), "listener=n1:8300")
	})

	st, err := n1.g.RaftStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Servers) != 2 || len(n1.g.FSM().Members()) != 2 {
		t.Fatalf("servers %+v, members %+v; want n1 and n2 only", st.Servers, n1.g.FSM().Members())
	}
	if n3.g.FSM().Ring() != nil || len(n3.g.FSM().Members()) != 0 {
		t.Fatal("the stranger received the group's state")
	}
	t.Logf("n1's log:\n%s", leaderLog.String())
}
