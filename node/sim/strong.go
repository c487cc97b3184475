package sim

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairnkv/cairn/internal/lincheck"
	"github.com/cairnkv/cairn/meta/group"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/hashicorp/raft"
)

// strongType is the consistent bucket type the strong workload writes.
const strongType = "sc"

// StrongResult is what one strong run did and found.
type StrongResult struct {
	Seed   int64
	Config StrongConfig
	// Ops counts the history's operations by outcome; FailedReads the
	// reads that failed (they have no effect and are not in the history).
	Ops         lincheck.Summary
	FailedReads int
	// Check is porcupine's verdict on the whole history.
	Check porcupine.CheckResult
	// Schedule is the fault schedule as drawn: the same, line for line,
	// on every run of the seed.
	Schedule []string
	// Faults counts the fault actions injected, by kind.
	Faults map[string]int
	// Trace is the end of the event log; History the last operations by
	// call time.
	Trace   []string
	History []string
	// Violations are the checks that did not hold.
	Violations []string
	// Virtual is the virtual time the run took.
	Virtual time.Duration

	ops []porcupine.Operation
}

// Report is a failure report: the seed, how to replay it, the violations,
// the last events and the last operations.
func (r StrongResult) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sim: strong seed %d (%d members, production timings %v, unsafe reads %v): %d violation(s); replay with `make sim STRONG_SEED=%d`\n",
		r.Seed, r.Config.Members, r.Config.ProductionTimings, r.Config.UnsafeLocalReads, len(r.Violations), r.Seed)
	fmt.Fprintf(&b, "  (a replay repeats the fault schedule and the clients' choices, not Raft's timing)\n")
	fmt.Fprintf(&b, "  history: %s; %d failed reads; check %s\n", r.Ops, r.FailedReads, r.Check)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "  violation: %s\n", v)
	}
	fmt.Fprintf(&b, "  fault schedule (from the start of the fault phase):\n")
	for _, l := range r.Schedule {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	fmt.Fprintf(&b, "  last %d events:\n", len(r.Trace))
	for _, l := range r.Trace {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	fmt.Fprintf(&b, "  last %d operations (call..return, client, operation):\n", len(r.History))
	for _, l := range r.History {
		fmt.Fprintf(&b, "    %s\n", l)
	}
	return b.String()
}

// RunStrong runs one strong-keyspace simulation in a synctest bubble of its
// own and returns what it found. It fails t only if the group could not be
// set up or left goroutines behind; violations are in the result.
func RunStrong(t *testing.T, cfg StrongConfig) StrongResult {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var res StrongResult
	synctest.Test(t, func(t *testing.T) {
		s := newStrongSim(cfg)
		defer s.shutdown()
		if err := s.setup(); err != nil {
			s.shutdown()
			t.Fatalf("sim: strong seed %d: %v\n%s", cfg.Seed, err, strings.Join(s.trace.lines(), "\n"))
		}
		s.run()
		res = s.result()
	})
	// The check is pure computation: it runs outside the bubble.
	res.checkHistory()
	return res
}

// strongSim is one strong run's state. The driver (the bubble's main
// goroutine) injects faults and restarts members; clients call members
// concurrently through member.current.
type strongSim struct {
	cfg   StrongConfig
	rng   *rand.Rand
	start time.Time
	net   *rpc.MemNetwork
	ids   []string
	mem   map[string]*member
	trace *eventTrace
	hist  *lincheck.History

	mu          sync.Mutex // guards violations and failedReads
	violations  []string
	failedReads int

	schedule   []string
	faults     map[string]int
	faultStart time.Time // the schedule's times count from here
	// cutSince is when the network was last cut with no heal since;
	// minoritySince when a majority of the members was last down with
	// none restarted since (zero: not so).
	cutSince, minoritySince time.Time
	// alone are the spans of the history's clock when every member was
	// cut off from every other; aloneSince starts the current one (-1:
	// none).
	alone      [][2]int64
	aloneSince int64
}

// member is one member of the group: its stores outlive its incarnations.
type member struct {
	id     string
	cfg    group.Config
	stores *group.Stores

	mu  sync.Mutex // guards inc, for the clients
	inc *incarnation
}

// incarnation is one run of a member's process.
type incarnation struct {
	g      *group.Group
	client *rpc.Client
	srv    *rpc.Server
	served chan struct{}
}

func newStrongSim(cfg StrongConfig) *strongSim {
	s := &strongSim{
		cfg:    cfg,
		rng:    rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7374726f6e67)),
		start:  time.Now(),
		net:    rpc.NewMemNetwork(),
		mem:    map[string]*member{},
		hist:   lincheck.NewHistory(time.Now),
		faults: map[string]int{},

		aloneSince: -1,
	}
	s.trace = newEventTrace(s.start, cfg.Trace)
	for i := range cfg.Members {
		id := fmt.Sprintf("n%d", i+1)
		s.ids = append(s.ids, id)
		gc := group.DefaultLocalConfig(id)
		if cfg.ProductionTimings {
			prod := group.DefaultConfig()
			gc.ApplyTimeout, gc.HeartbeatTimeout, gc.ElectionTimeout = prod.ApplyTimeout, prod.HeartbeatTimeout, prod.ElectionTimeout
			gc.LeaderLeaseTimeout, gc.CommitTimeout = prod.LeaderLeaseTimeout, prod.CommitTimeout
		}
		gc.Voters = cfg.Members
		gc.RaftAddr = id + ":8300"
		gc.RPCAddr = id + ":8099"
		gc.HTTPAddr = id + ":8098"
		gc.UnsafeLocalReads = cfg.UnsafeLocalReads
		gc.Logger = slog.New(traceHandler{t: s.trace}).With("node", id)
		if i == 0 {
			gc.Bootstrap = true
		} else {
			gc.Join = []string{s.ids[0] + ":8099"}
		}
		s.mem[id] = &member{id: id, cfg: gc, stores: group.InmemStores()}
	}
	return s
}

