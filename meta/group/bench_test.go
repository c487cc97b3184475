package group

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/cairnkv/cairn/internal/hclogslog"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/hashicorp/raft"
)

// countingLog counts a log store's appends: how many entries each bolt
// transaction (one fsync) carries is what the write path's throughput
// turns on.
type countingLog struct {
	raft.LogStore
	calls, entries, nanos atomic.Int64
}

func (c *countingLog) StoreLog(l *raft.Log) error { return c.StoreLogs([]*raft.Log{l}) }

func (c *countingLog) StoreLogs(ls []*raft.Log) error {
	start := time.Now()
	err := c.LogStore.StoreLogs(ls)
	c.nanos.Add(int64(time.Since(start)))
	c.calls.Add(1)
	c.entries.Add(int64(len(ls)))
	return err
}

func (c *countingLog) reset() {
	c.calls.Store(0)
	c.entries.Store(0)
	c.nanos.Store(0)
}

// loopbackGroup starts a three-voter group on real TCP loopback sockets
// with bbolt stores (fsync on every log append), in production timing.
func loopbackGroup(b *testing.B) []*Group {
	b.Helper()
	var gs []*Group
	var firstRPC string
	for i := range 3 {
		id := nodeID(i)
		raftLn, err := rpc.TCP{}.Listen("127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		rpcLn, err := rpc.TCP{}.Listen("127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.NodeID = id
		cfg.RaftAddr = raftLn.Addr().String()
		cfg.RPCAddr = rpcLn.Addr().String()
		cfg.Logger = testLogger()
		cfg.ReconcileInterval = 50 * time.Millisecond
		cfg.StabilizationTime = 0
		if i == 0 {
			cfg.Bootstrap = true
			firstRPC = cfg.RPCAddr
		} else {
			cfg.Join = []string{firstRPC}
		}
		stores, err := OpenStores(filepath.Join(b.TempDir(), "raft"), hclogslog.New(cfg.Logger, "raft"))
		if err != nil {
			b.Fatal(err)
		}
		stores.Log = &countingLog{LogStore: stores.Log}
		client := rpc.NewClient(rpc.DefaultConfig(), rpc.TCP{})
		g, err := Open(cfg, stores, rpc.WithListener(rpc.TCP{}, raftLn), client)
		if err != nil {
			b.Fatal(err)
		}
		srv := rpc.NewServer(rpc.DefaultConfig(), g.Handle)
		go func() { _ = srv.Serve(rpcLn) }()
		b.Cleanup(func() {
			_ = srv.Close()
			_ = g.Close()
			_ = client.Close()
			_ = stores.Close()
		})
		gs = append(gs, g)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := gs[0].RaftStatus(context.Background())
		if st.Voters == 3 && gs[0].FSM().Ring() != nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("group did not form: %+v", st)
		}
		time.Sleep(10 * time.Millisecond) // polling group formation, outside the timed region
	}
	ctx := context.Background()
	if _, err := gs[1].CreateType(ctx, "sc", []byte(`{"consistent":true}`)); err != nil {
		b.Fatal(err)
	}
	if _, err := gs[2].ActivateType(ctx, "sc"); err != nil {
		b.Fatal(err)
	}
	return gs
}

func isNotFound(err error) bool { return errors.Is(err, node.ErrNotFound) }

func leaderOf(gs []*Group) int {
	for i, g := range gs {
		if g.Raft().State() == raft.Leader {
			return i
		}
	}
	return -1
}

// benchStrong runs b.N operations from 16 clients spread over the three
// members and reports the median and p99 latency.
func benchStrong(b *testing.B, op func(g *Group, client, i int) error) {
	benchStrongClients(b, 16, op)
}

