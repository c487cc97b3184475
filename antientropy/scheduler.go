package antientropy

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// ExchangeID names one exchange pair: local vnode Partition compares its
// tree (Primary, N) with vnode PeerPartition on node Peer.
type ExchangeID struct {
	Partition     int
	Peer          string
	PeerPartition int
	Primary       int
	N             int
}

func compareIDs(a, b ExchangeID) int {
	return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Peer, b.Peer),
		cmp.Compare(a.PeerPartition, b.PeerPartition), cmp.Compare(a.Primary, b.Primary), cmp.Compare(a.N, b.N))
}

// Result is what one exchange achieved.
type Result struct {
	Repaired     int
	KeysCompared int
	Bytes        int
	Err          error
}

// Scheduler decides when each exchange pair runs and when each local
// vnode's trees are rebuilt. It is a step-driven core: it does no I/O and
// reads no clock; the node tells it the candidates and the time, starts
// what Next and NextRebuild return, and reports back with Done and Built.
// It is safe for concurrent use.
//
// Exchanges of a partition wait until its trees were built once (Built):
// comparing an empty tree would make every key look missing.
type Scheduler struct {
	mu      sync.Mutex
	cfg     Config
	rnd     *rand.Rand
	enabled bool
	window  Window
	pairs   map[ExchangeID]*pairState
	parts   map[int]*partState
	running int

	rebuilding   int
	rebuildBusy  bool
	exchanges    uint64
	keysCompared uint64
	keysRepaired uint64
	bytes        uint64
}

type pairState struct {
	due          time.Time
	running      bool
	dropped      bool // no longer a candidate; forgotten when it ends
	last         time.Time
	lastRepaired int
	lastErr      string
}

type partState struct {
	built      time.Time // zero: never built
	keys       int64
	rebuildDue time.Time // zero: due at once
	repaired   RepairStats
}

// NewScheduler returns a scheduler with no candidates. cfg must be valid;
// rnd spreads due times (tests pass a seeded one).
func NewScheduler(cfg Config, rnd *rand.Rand) *Scheduler {
	return &Scheduler{
		cfg:     cfg,
		rnd:     rnd,
		enabled: cfg.Enabled,
		window:  cfg.Window,
		pairs:   map[ExchangeID]*pairState{},
		parts:   map[int]*partState{},
	}
}

// Set replaces the exchange candidates. New ones are first due at a
// uniform random time in [now, now+ExchangeInterval), so that a starting
// node does not run all its exchanges at once. Kept ones keep their due
// time and history. Dropped ones are forgotten, running ones when they
// end. The partitions named become known for rebuilds.
func (s *Scheduler) Set(ids []ExchangeID, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := make(map[ExchangeID]bool, len(ids))
	for _, id := range ids {
		want[id] = true
		s.part(id.Partition)
		if p, ok := s.pairs[id]; ok {
			p.dropped = false
			continue
		}
		s.pairs[id] = &pairState{due: now.Add(time.Duration(s.rnd.Int64N(int64(s.cfg.ExchangeInterval))))}
	}
	for id, p := range s.pairs {
		if !want[id] {
			s.drop(id, p)
		}
	}
}

func (s *Scheduler) part(partition int) *partState {
	ps, ok := s.parts[partition]
	if !ok {
		ps = &partState{}
		s.parts[partition] = ps
	}
	return ps
}

func (s *Scheduler) drop(id ExchangeID, p *pairState) {
	if p.running {
		p.dropped = true
	} else {
		delete(s.pairs, id)
	}
}

// Next returns the most overdue candidate that may start now and marks it
// running: it must be due, not running, its partition built; the
// scheduler enabled, now inside the window and fewer than MaxConcurrent
// running.
func (s *Scheduler) Next(now time.Time) (ExchangeID, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled || !s.window.Contains(now) || s.running >= s.cfg.MaxConcurrent {
		return ExchangeID{}, false
	}
	id, p, ok := s.earliest()
	if !ok || p.due.After(now) {
		return ExchangeID{}, false
	}
	p.running = true
	s.running++
	return id, true
}

