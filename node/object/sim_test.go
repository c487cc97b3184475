package object

import (
	"fmt"
	"slices"
	"time"

	"pgregory.net/rapid"
)

// sim is a model of replicas of one key: replica i is actor i and only it
// coordinates writes through that actor, so dots stay unique. Clients read
// contexts from replicas and write with them later, possibly stale.
type sim struct {
	t        *rapid.T
	actors   []Actor
	replicas []*Object
	reads    []read
	writes   map[string]write // by vtag
	now      time.Time
	lww      bool   // apply LWW after every update and sync
	relabels bool   // LWW may have run: contexts need not cover relabelled winners
	skew     bool   // timestamps may go backwards
	last     string // vtag of the latest write
}

type read struct {
	ctx  Context
	seen []string // vtags
}

type write struct {
	actor   Actor
	counter uint64
	ctx     Context
	content Content
}

func newSim(t *rapid.T, lww bool) *sim {
	n := rapid.IntRange(3, 5).Draw(t, "actors")
	s := &sim{
		t:        t,
		writes:   map[string]write{},
		now:      time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		lww:      lww,
		relabels: lww,
	}
	for i := range n {
		s.actors = append(s.actors, Actor(fmt.Sprintf("node%d/%d", i, i*16)))
		s.replicas = append(s.replicas, New())
	}
	return s
}

func vtags(o *Object) []string {
	var out []string
	for _, c := range o.Values() {
		out = append(out, c.VTag)
	}
	return out
}

func (s *sim) replica(label string) int {
	return rapid.IntRange(0, len(s.replicas)-1).Draw(s.t, label)
}

// covered reports whether ctx covers the dot of the write named vtag.
func (s *sim) covered(ctx Context, vtag string) bool {
	w, ok := s.writes[vtag]
	if !ok {
		s.t.Fatalf("unknown vtag %q", vtag)
	}
	return ctx.Counter(w.actor) >= w.counter
}

func (s *sim) doRead() {
	r := s.replica("read from")
	o := s.replicas[r]
	s.reads = append(s.reads, read{ctx: o.Context(), seen: vtags(o)})
}

// context draws the context of a write: blind, a fresh read of the
// coordinator, or any earlier (possibly stale) read.
func (s *sim) context(r int) read {
	switch k := rapid.IntRange(0, 2).Draw(s.t, "context kind"); {
	case k == 0:
		return read{}
	case k == 1 || len(s.reads) == 0:
		o := s.replicas[r]
		return read{ctx: o.Context(), seen: vtags(o)}
	default:
		return s.reads[rapid.IntRange(0, len(s.reads)-1).Draw(s.t, "read")]
	}
}

func (s *sim) content() Content {
	// Timestamps move forward mostly, sometimes jump back (clock skew) or
	// repeat, so LWW must break ties.
	lo := 1
	if s.skew {
		lo = -2
	}
	s.now = s.now.Add(time.Duration(rapid.IntRange(lo, 5).Draw(s.t, "tick")) * time.Millisecond)
	c := Content{
		Value:        []byte(fmt.Sprintf("v%d", len(s.writes))),
		ContentType:  "text/plain",
		LastModified: s.now,
		Deleted:      rapid.IntRange(0, 9).Draw(s.t, "delete") == 0,
	}
	if rapid.Bool().Draw(s.t, "meta") {
		c.Meta = map[string]string{"n": fmt.Sprint(len(s.writes))}
	}
	return c
}

