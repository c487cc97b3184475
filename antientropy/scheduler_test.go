package antientropy

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestScheduler(mod func(*Config)) (*Scheduler, Config) {
	cfg := DefaultLocalConfig()
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return NewScheduler(cfg, rand.New(rand.NewPCG(1, 2))), cfg
}

func ids(partition, n int) []ExchangeID {
	var out []ExchangeID
	for i := range n {
		out = append(out, ExchangeID{Partition: partition, Peer: fmt.Sprintf("n%d", i), PeerPartition: partition + 1, Primary: partition, N: 3})
	}
	return out
}

// startAll returns every exchange Next gives at now.
func startAll(s *Scheduler, now time.Time) []ExchangeID {
	var out []ExchangeID
	for id, ok := s.Next(now); ok; id, ok = s.Next(now) {
		out = append(out, id)
	}
	return out
}

func TestSetSpreadsFirstRuns(t *testing.T) {
	s, cfg := newTestScheduler(nil)
	s.Set(ids(0, 200), t0)
	var early int
	for id, p := range s.pairs {
		d := p.due.Sub(t0)
		if d < 0 || d >= cfg.ExchangeInterval {
			t.Fatalf("%v first due after %v, outside [0, %v)", id, d, cfg.ExchangeInterval)
		}
		if d < cfg.ExchangeInterval/4 {
			early++
		}
	}
	if early < 20 || early > 80 { // 50 expected of 200 uniform
		t.Fatalf("%d of 200 due in the first quarter: not spread", early)
	}
}

func TestExchangesWaitForTheTree(t *testing.T) {
	s, cfg := newTestScheduler(nil)
	s.Set(ids(0, 1), t0)
	later := t0.Add(cfg.ExchangeInterval)
	if _, ok := s.Next(later); ok {
		t.Fatal("exchange of an unbuilt partition started")
	}
	if _, ok := s.Wake(later); ok {
		t.Fatal("Wake for an unbuilt partition")
	}
	s.Built(0, t0, 10)
	if _, ok := s.Next(later); !ok {
		t.Fatal("built partition's exchange did not start")
	}
}

func TestNextRespectsMaxConcurrentAndOrder(t *testing.T) {
	s, cfg := newTestScheduler(func(c *Config) { c.MaxConcurrent = 2 })
	s.Set(ids(0, 5), t0)
	s.Built(0, t0, 0)
	now := t0.Add(cfg.ExchangeInterval)
	got := startAll(s, now)
	if len(got) != 2 || s.Running() != 2 {
		t.Fatalf("started %v, running %d; want 2", got, s.Running())
	}
	if s.pairs[got[0]].due.After(s.pairs[got[1]].due) {
		t.Fatal("less overdue candidate started first")
	}
	for _, p := range s.pairs {
		if !p.running && p.due.Before(s.pairs[got[1]].due) {
			t.Fatal("a more overdue candidate was passed over")
		}
	}
	if _, ok := s.Wake(now); ok {
		t.Fatal("Wake at capacity")
	}
	s.Done(got[0], now, Result{})
	if more := startAll(s, now); len(more) != 1 {
		t.Fatalf("after Done started %v, want one", more)
	}
	s.Done(got[0], now, Result{}) // not running: ignored
	if s.Running() != 2 {
		t.Fatalf("running %d after a stray Done", s.Running())
	}
}