// earliest returns the startable candidate due first, ties broken by id so
// that the choice does not depend on map order.
func (s *Scheduler) earliest() (ExchangeID, *pairState, bool) {
	var best ExchangeID
	var bp *pairState
	for id, p := range s.pairs {
		if p.running || p.dropped {
			continue
		}
		if ps := s.parts[id.Partition]; ps == nil || ps.built.IsZero() {
			continue
		}
		if bp == nil || p.due.Before(bp.due) || p.due.Equal(bp.due) && compareIDs(id, best) < 0 {
			best, bp = id, p
		}
	}
	return best, bp, bp != nil
}

// Done records the end of an exchange Next returned. Its next run is due
// at now + ExchangeInterval ± ExchangeJitter. Repair statistics count
// successful exchanges only; the totals count all.
func (s *Scheduler) Done(id ExchangeID, now time.Time, r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pairs[id]
	if !ok || !p.running {
		return // not started by Next: nothing to end
	}
	p.running = false
	s.running--
	s.exchanges++
	s.keysCompared += uint64(r.KeysCompared)
	s.keysRepaired += uint64(r.Repaired)
	s.bytes += uint64(r.Bytes)
	p.last, p.lastRepaired, p.lastErr = now, r.Repaired, ""
	if r.Err != nil {
		p.lastErr = r.Err.Error()
	} else if ps, ok := s.parts[id.Partition]; ok {
		rs := &ps.repaired
		rs.Last = r.Repaired
		rs.Max = max(rs.Max, r.Repaired)
		rs.Total += uint64(r.Repaired)
		rs.Exchanges++
		rs.Mean = float64(rs.Total) / float64(rs.Exchanges)
	}
	p.due = s.jittered(now, s.cfg.ExchangeInterval, s.cfg.ExchangeJitter)
	if p.dropped {
		delete(s.pairs, id)
	}
}

// jittered returns now + interval + a uniform random in [-jitter, +jitter].
func (s *Scheduler) jittered(now time.Time, interval, jitter time.Duration) time.Time {
	if jitter > 0 {
		interval += time.Duration(s.rnd.Int64N(2*int64(jitter)+1)) - jitter
	}
	return now.Add(interval)
}

// Wake returns when Next could next return a candidate, never before now:
// the earliest due time, moved to the window's next opening. It returns
// false when nothing could start without another call first: disabled, no
// startable candidate, or MaxConcurrent running (Done changes that).
func (s *Scheduler) Wake(now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled || s.running >= s.cfg.MaxConcurrent {
		return time.Time{}, false
	}
	_, p, ok := s.earliest()
	if !ok {
		return time.Time{}, false
	}
	return s.window.Next(latest(p.due, now)), true
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// SetEnabled turns anti-entropy on or off. Running exchanges and a running
// rebuild finish; nothing new starts while off.
func (s *Scheduler) SetEnabled(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enabled = on
}

// Enabled reports whether anti-entropy is on.
func (s *Scheduler) Enabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enabled
}

// SetWindow changes when exchanges may start.
func (s *Scheduler) SetWindow(w Window) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.window = w
}

// Window returns when exchanges may start.
func (s *Scheduler) Window() Window {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.window
}

// Running returns the number of exchanges running.
func (s *Scheduler) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Built records that partition's trees were built or verified from its
// data at 'at' and hold keys entries; it ends the partition's running
// rebuild, if any. The next rebuild is due at at + RebuildInterval ±
// RebuildJitter. A node that loads saved trees at start calls it with the
// time they were built.
func (s *Scheduler) Built(partition int, at time.Time, keys int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.part(partition)
	ps.built, ps.keys = at, keys
	ps.rebuildDue = s.jittered(at, s.cfg.RebuildInterval, s.cfg.RebuildJitter)
	s.endRebuild(partition)
}

