package sim

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

const (
	ringSize = 16
	nVal     = 3
	// detectAfter is how long the modelled gossip takes to tell the
	// others that a node crashed, restarted, or went behind a partition.
	detectAfter = time.Second
	// idleStep is how far the driver lets time pass when no message waits.
	idleStep = 5 * time.Millisecond
	// retireEvery is how often the settling looks for a node that left
	// and may be retired (Config.Retires).
	retireEvery = 500 * time.Millisecond
	// handoffEvery is each node's hinted-handoff interval.
	handoffEvery = time.Second
)

// Result is what one run did and found.
type Result struct {
	Seed   int64
	Config Config
	// Digest is the SHA-256 of the whole event log; Events its length.
	// Two runs of one seed must give the same digest.
	Digest [32]byte
	Events int
	// Trace is the end of the log, for a report; Log the whole of it
	// when Config.KeepLog is set.
	Trace []string
	Log   []string
	// Attempted and Acked count the workload's writes; Lost are acked
	// elements missing after convergence, Phantom present elements never
	// attempted.
	Attempted, Acked, Lost, Phantom int
	// Deleted counts acknowledged deletes, each checked to stay deleted.
	Deleted int
	// Faults counts the fault actions injected, by kind.
	Faults map[string]int
	// Delivered and Dropped count messages.
	Delivered, Dropped int
	// Violations are the invariants that did not hold.
	Violations []string
	// Virtual is the virtual time the run took.
	Virtual time.Duration
}

// Report is a failure report: the seed, how to replay it, the violations
// and the end of the event log.
func (r Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sim: seed %d (%d nodes, sync %s): %d violation(s); replay with `make sim SEED=%d`\n",
		r.Seed, r.Config.Nodes, r.Config.Sync, len(r.Violations), r.Seed)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "  violation: %s\n", v)
	}
	fmt.Fprintf(&b, "  last %d of %d events:\n", len(r.Trace), r.Events)
	for _, l := range r.Trace {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	return b.String()
}

