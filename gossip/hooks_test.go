package gossip

import (
	"net"
	"slices"
	"testing"

	"github.com/hashicorp/memberlist"
)

// TestViewTransitions drives the memberlist callbacks by hand, in the
// orders memberlist can produce, and checks the events and the view.
func TestViewTransitions(t *testing.T) {
	rec := newRecorder()
	g := &Gossip{
		logger:  discardLogger(),
		events:  newEventQueue(rec, discardLogger()),
		members: make(map[string]*member),
	}
	defer g.events.close()
	h := hooks{g: g}

	meta1 := testMeta("b")
	meta2 := meta1
	meta2.RingEpoch = 2
	node := func(meta Meta, leaving bool) *memberlist.Node {
		b, err := encodeMeta(meta, leaving)
		if err != nil {
			t.Fatal(err)
		}
		return &memberlist.Node{Name: "b", Addr: net.IPv4(10, 0, 0, 2), Port: 7946, Meta: b}
	}
	ev := func(k State, updated bool, meta Meta) Event {
		return Event{Kind: k, Updated: updated, Node: "b", Meta: meta}
	}

	steps := []struct {
		name  string
		do    func()
		event *Event // nil: none
		state State
	}{
		{"join", func() { h.NotifyJoin(node(meta1, false)) }, &Event{Kind: Alive, Node: "b", Meta: meta1}, Alive},
		{"ack while alive", func() { h.NotifyPingComplete(node(meta1, false), 0, nil) }, nil, Alive},
		{"probe fails", func() { g.suspected("b") }, ptr(ev(Suspect, false, meta1)), Suspect},
		{"probe fails again", func() { g.suspected("b") }, nil, Suspect},
		{"probe answered", func() { h.NotifyPingComplete(node(meta1, false), 0, nil) }, ptr(ev(Alive, false, meta1)), Alive},
		{"new epoch", func() { h.NotifyUpdate(node(meta2, false)) }, ptr(ev(Alive, true, meta2)), Alive},
		{"suspect again", func() { g.suspected("b") }, ptr(ev(Suspect, false, meta2)), Suspect},
		{"refutes with new meta", func() { h.NotifyUpdate(node(meta1, false)) }, ptr(ev(Alive, true, meta1)), Alive},
		{"suspect once more", func() { g.suspected("b") }, ptr(ev(Suspect, false, meta1)), Suspect},
		{"dies", func() { h.NotifyLeave(node(meta1, false)) }, ptr(ev(Dead, false, meta1)), Dead},
		{"late probe failure", func() { g.suspected("b") }, nil, Dead},
		{"late ack", func() { h.NotifyPingComplete(node(meta1, false), 0, nil) }, nil, Dead},
		{"returns", func() { h.NotifyJoin(node(meta2, false)) }, ptr(ev(Alive, false, meta2)), Alive},
		{"announces leaving", func() { h.NotifyUpdate(node(meta2, true)) }, nil, Alive},
		{"leaves", func() { h.NotifyLeave(node(meta2, true)) }, ptr(ev(Left, false, meta2)), Left},
		{"comes back", func() { h.NotifyJoin(node(meta1, false)) }, ptr(ev(Alive, false, meta1)), Alive},
	}
	var want []Event
	for _, s := range steps {
		s.do()
		if s.event != nil {
			want = append(want, *s.event)
		}
		rec.wait(t, 0, s.name, func(got []Event) bool { return len(got) >= len(want) })
		if got := rec.all(); !slices.Equal(got, want) {
			t.Fatalf("after %s: events %v, want %v", s.name, got, want)
		}
		m := memberOf(t, g, "b")
		if m.State != s.state || m.Addr != "10.0.0.2:7946" {
			t.Fatalf("after %s: member %+v, want state %v at 10.0.0.2:7946", s.name, m, s.state)
		}
		if up := g.Up("b"); up != (s.state == Alive || s.state == Suspect) {
			t.Fatalf("after %s: Up = %v in state %v", s.name, up, s.state)
		}
	}

	// Nodes memberlist never reported are neither suspected nor listed.
	g.suspected("x")
	h.NotifyPingComplete(&memberlist.Node{Name: "x"}, 0, nil)
	if ms := g.Members(); len(ms) != 1 {
		t.Fatalf("Members() = %v, want only b", ms)
	}

	// Once closed, nothing changes.
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	h.NotifyLeave(node(meta1, false))
	if m := memberOf(t, g, "b"); m.State != Alive {
		t.Fatalf("closed Gossip changed state to %v", m.State)
	}
}

// TestUnreadableMeta: a member whose metadata does not decode is still
// tracked, with the zero Meta.
func TestUnreadableMeta(t *testing.T) {
	rec := newRecorder()
	g := &Gossip{logger: discardLogger(), events: newEventQueue(rec, discardLogger()), members: make(map[string]*member)}
	defer g.events.close()
	hooks{g: g}.NotifyJoin(&memberlist.Node{Name: "odd", Addr: net.IPv4(10, 0, 0, 9), Port: 1, Meta: []byte{0xc1}})
	rec.wait(t, 0, "odd alive", func(got []Event) bool { return len(got) == 1 })
	if e := rec.all()[0]; e != (Event{Kind: Alive, Node: "odd"}) {
		t.Fatalf("event %+v", e)
	}
}

func ptr[T any](v T) *T { return &v }

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Alive: "alive", Suspect: "suspect", Dead: "dead", Left: "left", State(9): "state(9)"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}
