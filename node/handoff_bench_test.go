package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// Ownership handoff between two nodes on Badger over the real TCP RPC:
// how fast one partition of 100,000 objects of 1 KiB moves with no rate
// limit, and what a move at the default rate does to the p99 latency of
// foreground puts and gets on other keys.
//
//	go test -run '^$' -bench BenchmarkHandoff -benchtime 1x ./node/
const (
	benchObjects    = 100_000
	benchValueSize  = 1 << 10
	benchRingSize   = 16
	benchWorkers    = 16
	benchWorkerOps  = 100 // put and get pairs per worker and phase
	benchLoadBatch  = 1000
	benchMoveLimit  = time.Minute
	benchGroupLimit = 30 * time.Second
)

// benchPair is two nodes, "a" and "b", each on its own Badger engine,
// reaching each other through rpc.Client and rpc.Server on loopback TCP,
// with a two-member ring, n_val 2, and a fake metadata plane for moves.
type benchPair struct {
	b     *testing.B
	hash  *ring.Ring // for PartitionOf, which no move changes
	nodes map[string]*Node
	engs  map[string]*store.Badger
	addrs map[string]string
	p     int // the partition that moves

	mu      sync.Mutex
	ring    *ring.Ring
	pending []Transfer
	done    chan Transfer
}

func newBenchPair(b *testing.B) *benchPair {
	b.Helper()
	props := DefaultProps()
	props.NVal = 2
	md := NewMemMetadata(clock.Real{}, props, nil)
	r, err := ring.Claim(ring.Config{Size: benchRingSize}, nil, []string{"a", "b"}, 2)
	if err != nil {
		b.Fatal(err)
	}
	bp := &benchPair{b: b, hash: r, nodes: map[string]*Node{}, engs: map[string]*store.Badger{}, addrs: map[string]string{},
		ring: r, p: r.PartitionsOf("a")[0], done: make(chan Transfer, 1)}
	// Made before the cleanup below is registered, so removed after it ran.
	dirs := map[string]string{"a": b.TempDir(), "b": b.TempDir()}
	ctx, stopLoops := context.WithCancel(context.Background())
	var loops sync.WaitGroup
	var closers []func()
	b.Cleanup(func() {
		stopLoops()
		loops.Wait()
		for _, c := range slices.Backward(closers) {
			c()
		}
	})
	lns := map[string]net.Listener{}
	for _, id := range []string{"a", "b"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		lns[id] = ln
		bp.addrs[id] = ln.Addr().String()
	}
	rc := rpc.DefaultConfig()
	rc.Logger = slog.New(slog.DiscardHandler)
	for _, id := range []string{"a", "b"} {
		sc := store.DefaultConfig()
		sc.Dir = dirs[id]
		eng, err := store.OpenBadger(sc)
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, func() { _ = eng.Close() })
		cli := rpc.NewClient(rc, rpc.TCP{})
		closers = append(closers, func() { _ = cli.Close() })
		cfg := DefaultConfig()
		cfg.NodeID = id
		cfg.RingSize = benchRingSize
		cfg.Props = props
		cfg.Logger = slog.New(slog.DiscardHandler)
		cfg.Handoff.BytesPerSecond = 0 // each phase sets its rate
		cfg.Handoff.DropGrace = time.Hour
		n, err := NewClustered(cfg, eng, md, cli, nil)
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, func() { _ = n.Close() })
		srv := rpc.NewServer(rc, n.HandleRPC)
		go func() { _ = srv.Serve(lns[id]) }()
		closers = append(closers, func() { _ = srv.Close() })
		bp.nodes[id], bp.engs[id] = n, eng
	}
	bp.push()
	for _, n := range bp.nodes {
		loops.Go(func() { n.RunHandoff(ctx, time.Hour, bp.complete) })
	}
	return bp
}

func (bp *benchPair) push() {
	top := Topology{Ring: bp.ring, Pending: slices.Clone(bp.pending), Addrs: maps.Clone(bp.addrs)}
	for _, n := range bp.nodes {
		if err := n.SetTopology(top); err != nil {
			bp.b.Error(err)
		}
	}
}

func (bp *benchPair) complete(_ context.Context, tr Transfer) error {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	i := slices.Index(bp.pending, tr)
	if i < 0 {
		return fmt.Errorf("bench plane: %+v is not pending", tr)
	}
	owners := bp.ring.Owners()
	owners[tr.Partition] = tr.To
	next, err := ring.New(ring.Config{Size: benchRingSize}, owners, bp.ring.Epoch()+1)
	if err != nil {
		return err
	}
	bp.ring, bp.pending = next, slices.Delete(bp.pending, i, i+1)
	bp.push()
	bp.done <- tr
	return nil
}