// Run runs one simulation in a synctest bubble of its own and returns what
// it found. It fails t only if the run could not be set up or left
// goroutines behind; invariant violations are in the Result.
func Run(t *testing.T, cfg Config) Result {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var res Result
	synctest.Test(t, func(t *testing.T) {
		s, err := newSim(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res = s.run()
	})
	return res
}

// sim is one run's state. Only the driver goroutine (run) changes the
// cluster; clients and nodes run only while it waits.
type sim struct {
	cfg   Config
	rng   *rand.Rand
	start time.Time
	net   *rpc.StepNetwork
	md    *node.MemMetadata
	ids   []string // the cluster's nodes, less those retired
	nodes map[string]*simNode
	// left marks the nodes a leave last took out of the ring, retired
	// those then decommissioned for good (ringchange.go). Only the driver
	// uses them.
	left    map[string]bool
	retired []string

	mu sync.Mutex // guards up, the ring and its transfers, for the clients and the nodes
	// ring is the committed ring, pending its moves in progress, and
	// completed the moves that handoff reported done since the driver's
	// last step (ringchange.go).
	ring       *ring.Ring
	pending    []node.Transfer
	completed  []node.Transfer
	up         map[string]bool
	cut        map[[2]string]bool // directed links that lose everything
	corrupt    map[string]bool    // keys with a replica corrupted once
	nextGossip time.Time          // when applyDetections next runs
	cutSince   time.Time          // since when some link has been cut; zero while none is
	faults     map[string]int
	faulting   bool

	log   sha256Log
	hist  *history
	stats struct{ delivered, dropped int }
}

// simNode is one node: its engine outlives its incarnations.
type simNode struct {
	id     string
	clock  *skewClock // outlives incarnations, as a machine's clock does
	mem    *store.Mem
	eng    *store.Faulty // the current incarnation's handle on mem
	n      *node.Node
	view   *node.LiveView
	cancel context.CancelFunc
	loops  sync.WaitGroup
}

func newSim(cfg Config) (*sim, error) {
	props := node.DefaultProps()
	if cfg.QuorumReads {
		props.ReadFanout = node.ReadFanoutQuorum
	}
	s := &sim{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(uint64(cfg.Seed), 0x73696d)),
		start: time.Now(),
		net:   rpc.NewStepNetwork(),
		md:    node.NewMemMetadata(clock.Real{}, props, nil),
		nodes: map[string]*simNode{},
		up:    map[string]bool{}, cut: map[[2]string]bool{}, corrupt: map[string]bool{},
		faults: map[string]int{}, left: map[string]bool{},
		log:  sha256Log{keep: cfg.Trace, sum: sha256.Sum256, full: cfg.KeepLog},
		hist: newHistory(),
	}
	for i := range cfg.Nodes {
		s.ids = append(s.ids, fmt.Sprintf("n%d", i+1))
	}
	members := s.ids
	if cfg.RingChanges && len(members) > nVal {
		members = members[:len(members)-1] // the last node joins later, if the draw says so
	}
	r, err := ring.Claim(ring.Config{Size: ringSize}, nil, members, nVal)
	if err != nil {
		return nil, fmt.Errorf("sim: claim: %w", err)
	}
	s.ring = r
	for _, id := range s.ids {
		sc := store.DefaultLocalConfig()
		sc.Sync = cfg.Sync
		sc.SyncInterval = 100 * time.Millisecond
		sc.Clock = clock.Real{}
		sc.Logger = slog.New(slog.DiscardHandler)
		sn := &simNode{id: id, mem: store.NewMem(sc), clock: &skewClock{}}
		s.nodes[id] = sn
		if err := s.boot(sn); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// boot starts an incarnation of sn on its engine.
func (s *sim) boot(sn *simNode) error {
	cfg := node.DefaultLocalConfig(sn.id)
	cfg.RingSize = ringSize
	cfg.Clock = sn.clock // virtual time, inside the bubble, with this node's jumps
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Seed = uint64(s.cfg.Seed)*31 + uint64(len(sn.id)) + uint64(sn.id[len(sn.id)-1])
	sn.eng = store.NewFaulty(sn.mem)
	for _, m := range []store.Method{store.MethodDelete, store.MethodWrite} {
		sn.eng.InjectError(m, s.watchReaps(sn.id), nil)
	}
	sn.view = &node.LiveView{} // a node starts believing every peer up
	n, err := node.NewClustered(cfg, sn.eng, s.md, s.net.Host(sn.id), sn.view)
	if err != nil {
		return fmt.Errorf("sim: start %s: %w", sn.id, err)
	}
	if err := n.SetTopology(s.topology()); err != nil {
		return fmt.Errorf("sim: start %s: %w", sn.id, err)
	}
	s.net.Listen(sn.id, n.HandleRPC)
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	sn.n, sn.cancel = n, cancel
	s.up[sn.id] = true
	s.mu.Unlock()
	sn.loops.Go(func() { n.RunAAE(ctx) })
	sn.loops.Go(func() {
		n.RunHandoff(ctx, handoffEvery, s.completeTransfer)
	})
	return nil
}

// crash kills sn's incarnation: it stops answering and sending, nothing it
// still runs can touch the engine again, and under the always and interval
// policies its engine forgets what the policy had not made durable, as in
// a power loss (under none, as in a process crash, it keeps everything).
func (s *sim) crash(sn *simNode) {
	s.net.Stop(sn.id)
	for m := store.MethodGet; m <= store.MethodWaitDurable; m++ {
		sn.eng.InjectError(m, nil, store.ErrClosed)
	}
	if s.cfg.Sync == store.SyncNone {
		// Under none cairn promises only that a process crash loses
		// nothing (the OS keeps what was written); a power loss may lose
		// anything, so a crash here is the process's alone.
		_ = sn.mem.Sync()
	}
	sn.mem.Crash()
	sn.cancel()
	old := sn.n
	go func() { _ = old.Close() }() // its requests end as their calls time out
	s.mu.Lock()
	s.up[sn.id] = false
	s.mu.Unlock()
}

func (s *sim) isUp(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up[id]
}

func (s *sim) now() time.Duration { return time.Since(s.start) }

func (s *sim) logf(format string, args ...any) {
	line := fmt.Sprintf("%9.3fs ", s.now().Seconds()) + fmt.Sprintf(format, args...)
	s.log.add(line)
	if s.cfg.PrintEvents {
		fmt.Fprintln(os.Stderr, line)
	}
}

// run drives the whole run: the fault phase with the clients, the heal,
// the settling, the checks.
func (s *sim) run() Result {
	s.logf("start: %d nodes, sync %s, %d clients on %d keys, seed %d", s.cfg.Nodes, s.cfg.Sync, s.cfg.Clients, s.cfg.Keys, s.cfg.Seed)
	if s.cfg.QuorumReads {
		s.logf("reads: read_fanout quorum")
	}
	ctx, stopClients := context.WithCancel(context.Background())
	var clients sync.WaitGroup
	for c := range s.cfg.Clients {
		clients.Go(func() { s.client(ctx, c) })
	}
	s.faulting = true
	nextFault := s.start.Add(s.expDelay())
	faultEnd := s.start.Add(s.cfg.FaultPhase)
	for time.Now().Before(faultEnd) {
		// What the last step delivered runs until it blocks before any
		// fault decision, or the fault would race with it.
		synctest.Wait()
		if !time.Now().Before(nextFault) {
			s.injectFault()
			nextFault = time.Now().Add(s.expDelay())
		}
		s.boundOutage()
		s.step()
	}
	// The last step may have let time pass: what woke at its end runs
	// until it blocks (a client may start an operation) before the
	// clients are told to stop, or which did would be the scheduler's.
	synctest.Wait()
	stopClients()
	s.faulting = false
	synctest.Wait()
	s.healAll()
	settleEnd := time.Now().Add(s.cfg.Settle)
	nextRetire := time.Now()
	for time.Now().Before(settleEnd) {
		if s.cfg.Retires && s.cfg.RingChanges && !time.Now().Before(nextRetire) {
			// The operator stops a node that left as soon as it lists
			// no transfer: every acknowledged write must outlive it.
			synctest.Wait()
			if did := s.retire(); did != "" {
				s.faults["retire"]++
				s.logf("settle: retired %s", did)
			}
			nextRetire = time.Now().Add(retireEvery)
		}
		s.step()
	}
	clients.Wait()
	s.check()
	s.shutdown()
	d := s.log.digest()
	return Result{
		Seed: s.cfg.Seed, Config: s.cfg, Digest: d, Events: s.log.n, Trace: s.log.trace(), Log: s.log.all,
		Attempted: s.hist.attempted, Acked: len(s.hist.acked), Lost: s.hist.lost, Phantom: s.hist.phantom, Deleted: len(s.hist.deleted),
		Faults: s.faults, Delivered: s.stats.delivered, Dropped: s.stats.dropped,
		Violations: s.hist.violations, Virtual: s.now(),
	}
}

// expDelay draws the time to the next fault action.
func (s *sim) expDelay() time.Duration {
	return time.Duration(s.rng.ExpFloat64() * float64(s.cfg.FaultEvery))
}

// step waits until every goroutine is blocked, applies the gossip verdicts
// that are due, then moves one message or lets time pass.
func (s *sim) step() {
	synctest.Wait()
	if s.applyDetections() || s.commitTransfers() {
		return // the nodes told have work to start before anything moves
	}
	pending := s.net.Pending()
	if len(pending) == 0 {
		time.Sleep(idleStep)
		return
	}
	if s.faulting && s.rng.Float64() < 0.05 {
		// Let time pass with messages in flight: delay, and with the
		// choice of message below, reordering.
		time.Sleep(time.Duration(1+s.rng.IntN(20)) * time.Millisecond)
		return
	}
	slices.SortFunc(pending, compareMessages)
	m := pending[s.rng.IntN(len(pending))]
	s.mu.Lock()
	cut := s.cut[[2]string{m.From, m.To}]
	s.mu.Unlock()
	kind := "req"
	if m.Reply {
		kind = "rep"
	}
	lost := s.faulting && s.rng.Float64() < s.cfg.LossRate
	if cut || lost {
		s.net.Drop(m)
		s.stats.dropped++
		s.logf("drop %s>%s %s %s %016x", m.From, m.To, m.Method, kind, bodyHash(m))
		return
	}
	s.net.Deliver(m)
	s.stats.delivered++
	s.logf("deliver %s>%s %s %s %016x", m.From, m.To, m.Method, kind, bodyHash(m))

}

// compareMessages orders messages by what they are, not by when their
// goroutines happened to queue them.
func compareMessages(a, b *rpc.StepMessage) int {
	if c := cmp.Compare(boolInt(a.Reply), boolInt(b.Reply)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.From, b.From); c != 0 {
		return c
	}
	if c := cmp.Compare(a.To, b.To); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Method, b.Method); c != 0 {
		return c
	}
	if c := cmp.Compare(bodyHash(a), bodyHash(b)); c != 0 {
		return c
	}
	// Identical replies: by the requests they answer, then, for replies
	// to identical requests, in the order the requests were sent.
	if c := cmp.Compare(hashBytes(a.Request), hashBytes(b.Request)); c != 0 {
		return c
	}
	return cmp.Compare(a.Origin, b.Origin)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func bodyHash(m *rpc.StepMessage) uint64 {
	h := fnv.New64a()
	h.Write(m.Body)
	if m.Err != nil {
		h.Write([]byte(m.Err.Error()))
	}
	return h.Sum64()
}

func hashBytes(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// sha256Log digests every line and keeps the last few.
type sha256Log struct {
	h    [32]byte
	sum  func([]byte) [32]byte
	n    int
	keep int
	tail []string
	all  []string // every line, when kept
	full bool
}

func (l *sha256Log) add(line string) {
	l.h = l.sum(append(l.h[:], line...))
	l.n++
	if l.full {
		l.all = append(l.all, line)
	}
	if l.keep > 0 {
		if len(l.tail) == l.keep {
			l.tail = l.tail[1:]
		}
		l.tail = append(l.tail, line)
	}
}

func (l *sha256Log) digest() [32]byte { return l.h }
func (l *sha256Log) trace() []string  { return slices.Clone(l.tail) }

// shutdown stops every node and the network and waits for their goroutines.
func (s *sim) shutdown() {
	for _, id := range slices.Concat(s.ids, s.retired) {
		sn := s.nodes[id]
		if s.isUp(id) {
			sn.cancel()
			_ = sn.n.Close()
		}
		sn.loops.Wait()
	}
	_ = s.net.Close()
	for _, sn := range s.nodes {
		_ = sn.mem.Close()
	}
}