// RebuildFailed ends partition's running rebuild without a result (the
// scan failed or was cancelled). It is retried after ExchangeInterval ±
// ExchangeJitter: soon, as exchanges of a never-built partition wait for
// it, but not in a tight loop.
func (s *Scheduler) RebuildFailed(partition int, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps, ok := s.parts[partition]; ok {
		ps.rebuildDue = s.jittered(now, s.cfg.ExchangeInterval, s.cfg.ExchangeJitter)
	}
	s.endRebuild(partition)
}

func (s *Scheduler) endRebuild(partition int) {
	if s.rebuildBusy && s.rebuilding == partition {
		s.rebuildBusy = false
	}
}

// Forget drops everything about a partition that left this node: its tree
// state, repair statistics, rebuild (a running one ends) and exchange
// candidates (running ones are forgotten when they end).
func (s *Scheduler) Forget(partition int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.parts, partition)
	for id, p := range s.pairs {
		if id.Partition == partition {
			s.drop(id, p)
		}
	}
	s.endRebuild(partition)
}

// NextRebuild returns the partition whose rebuild is most overdue, never
// built ones first, and marks it running; one rebuild runs at a time per
// node. Rebuilds respect Enabled but not the window: a scan is rate
// limited, and a tree must be built before its exchanges can start.
func (s *Scheduler) NextRebuild(now time.Time) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled || s.rebuildBusy {
		return 0, false
	}
	p, due, ok := s.earliestRebuild()
	if !ok || due.After(now) {
		return 0, false
	}
	s.rebuilding, s.rebuildBusy = p, true
	return p, true
}

func (s *Scheduler) earliestRebuild() (int, time.Time, bool) {
	best, found := 0, false
	var due time.Time
	for p, ps := range s.parts {
		if !found || ps.rebuildDue.Before(due) || ps.rebuildDue.Equal(due) && p < best {
			best, due, found = p, ps.rebuildDue, true
		}
	}
	return best, due, found
}

// RebuildWake returns when NextRebuild could next return a partition,
// never before now; false when disabled, a rebuild runs or no partition is
// known.
func (s *Scheduler) RebuildWake(now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled || s.rebuildBusy {
		return time.Time{}, false
	}
	_, due, ok := s.earliestRebuild()
	if !ok {
		return time.Time{}, false
	}
	return latest(due, now), true
}

// Status returns the scheduler's view for operators; the node fills in
// Status.Node. Partitions are sorted by number, each one's exchanges by
// (Peer, PeerPartition, Primary, N).
func (s *Scheduler) Status(now time.Time) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Enabled:      s.enabled,
		Window:       s.window.String(),
		Now:          now,
		Running:      s.running,
		Exchanges:    s.exchanges,
		KeysCompared: s.keysCompared,
		KeysRepaired: s.keysRepaired,
		Bytes:        s.bytes,
		Partitions:   make([]PartitionStatus, 0, len(s.parts)),
	}
	peers := map[int][]PeerStatus{}
	ids := make([]ExchangeID, 0, len(s.pairs))
	for id, p := range s.pairs {
		if !p.dropped {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, compareIDs) // Partition first, then the order Status wants
	for _, id := range ids {
		p := s.pairs[id]
		peers[id.Partition] = append(peers[id.Partition], PeerStatus{
			Peer: id.Peer, PeerPartition: id.PeerPartition, Primary: id.Primary, N: id.N,
			Last: p.last, LastRepaired: p.lastRepaired, LastError: p.lastErr,
		})
	}
	for p, ps := range s.parts {
		ex := peers[p]
		if ex == nil {
			ex = []PeerStatus{}
		}
		st.Partitions = append(st.Partitions, PartitionStatus{
			Partition: p, TreeBuilt: ps.built, Keys: ps.keys, Exchanges: ex, Repaired: ps.repaired,
		})
	}
	slices.SortFunc(st.Partitions, func(a, b PartitionStatus) int { return cmp.Compare(a.Partition, b.Partition) })
	return st
}