// load writes benchObjects objects of benchValueSize bytes, keyed so that
// they belong to partition p, straight into owner's engine.
func (bp *benchPair) load(owner string) {
	bp.b.Helper()
	eng := bp.engs[owner]
	vn := ring.VNode{Partition: bp.p, Node: owner}
	val := make([]byte, benchValueSize)
	var batch []store.Op
	flush := func() {
		if err := eng.Write(batch); err != nil {
			bp.b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i, n := 0, 0; n < benchObjects; i++ {
		key := Location{Type: DefaultType, Bucket: "bulk", Key: fmt.Sprintf("k%08d", i)}.Bytes()
		if bp.hash.PartitionOf(key) != bp.p {
			continue
		}
		n++
		_, _ = rand.Read(val)
		raw, err := object.Encode(object.New().Update(object.Context{}, object.Content{Value: val}, actor(vn)))
		if err != nil {
			bp.b.Fatal(err)
		}
		batch = append(batch, store.Op{Partition: store.Partition(bp.p), Key: key, Value: raw})
		if len(batch) == benchLoadBatch {
			flush()
		}
	}
	flush()
	if err := eng.Sync(); err != nil {
		bp.b.Fatal(err)
	}
}

// setRate sets n's handoff rate limit as its configuration would (0: no
// limit). No transfer may be running.
func setRate(n *Node, bytesPerSecond int64) {
	h := n.handoff
	h.mu.Lock()
	defer h.mu.Unlock()
	h.limiter = nil
	if bytesPerSecond > 0 {
		h.limiter = rate.NewLimiter(rate.Limit(bytesPerSecond), h.cfg.BatchBytes)
	}
}

// benchMove is a move of partition p in progress.
type benchMove struct {
	id     handoff.ID
	start  time.Time
	before Stats // the sender's
}

// startMove starts moving partition p from its owner to the other node,
// which first drops any copy it kept.
func (bp *benchPair) startMove(b *testing.B) benchMove {
	b.Helper()
	bp.mu.Lock()
	from := bp.ring.Owner(bp.p)
	bp.mu.Unlock()
	to := "a"
	if from == "a" {
		to = "b"
	}
	if err := bp.engs[to].DropPartition(store.Partition(bp.p)); err != nil {
		b.Fatal(err)
	}
	m := benchMove{id: handoff.ID{Kind: handoff.Ownership, Partition: bp.p, From: from, To: to}, before: bp.nodes[from].Stats(), start: time.Now()}
	bp.mu.Lock()
	bp.pending = append(bp.pending, Transfer{Partition: bp.p, From: from, To: to})
	bp.push()
	bp.mu.Unlock()
	return m
}

// sent returns what m's sender has handed off so far.
func (bp *benchPair) sent(m benchMove) (objects, bytes uint64) {
	s := bp.nodes[m.id.From].Stats()
	return s.HandoffObjects - m.before.HandoffObjects, s.HandoffBytes - m.before.HandoffBytes
}

// finish waits until m is committed and returns how long it took.
func (bp *benchPair) finish(b *testing.B, m benchMove) time.Duration {
	b.Helper()
	select {
	case <-bp.done:
	case <-time.After(benchMoveLimit):
		b.Fatalf("the move %s took over %v: %+v", m.id, benchMoveLimit, bp.nodes[m.id.From].LocalTransfers())
	}
	return time.Since(m.start)
}

// unthrottle lifts the rate limit of m's sender while m runs: it pauses
// the transfer, waits for its worker to stop, and resumes it after its
// cursor. It does nothing if m has completed.
func (bp *benchPair) unthrottle(b *testing.B, m benchMove) {
	b.Helper()
	n := bp.nodes[m.id.From]
	if err := n.ControlTransfer(context.Background(), m.id, handoff.Pause); err != nil {
		if errors.Is(err, handoff.ErrNoTransfer) {
			return
		}
		b.Fatal(err)
	}
	for deadline := time.Now().Add(benchMoveLimit); workerRunning(n, m.id); runtime.Gosched() {
		if time.Now().After(deadline) {
			b.Fatalf("the paused move %s does not stop", m.id)
		}
	}
	setRate(n, 0)
	if err := n.ControlTransfer(context.Background(), m.id, handoff.Resume); err != nil {
		b.Fatal(err)
	}
}

// foreground runs benchWorkers goroutines, each doing benchWorkerOps
// put-then-get pairs of fresh 1 KiB keys outside the moving partition's
// vnodes, and returns every request's latency and when the last ended.
func (bp *benchPair) foreground(phase string) (lat []time.Duration, end time.Time, err error) {
	size := benchRingSize
	val := make([]byte, benchValueSize)
	_, _ = rand.Read(val)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for g := range benchWorkers {
		n := bp.nodes[[]string{"a", "b"}[g%2]]
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), benchGroupLimit)
			defer cancel()
			mine := make([]time.Duration, 0, 2*benchWorkerOps)
			for i, done := 0, 0; done < benchWorkerOps; i++ {
				loc := Location{Type: DefaultType, Bucket: "fg-" + phase, Key: fmt.Sprintf("g%d-%d", g, i)}
				// Keys whose replicas include the moving vnode are left out.
				if q := bp.hash.PartitionOf(loc.Bytes()); q == bp.p || (q+1)%size == bp.p {
					continue
				}
				done++
				t0 := time.Now()
				if _, err := n.Put(ctx, loc, object.Content{Value: val}, DefaultPutOptions()); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				t1 := time.Now()
				if _, err := n.Get(ctx, loc, DefaultGetOptions()); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				mine = append(mine, t1.Sub(t0), time.Since(t1))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, time.Time{}, fmt.Errorf("%d foreground workers failed, the first: %w", len(errs), errs[0])
	}
	return lat, time.Now(), nil
}

func p99(lat []time.Duration) time.Duration {
	s := slices.Clone(lat)
	slices.Sort(s)
	return s[(len(s)*99)/100]
}

func BenchmarkHandoffThroughput(b *testing.B) {
	if testing.Short() {
		b.Skip("loads 100 MiB into Badger")
	}
	t0 := time.Now()
	bp := newBenchPair(b)
	bp.load(bp.ring.Owner(bp.p))
	b.Logf("loaded %d objects in %v", benchObjects, time.Since(t0))

	// Each iteration moves the partition to the other node, at full speed.
	b.Run("unlimited", func(b *testing.B) {
		var objects, bytes uint64
		var took time.Duration
		for range b.N {
			m := bp.startMove(b)
			d := bp.finish(b, m)
			o, by := bp.sent(m)
			objects, bytes, took = objects+o, bytes+by, took+d
		}
		if objects < uint64(b.N*benchObjects) {
			b.Fatalf("%d objects handed off in %d moves of %d", objects, b.N, benchObjects)
		}
		b.ReportMetric(float64(bytes)/(1<<20)/took.Seconds(), "MB/s")
		b.ReportMetric(float64(objects)/took.Seconds(), "objects/s")
	})

	// Foreground p99 with no transfer, then while a move runs at the
	// default rate limit. The move's rest, once the foreground requests
	// are done, runs unthrottled: at the default rate it would take
	// minutes.
	b.Run("foreground", func(b *testing.B) {
		limit := handoff.DefaultConfig().BytesPerSecond
		var idle, busy []time.Duration
		var overlap, moveSecs, moveMB float64
		for i := range b.N {
			lat, _, err := bp.foreground(fmt.Sprintf("idle%d", i))
			if err != nil {
				b.Fatal(err)
			}
			idle = append(idle, lat...)
			for _, n := range bp.nodes {
				setRate(n, limit)
			}
			m := bp.startMove(b)
			during, end, err := bp.foreground(fmt.Sprintf("busy%d", i))
			if err != nil {
				b.Fatal(err)
			}
			_, bytes := bp.sent(m)
			window := end.Sub(m.start)
			bp.unthrottle(b, m)
			took := bp.finish(b, m)
			for _, n := range bp.nodes {
				setRate(n, 0)
			}
			busy = append(busy, during...)
			// The share of the foreground run that the move covered.
			overlap += min(1, took.Seconds()/window.Seconds())
			moveSecs += min(took, window).Seconds()
			moveMB += float64(bytes) / (1 << 20)
		}
		pi, pb := p99(idle), p99(busy)
		b.ReportMetric(float64(pi.Microseconds())/1000, "p99-idle-ms")
		b.ReportMetric(float64(pb.Microseconds())/1000, "p99-moving-ms")
		b.ReportMetric(float64(pb)/float64(pi), "p99-ratio")
		b.ReportMetric(overlap/float64(b.N), "overlap")
		b.ReportMetric(moveMB/moveSecs, "move-MB/s") // while the foreground ran
	})
}