func TestDoneReschedulesWithJitter(t *testing.T) {
	s, cfg := newTestScheduler(func(c *Config) { c.MaxConcurrent = 100 })
	s.Set(ids(0, 100), t0)
	s.Built(0, t0, 0)
	now := t0.Add(cfg.ExchangeInterval)
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for round := range 10 {
		for _, id := range startAll(s, now) {
			s.Done(id, now, Result{})
			d := s.pairs[id].due.Sub(now)
			if d < cfg.ExchangeInterval-cfg.ExchangeJitter || d > cfg.ExchangeInterval+cfg.ExchangeJitter {
				t.Fatalf("round %d: next due in %v, outside %v±%v", round, d, cfg.ExchangeInterval, cfg.ExchangeJitter)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		now = now.Add(cfg.ExchangeInterval + cfg.ExchangeJitter)
	}
	if lo >= cfg.ExchangeInterval-cfg.ExchangeJitter/2 || hi <= cfg.ExchangeInterval+cfg.ExchangeJitter/2 {
		t.Fatalf("jitter not spread: [%v, %v]", lo, hi)
	}
}

func TestWindowAndEnabled(t *testing.T) {
	s, _ := newTestScheduler(nil)
	w, _ := ParseWindow("01:00-05:00")
	s.SetWindow(w)
	s.Set(ids(0, 1), t0) // t0 is 12:00: outside
	s.Built(0, t0, 0)
	now := t0.Add(time.Hour)
	if _, ok := s.Next(now); ok {
		t.Fatal("started outside the window")
	}
	wake, ok := s.Wake(now)
	opening := time.Date(2024, 3, 2, 1, 0, 0, 0, time.UTC)
	if !ok || !wake.Equal(opening) {
		t.Fatalf("Wake = %v, %v; want %v", wake, ok, opening)
	}
	s.SetEnabled(false)
	if s.Enabled() {
		t.Fatal("Enabled after SetEnabled(false)")
	}
	if _, ok := s.Next(opening); ok {
		t.Fatal("started while disabled")
	}
	if _, ok := s.Wake(opening); ok {
		t.Fatal("Wake while disabled")
	}
	if _, ok := s.NextRebuild(opening.Add(365 * 24 * time.Hour)); ok {
		t.Fatal("rebuild while disabled")
	}
	s.SetEnabled(true)
	if _, ok := s.Next(opening); !ok {
		t.Fatal("did not start at the window's opening")
	}
	if s.Window() != w {
		t.Fatal("Window()")
	}
}

func TestWakeIsEarliestDue(t *testing.T) {
	s, cfg := newTestScheduler(nil)
	if _, ok := s.Wake(t0); ok {
		t.Fatal("Wake with no candidates")
	}
	s.Set(ids(0, 10), t0)
	s.Built(0, t0, 0)
	wake, ok := s.Wake(t0)
	if !ok {
		t.Fatal("no Wake")
	}
	for _, p := range s.pairs {
		if p.due.Before(wake) {
			t.Fatalf("a candidate is due at %v, before Wake %v", p.due, wake)
		}
	}
	if _, ok := s.Next(wake.Add(-time.Nanosecond)); ok {
		t.Fatal("Next before Wake")
	}
	if _, ok := s.Next(wake); !ok {
		t.Fatal("nothing at Wake")
	}
	if got, _ := s.Wake(t0.Add(2 * cfg.ExchangeInterval)); !got.Equal(t0.Add(2 * cfg.ExchangeInterval)) {
		t.Fatalf("overdue: Wake = %v, want now", got)
	}
}

func TestSetRemovesAndKeeps(t *testing.T) {
	s, cfg := newTestScheduler(func(c *Config) { c.MaxConcurrent = 10 })
	all := ids(0, 3)
	s.Set(all, t0)
	s.Built(0, t0, 0)
	now := t0.Add(cfg.ExchangeInterval)
	running, _ := s.Next(now)
	s.Done(running, now, Result{Repaired: 4})
	due := s.pairs[running].due
	running, _ = s.Next(now) // another one, left running

	s.Set(nil, now)
	if len(s.pairs) != 1 || !s.pairs[running].dropped {
		t.Fatalf("after Set(nil): %d pairs kept; want only the running one, dropped", len(s.pairs))
	}
	if st := s.Status(now); len(st.Partitions[0].Exchanges) != 0 {
		t.Fatalf("dropped exchanges in status: %+v", st.Partitions[0].Exchanges)
	}
	s.Done(running, now, Result{})
	if len(s.pairs) != 0 || s.Running() != 0 {
		t.Fatal("dropped exchange not forgotten when it ended")
	}

	// A kept candidate keeps its due time and history.
	s2, _ := newTestScheduler(nil)
	s2.Set(all, t0)
	s2.Built(0, t0, 0)
	id, _ := s2.Next(now)
	s2.Done(id, now, Result{Repaired: 4})
	due = s2.pairs[id].due
	s2.Set(all[:1:1], now.Add(time.Second))
	s2.Set(all, now.Add(2*time.Second))
	if id == all[0] && (!s2.pairs[id].due.Equal(due) || s2.pairs[id].lastRepaired != 4) {
		t.Fatal("kept candidate lost its due time or history")
	}
	if id != all[0] && s2.pairs[id].lastRepaired != 0 {
		t.Fatal("re-added candidate kept its history")
	}
}

func TestRebuildsOneAtATime(t *testing.T) {
	// No rebuild jitter, so that the order of periodic rebuilds is known.
	s, cfg := newTestScheduler(func(c *Config) { c.RebuildJitter = 0 })
	s.Set(append(ids(2, 1), ids(1, 1)...), t0)
	p, ok := s.NextRebuild(t0)
	if !ok || p != 1 {
		t.Fatalf("first rebuild %d, %v; want 1 (never built, lowest)", p, ok)
	}
	if _, ok := s.NextRebuild(t0); ok {
		t.Fatal("second rebuild while one runs")
	}
	if _, ok := s.RebuildWake(t0); ok {
		t.Fatal("RebuildWake while one runs")
	}
	s.Built(1, t0.Add(time.Minute), 100)
	if p, ok := s.NextRebuild(t0.Add(time.Minute)); !ok || p != 2 {
		t.Fatalf("next rebuild %d, %v; want 2", p, ok)
	}
	s.RebuildFailed(2, t0.Add(2*time.Minute))
	wake, ok := s.RebuildWake(t0.Add(2 * time.Minute))
	if retry := wake.Sub(t0.Add(2 * time.Minute)); !ok || retry < cfg.ExchangeInterval-cfg.ExchangeJitter || retry > cfg.ExchangeInterval+cfg.ExchangeJitter {
		t.Fatalf("failed rebuild retried in %v, %v", retry, ok)
	}
	if p, ok := s.NextRebuild(wake); !ok || p != 2 {
		t.Fatalf("retry %d, %v", p, ok)
	}
	s.Built(2, wake, 50)
	if _, ok := s.NextRebuild(wake); ok {
		t.Fatal("rebuild before its interval")
	}
	wake, _ = s.RebuildWake(wake)
	if !wake.Equal(t0.Add(time.Minute + cfg.RebuildInterval)) {
		t.Fatalf("next rebuild at %v, want RebuildInterval after partition 1's", wake)
	}
	if p, ok := s.NextRebuild(wake); !ok || p != 1 {
		t.Fatalf("periodic rebuild %d, %v; want 1", p, ok)
	}
	s.Forget(1) // ends the running rebuild and forgets the partition
	if st := s.Status(wake); len(st.Partitions) != 1 || st.Partitions[0].Partition != 2 {
		t.Fatalf("after Forget: %+v", st.Partitions)
	}
	if _, ok := s.RebuildWake(wake); !ok {
		t.Fatal("Forget left the rebuild running")
	}
}

func TestStatusAggregates(t *testing.T) {
	s, cfg := newTestScheduler(func(c *Config) { c.MaxConcurrent = 1 })
	w, _ := ParseWindow("22:00-04:00")
	s.SetWindow(w)
	x := []ExchangeID{
		{Partition: 5, Peer: "b", PeerPartition: 6, Primary: 4, N: 3},
		{Partition: 5, Peer: "a", PeerPartition: 7, Primary: 5, N: 3},
		{Partition: 5, Peer: "a", PeerPartition: 6, Primary: 5, N: 3},
		{Partition: 1, Peer: "c", PeerPartition: 2, Primary: 1, N: 3},
	}
	s.Set(x, t0)
	s.Built(5, t0, 1234)
	s.SetWindow(Window{})
	now := t0.Add(cfg.ExchangeInterval)
	results := []Result{
		{Repaired: 3, KeysCompared: 10, Bytes: 100},
		{Repaired: 0, KeysCompared: 5, Bytes: 50},
		{Repaired: 9, KeysCompared: 20, Bytes: 900},
		{Repaired: 1, KeysCompared: 2, Bytes: 10, Err: errors.New("boom")},
	}
	var last ExchangeID
	for _, r := range results {
		id, ok := s.Next(now)
		if !ok {
			t.Fatal("nothing to run")
		}
		s.Done(id, now, r)
		last = id
		now = now.Add(cfg.ExchangeInterval + cfg.ExchangeJitter)
	}
	s.SetWindow(w)
	st := s.Status(now)
	if st.Node != "" || !st.Enabled || st.Window != "22:00-04:00" || !st.Now.Equal(now) || st.Running != 0 {
		t.Fatalf("header: %+v", st)
	}
	if st.Exchanges != 4 || st.KeysCompared != 37 || st.KeysRepaired != 13 || st.Bytes != 1060 {
		t.Fatalf("totals: %d exchanges, %d compared, %d repaired, %d bytes", st.Exchanges, st.KeysCompared, st.KeysRepaired, st.Bytes)
	}
	if len(st.Partitions) != 2 || st.Partitions[0].Partition != 1 || st.Partitions[1].Partition != 5 {
		t.Fatalf("partitions: %+v", st.Partitions)
	}
	p1, p5 := st.Partitions[0], st.Partitions[1]
	if !p1.TreeBuilt.IsZero() || len(p1.Exchanges) != 1 || !p1.Exchanges[0].Last.IsZero() {
		t.Fatalf("unbuilt partition 1: %+v", p1)
	}
	if !p5.TreeBuilt.Equal(t0) || p5.Keys != 1234 {
		t.Fatalf("partition 5 tree: %v, %d keys", p5.TreeBuilt, p5.Keys)
	}
	want := RepairStats{Last: 9, Mean: 4, Max: 9, Total: 12, Exchanges: 3}
	if p5.Repaired != want {
		t.Fatalf("repaired %+v, want %+v (failed exchanges not counted)", p5.Repaired, want)
	}
	var order []string
	for _, e := range p5.Exchanges {
		order = append(order, fmt.Sprintf("%s/%d/%d", e.Peer, e.PeerPartition, e.Primary))
		if e.Peer == last.Peer && e.PeerPartition == last.PeerPartition && (e.LastError != "boom" || e.LastRepaired != 1) {
			t.Fatalf("last exchange status %+v", e)
		}
	}
	if fmt.Sprint(order) != "[a/6/5 a/7/5 b/6/4]" {
		t.Fatalf("exchange order %v", order)
	}
}

func TestRebuildJitterBounds(t *testing.T) {
	s, cfg := newTestScheduler(nil)
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for p := range 200 {
		s.Built(p, t0, 0)
		d := s.parts[p].rebuildDue.Sub(t0)
		if d < cfg.RebuildInterval-cfg.RebuildJitter || d > cfg.RebuildInterval+cfg.RebuildJitter {
			t.Fatalf("rebuild due in %v, outside %v±%v", d, cfg.RebuildInterval, cfg.RebuildJitter)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo >= cfg.RebuildInterval-cfg.RebuildJitter/2 || hi <= cfg.RebuildInterval+cfg.RebuildJitter/2 {
		t.Fatalf("rebuild jitter not spread: [%v, %v]", lo, hi)
	}
}