// benchStrongClients is benchStrong with the given number of clients; one
// client runs on a follower, the others spread over the members.
func benchStrongClients(b *testing.B, clients int, op func(g *Group, client, i int) error) {
	gs := loopbackGroup(b)
	hist := hdrhistogram.New(1, int64(10*time.Second), 3)
	var mu sync.Mutex
	var next atomic.Int64
	var failed atomic.Int64
	for _, g := range gs {
		g.stores.Log.(*countingLog).reset()
	}
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := gs[c%len(gs)]
			if clients == 1 {
				g = gs[(leaderOf(gs)+1)%len(gs)]
			}
			local := hdrhistogram.New(1, int64(10*time.Second), 3)
			for {
				i := int(next.Add(1))
				if i > b.N {
					break
				}
				start := time.Now()
				if err := op(g, c, i); err != nil {
					failed.Add(1)
				}
				_ = local.RecordValue(int64(time.Since(start)))
			}
			mu.Lock()
			hist.Merge(local)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(hist.ValueAtQuantile(50))/1e3, "p50-µs")
	b.ReportMetric(float64(hist.ValueAtQuantile(99))/1e3, "p99-µs")
	b.ReportMetric(float64(failed.Load()), "errors")
	reportAppends(b, gs)
}

// cpuTime is the CPU time this process (the whole group) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportAppends reports the entries per log append and the time per
// append, on the leader and on the followers.
func reportAppends(b *testing.B, gs []*Group) {
	l := leaderOf(gs)
	var fc, fe, fn int64
	for i, g := range gs {
		c := g.stores.Log.(*countingLog)
		if i == l {
			if n := c.calls.Load(); n > 0 {
				b.ReportMetric(float64(c.entries.Load())/float64(n), "entries/append-leader")
				b.ReportMetric(float64(c.nanos.Load())/float64(n)/1e3, "µs/append-leader")
			}
			continue
		}
		fc, fe, fn = fc+c.calls.Load(), fe+c.entries.Load(), fn+c.nanos.Load()
	}
	if fc > 0 {
		b.ReportMetric(float64(fe)/float64(fc), "entries/append-follower")
		b.ReportMetric(float64(fn)/float64(fc)/1e3, "µs/append-follower")
	}
}

func BenchmarkStrongPut(b *testing.B) {
	benchStrong(b, func(g *Group, c, i int) error {
		loc := node.Location{Type: "sc", Bucket: "bench", Key: fmt.Sprintf("c%d-%d", c, i)}
		_, err := g.StrongPut(context.Background(), loc, object.Content{Value: make([]byte, 100)}, node.PutOptions{})
		return err
	})
}

// BenchmarkStrongPutFollower is one client writing through a follower,
// one write at a time: the latency a forwarded write adds.
func BenchmarkStrongPutFollower(b *testing.B) {
	benchStrongClients(b, 1, func(g *Group, c, i int) error {
		loc := node.Location{Type: "sc", Bucket: "bench", Key: fmt.Sprintf("c%d-%d", c, i)}
		_, err := g.StrongPut(context.Background(), loc, object.Content{Value: make([]byte, 100)}, node.PutOptions{})
		return err
	})
}

// BenchmarkStrongReadYourWriteFollower is one client on a follower that
// writes a key and reads it back, one operation at a time (b.N counts
// both): a read right after a write must see it, without waiting for the
// follower to hear of the commit.
func BenchmarkStrongReadYourWriteFollower(b *testing.B) {
	benchStrongClients(b, 1, func(g *Group, c, i int) error {
		loc := node.Location{Type: "sc", Bucket: "bench", Key: fmt.Sprintf("c%d-%d", c, (i-1)/2)}
		if i%2 == 1 {
			_, err := g.StrongPut(context.Background(), loc, object.Content{Value: make([]byte, 100)}, node.PutOptions{})
			return err
		}
		_, err := g.StrongGet(context.Background(), loc)
		return err
	})
}

func BenchmarkStrongGet(b *testing.B) {
	benchStrong(b, func(g *Group, c, i int) error {
		loc := node.Location{Type: "sc", Bucket: "bench", Key: fmt.Sprintf("k%d", i%100)}
		_, err := g.StrongGet(context.Background(), loc)
		if err != nil && !isNotFound(err) {
			return err
		}
		return nil
	})
}

// BenchmarkLeaderFailover measures, with production timeouts, the time
// from the leader's shutdown to a new leader among the other two.
func BenchmarkLeaderFailover(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		gs := loopbackGroup(b)
		l := leaderOf(gs)
		b.StartTimer()
		start := time.Now()
		_ = gs[l].Raft().Shutdown().Error()
		for leaderOf(append(append([]*Group{}, gs[:l]...), gs[l+1:]...)) < 0 {
			time.Sleep(time.Millisecond) // measuring: the poll interval bounds the error
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/failover")
}
