package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/internal/syncbuf"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// faultKV wraps any node.KV and injects errors or panics per method, so
// fault tests keep working when the fake is swapped for a real node.
type faultKV struct {
	node.KV

	mu     sync.Mutex
	errs   map[string]error
	panics map[string]bool
	// listErrAfter makes ListKeys fail after that many keys were passed
	// on (0: never).
	listErrAfter int
}

func (f *faultKV) fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.errs == nil {
		f.errs = map[string]error{}
	}
	f.errs[method] = err
}

func (f *faultKV) panicOn(method string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics == nil {
		f.panics = map[string]bool{}
	}
	f.panics[method] = true
}

func (f *faultKV) injected(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panics[method] {
		panic("faultKV: injected panic in " + method)
	}
	return f.errs[method]
}

func (f *faultKV) Get(ctx context.Context, loc node.Location, opts node.GetOptions) (*object.Object, error) {
	if err := f.injected("Get"); err != nil {
		return nil, err
	}
	return f.KV.Get(ctx, loc, opts)
}

func (f *faultKV) Put(ctx context.Context, loc node.Location, c object.Content, opts node.PutOptions) (*object.Object, error) {
	if err := f.injected("Put"); err != nil {
		return nil, err
	}
	return f.KV.Put(ctx, loc, c, opts)
}

func (f *faultKV) Delete(ctx context.Context, loc node.Location, opts node.DeleteOptions) error {
	if err := f.injected("Delete"); err != nil {
		return err
	}
	return f.KV.Delete(ctx, loc, opts)
}

func (f *faultKV) BucketProps(ctx context.Context, typ, bucket string) (node.Props, error) {
	if err := f.injected("BucketProps"); err != nil {
		return node.Props{}, err
	}
	return f.KV.BucketProps(ctx, typ, bucket)
}

func (f *faultKV) ListKeys(ctx context.Context, typ, bucket string, fn func(key string) error) error {
	if err := f.injected("ListKeys"); err != nil {
		return err
	}
	f.mu.Lock()
	after := f.listErrAfter
	f.mu.Unlock()
	n := 0
	return f.KV.ListKeys(ctx, typ, bucket, func(k string) error {
		if after > 0 && n == after {
			return fmt.Errorf("%w: injected after %d keys", node.ErrQuorumNotMet, n)
		}
		n++
		return fn(k)
	})
}

// testEnv is what a test server runs on.
type testEnv struct {
	node  *node.Node
	md    *node.MemMetadata // nil: the node runs alone, on a LocalMetadata
	kv    *faultKV
	clock *clock.Fake
	reg   *prometheus.Registry
	logs  *syncbuf.Buffer
	cfg   Config
	api   *API
}

// testConfig has small limits so that 413 and streaming are cheap to hit.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.MaxObjectSize = 1 << 20
	cfg.WarnObjectSize = 512 << 10
	cfg.ListBatchSize = 3
	cfg.EnablePprof = true
	return cfg
}

// newTestServer is the one place that decides what the API runs on: a real
// node on a Badger engine (fault injection wraps it).
func newTestServer(t testing.TB) (*httptest.Server, *testEnv) {
	t.Helper()
	env := newTestEnv(t, false)
	srv := httptest.NewServer(env.api)
	t.Cleanup(srv.Close)
	return srv, env
}

// newStrongTestServer is newTestServer with the node on a MemMetadata that
// has, besides "default" and "typed", the consistent type "strong".
func newStrongTestServer(t testing.TB) (*httptest.Server, *testEnv) {
	t.Helper()
	env := newTestEnv(t, true)
	srv := httptest.NewServer(env.api)
	t.Cleanup(srv.Close)
	return srv, env
}

func newTestEnv(t testing.TB, strong bool) *testEnv {
	t.Helper()
	clk := clock.NewFake(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	sc := store.DefaultLocalConfig()
	sc.Dir = t.TempDir()
	sc.Sync = store.SyncAlways
	sc.Clock = clk
	eng, err := store.OpenBadger(sc)
	if err != nil {
		t.Fatalf("OpenBadger: %v", err)
	}
	nc := node.DefaultLocalConfig("test-node")
	nc.Clock = clk
	nc.Logger = slog.New(slog.DiscardHandler)
	typed := node.DefaultProps()
	typed.NVal = 2
	nc.Types = map[string]node.Props{"typed": typed}
	var (
		mem *node.MemMetadata
		md  node.Metadata // nil: the node runs alone
	)
	if strong {
		sp := node.DefaultProps()
		sp.Consistent, sp.AllowMult = true, false
		mem = node.NewMemMetadata(clk, nc.Props, map[string]node.Props{"typed": typed, "strong": sp})
		md = mem
	}
	n, err := node.New(nc, eng, md)
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	t.Cleanup(func() {
		_ = n.Close()
		_ = eng.Close()
	})
	env := &testEnv{
		node:  n,
		md:    mem,
		kv:    &faultKV{KV: n},
		clock: clk,
		reg:   prometheus.NewRegistry(),
		logs:  &syncbuf.Buffer{},
		cfg:   testConfig(),
	}
	logger := slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	api, err := New(env.cfg, env.kv, logger, env.reg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	env.api = api
	return env
}