// doWrite performs a write and checks that it superseded exactly what its
// context covered.
func (s *sim) doWrite() {
	r := s.replica("coordinator")
	rd := s.context(r)
	actor := s.actors[r]
	old := s.replicas[r]
	c := s.content()
	next := old.Update(rd.ctx, c, actor)

	counter := max(old.Context().Counter(actor), rd.ctx.Counter(actor)) + 1
	vtag := vtagFor(actor, counter, c.LastModified)
	got, ok := next.Sibling(vtag)
	if !ok {
		s.t.Fatalf("write %s:%d missing from %v", actor, counter, next)
	}
	c.VTag = vtag
	if !contentEqual(&got, &c) {
		s.t.Fatalf("stored %+v, wrote %+v", got, c)
	}
	s.writes[vtag] = write{actor: actor, counter: counter, ctx: rd.ctx, content: c}
	s.last = vtag

	want := []string{vtag}
	for _, v := range vtags(old) {
		if !s.covered(rd.ctx, v) {
			want = append(want, v)
		}
	}
	// LWW relabels its winner to its entry's newest dot (dvvset:lww), so a
	// context that saw the winner at its old dot no longer covers it; LWW
	// decides by timestamp anyway, so only plain histories check this.
	if !s.relabels {
		for _, v := range rd.seen {
			if slices.Contains(vtags(next), v) {
				s.t.Fatalf("write with a read's context kept %s that the read saw", v)
			}
		}
		assertSameSet(s.t, vtags(next), want)
	}
	if !next.Descends(old) {
		s.t.Fatalf("update %v does not descend %v", next, old)
	}
	if !next.Context().Descends(rd.ctx) {
		s.t.Fatalf("update context %v does not descend %v", next.Context(), rd.ctx)
	}
	if s.lww {
		next = next.LWW()
	}
	s.replicas[r] = next
	s.checkClockSize(next)
}

func (s *sim) doSync() {
	a, b := s.replica("sync to"), s.replica("sync from")
	m := Sync(s.replicas[a], s.replicas[b])
	if !m.Descends(s.replicas[a]) || !m.Descends(s.replicas[b]) {
		s.t.Fatalf("Sync(%v, %v) = %v descends not both", s.replicas[a], s.replicas[b], m)
	}
	if s.lww {
		m = m.LWW()
	}
	s.replicas[a] = m
	s.checkClockSize(m)
}

func (s *sim) checkClockSize(o *Object) {
	if n := o.Context().Len(); n > len(s.actors) {
		s.t.Fatalf("clock has %d entries for %d actors: %v", n, len(s.actors), o)
	}
	checkInvariants(s.t, o)
}

// run draws and applies n operations.
func (s *sim) run(n int) {
	for range n {
		switch rapid.IntRange(0, 3).Draw(s.t, "op") {
		case 0:
			s.doRead()
		case 1, 2:
			s.doWrite()
		case 3:
			s.doSync()
		}
	}
}

// converge lets the replicas gossip: some random one-way syncs, then two
// rounds around a ring in a drawn order, after which each has heard from
// all.
func (s *sim) converge() {
	n := len(s.replicas)
	step := func(dst, src int) {
		m := Sync(s.replicas[dst], s.replicas[src])
		if s.lww {
			m = m.LWW()
		}
		s.replicas[dst] = m
	}
	for range rapid.IntRange(0, 10).Draw(s.t, "gossip") {
		step(s.replica("gossip to"), s.replica("gossip from"))
	}
	order := rapid.Permutation(seq(n)).Draw(s.t, "order")
	for range 2 {
		for i := range n {
			step(order[(i+1)%n], order[i])
		}
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func assertSameSet(t interface{ Fatalf(string, ...any) }, got, want []string) {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Fatalf("siblings %v, want %v", g, w)
	}
}

// checkInvariants checks what Decode enforces and what the merge relies on.
func checkInvariants(t interface{ Fatalf(string, ...any) }, o *Object) {
	es := o.list()
	for i, e := range es {
		if e.actor == "" || (i > 0 && es[i-1].actor >= e.actor) {
			t.Fatalf("entries not sorted and distinct: %v", o)
		}
		if e.counter == 0 || uint64(len(e.values)) > e.counter {
			t.Fatalf("entry %s: counter %d with %d values", e.actor, e.counter, len(e.values))
		}
	}
}