func (s *strongSim) violate(format string, args ...any) {
	v := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.violations = append(s.violations, v)
	s.mu.Unlock()
	s.trace.logf("VIOLATION %s", v)
}

// setup starts every member, waits until all are voters under one
// leader, and creates and activates the consistent bucket type.
func (s *strongSim) setup() error {
	for _, id := range s.ids {
		if err := s.boot(s.mem[id]); err != nil {
			return err
		}
	}
	if err := s.waitFor("every member a voter", s.cfg.Settle, func() bool {
		l := s.leader()
		if l == nil {
			return false
		}
		st, err := l.RaftStatus(context.Background())
		return err == nil && st.Voters == s.cfg.Members && l.FSM().Ring() != nil
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Settle)
	defer cancel()
	l := s.leader()
	if _, err := l.CreateType(ctx, strongType, []byte(`{"consistent":true}`)); err != nil {
		return fmt.Errorf("create the consistent type: %w", err)
	}
	if _, err := l.ActivateType(ctx, strongType); err != nil {
		return fmt.Errorf("activate the consistent type: %w", err)
	}
	if err := s.converge(ctx); err != nil {
		return fmt.Errorf("members did not learn the consistent type: %w", err)
	}
	s.trace.logf("setup: %d voters, type %s active everywhere", s.cfg.Members, strongType)
	return nil
}

// boot starts an incarnation of m on its stores.
func (s *strongSim) boot(m *member) error {
	host := s.net.Host(m.id)
	rc := rpc.DefaultConfig()
	rc.Logger = m.cfg.Logger
	inc := &incarnation{client: rpc.NewClient(rc, host), served: make(chan struct{})}
	g, err := group.Open(m.cfg, m.stores, host, inc.client)
	if err != nil {
		_ = inc.client.Close()
		return fmt.Errorf("open %s: %w", m.id, err)
	}
	inc.g = g
	ln, err := host.Listen(m.cfg.RPCAddr)
	if err != nil {
		_ = g.Close()
		_ = inc.client.Close()
		return fmt.Errorf("listen %s: %w", m.cfg.RPCAddr, err)
	}
	inc.srv = rpc.NewServer(rc, g.Handle)
	go func() {
		defer close(inc.served)
		_ = inc.srv.Serve(ln)
	}()
	m.mu.Lock()
	m.inc = inc
	m.mu.Unlock()
	// A restarted member neither bootstraps nor joins: it is in the
	// configuration its stores hold.
	m.cfg.Bootstrap, m.cfg.Join = false, nil
	return nil
}

// crash stops m's incarnation as a process death does: its connections
// are reset, it serves and sends nothing more. Its Raft stores, which
// fsync every write in production, keep everything.
func (s *strongSim) crash(m *member) {
	m.mu.Lock()
	inc := m.inc
	m.inc = nil
	m.mu.Unlock()
	if inc == nil {
		return
	}
	s.net.Reset(m.id)
	_ = inc.srv.Close()
	<-inc.served
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = inc.g.Close()
	}()
	select {
	case <-closed:
	case <-time.After(s.cfg.Settle):
		// A member that cannot stop leaves goroutines no reset can end,
		// and the run cannot finish: stop here, loudly, with the trace.
		panic(fmt.Sprintf("sim: strong seed %d: closing %s hung for %v of virtual time (Raft's Shutdown waits on a goroutine that cannot end)\n%s",
			s.cfg.Seed, m.id, s.cfg.Settle, strings.Join(s.trace.lines(), "\n")))
	}
	_ = inc.client.Close()
	// What the dying process dialled on its way down goes too.
	s.net.Reset(m.id)
}

