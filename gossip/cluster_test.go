package gossip

import (
	"errors"
	"testing"
)

func TestJoinSeesMembersWithMeta(t *testing.T) {
	c := newCluster(t)
	c.startJoined("a", "b", "c")

	for _, obs := range []string{"a", "b", "c"} {
		g := c.nodes[obs].g
		members := g.Members()
		if len(members) != 3 {
			t.Fatalf("%s: Members() = %v, want a, b and c", obs, members)
		}
		for i, want := range []string{"a", "b", "c"} {
			m := members[i]
			if m.Node != want || m.State != Alive || m.Meta != testMeta(want) {
				t.Errorf("%s: member %d = %+v, want %s alive with %+v", obs, i, m, want, testMeta(want))
			}
			if m.Addr != c.nodes[want].g.Addr() {
				t.Errorf("%s: %s's Addr = %q, want %q", obs, want, m.Addr, c.nodes[want].g.Addr())
			}
			if !g.Up(want) {
				t.Errorf("%s: Up(%s) = false", obs, want)
			}
		}
		// Alive events carry the member's Meta.
		for _, e := range c.nodes[obs].rec.all() {
			if e.Kind == Alive && e.Meta != testMeta(e.Node) {
				t.Errorf("%s: event %v has Meta %+v, want %+v", obs, e, e.Meta, testMeta(e.Node))
			}
		}
	}
	if !c.nodes["a"].g.Up("never-heard-of") {
		t.Error("Up(unknown node) = false, want true")
	}
}

func TestRingEpochPropagates(t *testing.T) {
	c := newCluster(t)
	c.startJoined("a", "b", "c")
	marks := map[string]int{"a": c.nodes["a"].rec.mark(), "c": c.nodes["c"].rec.mark()}

	if err := c.nodes["b"].g.SetRingEpoch(7); err != nil {
		t.Fatalf("SetRingEpoch: %v", err)
	}
	want := testMeta("b")
	want.RingEpoch = 7
	for _, obs := range []string{"a", "c"} {
		got := c.nodes[obs].rec.waitSeq(t, marks[obs], "b", Alive)
		if !got[0].Updated || got[0].Meta != want {
			t.Errorf("%s: got %+v, want an Updated Alive event with %+v", obs, got[0], want)
		}
		for _, m := range c.nodes[obs].g.Members() {
			if m.Node == "b" && m.Meta != want {
				t.Errorf("%s: Members() has b with %+v, want %+v", obs, m.Meta, want)
			}
		}
	}

	// Setting the same epoch again changes nothing and broadcasts nothing.
	if err := c.nodes["b"].g.SetRingEpoch(7); err != nil {
		t.Fatalf("SetRingEpoch again: %v", err)
	}
	big := testMeta("b")
	big.HTTPAddr = string(make([]byte, 600))
	if err := c.nodes["b"].g.SetMeta(big); !errors.Is(err, ErrMetaTooLarge) {
		t.Errorf("SetMeta(600-byte address) = %v, want ErrMetaTooLarge", err)
	}
}

func TestCrashedNodeTurnsSuspectThenDeadAndReturns(t *testing.T) {
	c := newCluster(t)
	c.startJoined("a", "b", "c")
	marks := map[string]int{"a": c.nodes["a"].rec.mark(), "b": c.nodes["b"].rec.mark()}

	c.crash("c")
	for _, obs := range []string{"a", "b"} {
		got := c.nodes[obs].rec.waitSeq(t, marks[obs], "c", Suspect, Dead)
		for _, e := range got {
			if e.Meta != testMeta("c") {
				t.Errorf("%s: %v carries %+v, want c's last Meta", obs, e, e.Meta)
			}
		}
		g := c.nodes[obs].g
		if g.Up("c") {
			t.Errorf("%s: Up(c) = true after c died", obs)
		}
		if !g.Up("a") || !g.Up("b") {
			t.Errorf("%s: a or b not up", obs)
		}
		if m := memberOf(t, g, "c"); m.State != Dead {
			t.Errorf("%s: Members() has c %v, want dead", obs, m.State)
		}
		marks[obs] = c.nodes[obs].rec.mark()
	}

	// c comes back under the same name, with a new epoch.
	n := c.start("c")
	if _, err := n.g.Join([]string{c.nodes["a"].g.Addr()}); err != nil {
		t.Fatalf("c: rejoin: %v", err)
	}
	want := testMeta("c")
	for _, obs := range []string{"a", "b"} {
		got := c.nodes[obs].rec.waitSeq(t, marks[obs], "c", Alive)
		if got[0].Meta != want {
			t.Errorf("%s: c back with %+v, want %+v", obs, got[0].Meta, want)
		}
		if !c.nodes[obs].g.Up("c") {
			t.Errorf("%s: Up(c) = false after c returned", obs)
		}
	}
}

func TestLeaveIsLeft(t *testing.T) {
	c := newCluster(t)
	c.startJoined("a", "b", "c")
	marks := map[string]int{}
	for _, n := range []string{"a", "b", "c"} {
		marks[n] = c.nodes[n].rec.mark()
	}

	leaver := c.nodes["c"].g
	if err := leaver.Leave(0); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	for _, obs := range []string{"a", "b", "c"} {
		got := c.nodes[obs].rec.waitSeq(t, marks[obs], "c", Left)
		if got[0].Meta != testMeta("c") {
			t.Errorf("%s: Left event carries %+v, want c's Meta", obs, got[0].Meta)
		}
		if c.nodes[obs].g.Up("c") {
			t.Errorf("%s: Up(c) = true after c left", obs)
		}
	}
	if err := leaver.Leave(0); err != nil {
		t.Errorf("second Leave: %v", err)
	}
	if err := leaver.SetRingEpoch(9); !errors.Is(err, ErrLeft) {
		t.Errorf("SetRingEpoch after Leave = %v, want ErrLeft", err)
	}
	if err := leaver.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := leaver.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := leaver.Leave(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Close = %v, want ErrClosed", err)
	}
	if err := leaver.SetRingEpoch(9); !errors.Is(err, ErrClosed) {
		t.Errorf("SetRingEpoch after Close = %v, want ErrClosed", err)
	}
	if _, err := leaver.Join([]string{c.nodes["a"].g.Addr()}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Close = %v, want ErrClosed", err)
	}

	// A left node may come back.
	marks["a"] = c.nodes["a"].rec.mark()
	n := c.start("c")
	if _, err := n.g.Join([]string{c.nodes["b"].g.Addr()}); err != nil {
		t.Fatalf("c: rejoin: %v", err)
	}
	c.nodes["a"].rec.waitSeq(t, marks["a"], "c", Alive)
	if !c.nodes["a"].g.Up("c") {
		t.Error("a: Up(c) = false after c returned")
	}
}

func memberOf(t *testing.T, g *Gossip, node string) Member {
	t.Helper()
	for _, m := range g.Members() {
		if m.Node == node {
			return m
		}
	}
	t.Fatalf("%s not in Members()", node)
	return Member{}
}