// current is m's running group, nil when m is down.
func (m *member) current() *group.Group {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inc == nil {
		return nil
	}
	return m.inc.g
}

func (s *strongSim) up() []string {
	var ids []string
	for _, id := range s.ids {
		if s.mem[id].current() != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *strongSim) down() []string {
	var ids []string
	for _, id := range s.ids {
		if s.mem[id].current() == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// leader returns the running member that leads in the highest term, nil
// if none does. A leader cut off in a minority may still believe it leads
// until its lease runs out; the one of the higher term is the real one.
func (s *strongSim) leader() *group.Group {
	var best *group.Group
	for _, id := range s.ids {
		g := s.mem[id].current()
		if g == nil || g.Raft().State() != raft.Leader {
			continue
		}
		if best == nil || g.Raft().CurrentTerm() > best.Raft().CurrentTerm() {
			best = g
		}
	}
	return best
}

// waitFor checks cond every 10 ms of virtual time until it holds, for at
// most limit. Inside the bubble the wait costs no real time.
func (s *strongSim) waitFor(what string, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%s: not within %v of virtual time", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// converge waits until every running member has applied what the leader
// has applied after a barrier: then no committed entry is missing
// anywhere. It waits on the members' apply events, not on time.
func (s *strongSim) converge(ctx context.Context) error {
	var l *group.Group
	if err := s.waitFor("a leader", s.cfg.Settle, func() bool { l = s.leader(); return l != nil }); err != nil {
		return err
	}
	if err := l.Raft().Barrier(s.cfg.Settle).Error(); err != nil {
		return fmt.Errorf("barrier on leader %s: %w", l.ID(), err)
	}
	want := l.FSM().AppliedIndex()
	for _, id := range s.up() {
		g := s.mem[id].current()
		if err := g.FSM().WaitApplied(ctx, want); err != nil {
			return fmt.Errorf("%s did not apply index %d (it has %d): %w", id, want, g.FSM().AppliedIndex(), err)
		}
	}
	return nil
}

// run is the fault phase with the clients, then the heal and the final
// checks inside the bubble.
func (s *strongSim) run() {
	s.trace.logf("start: %d members, %d clients on %d keys, seed %d", s.cfg.Members, s.cfg.Clients, s.cfg.Keys, s.cfg.Seed)
	ctx, stopClients := context.WithCancel(context.Background())
	var clients sync.WaitGroup
	for c := range s.cfg.Clients {
		clients.Go(func() { s.client(ctx, c) })
	}
	s.faultStart = time.Now()
	faultEnd := s.faultStart.Add(s.cfg.FaultPhase)
	for {
		next := time.Now().Add(time.Duration(s.rng.ExpFloat64() * float64(s.cfg.FaultEvery)))
		if !next.Before(faultEnd) {
			time.Sleep(time.Until(faultEnd))
			break
		}
		time.Sleep(time.Until(next))
		s.injectFault()
	}
	stopClients()
	clients.Wait()
	s.healAll()
	s.finalReads()
	s.checkConvergence()
}

// shutdown stops every member and resets every connection, so that no
// goroutine of the run is left when the bubble ends.
func (s *strongSim) shutdown() {
	for _, id := range s.ids {
		s.crash(s.mem[id])
	}
	for _, id := range s.ids {
		s.net.Reset(id)
	}
}

func (s *strongSim) result() StrongResult {
	ops := s.hist.Operations()
	s.checkAlone(ops)
	s.mu.Lock()
	defer s.mu.Unlock()
	return StrongResult{
		Seed: s.cfg.Seed, Config: s.cfg, Ops: lincheck.Summarize(ops), FailedReads: s.failedReads,
		Schedule: s.schedule, Faults: s.faults, Trace: s.trace.lines(), History: lincheck.Tail(ops, s.cfg.Trace),
		Violations: append([]string(nil), s.violations...), Virtual: time.Since(s.start),
		ops: ops,
	}
}
