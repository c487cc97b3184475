package gossip

import (
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

func TestMemNetwork(t *testing.T) {
	var n MemNetwork
	a, b := n.NewTransport("a"), n.NewTransport("b")
	if a.Addr() == b.Addr() {
		t.Fatalf("a and b share address %s", a.Addr())
	}

	// Sending never blocks: past the queue's length, packets are dropped.
	for range memPacketQueue + 10 {
		if _, err := a.WriteTo([]byte("x"), b.Addr()); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(b.PacketCh()); got != memPacketQueue {
		t.Fatalf("b has %d packets queued, want %d", got, memPacketQueue)
	}
	p := <-b.PacketCh()
	if p.From.String() != a.Addr() || string(p.Buf) != "x" {
		t.Fatalf("packet from %v: %q", p.From, p.Buf)
	}

	// Streams carry both ends' addresses.
	conn, err := a.DialTimeout(b.Addr(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	in := <-b.StreamCh()
	if in.RemoteAddr().String() != a.Addr() || conn.RemoteAddr().String() != b.Addr() {
		t.Fatalf("stream addresses: %v → %v", in.RemoteAddr(), conn.RemoteAddr())
	}
	_ = conn.Close()
	_ = in.Close()

	// A partition drops packets and refuses streams, until healed.
	n.Partition([]string{"a"}, []string{"b"})
	if _, err := b.DialTimeout(a.Addr(), time.Second); err == nil {
		t.Fatal("dial across a partition succeeded")
	}
	_, _ = b.WriteTo([]byte("lost"), a.Addr())
	if len(a.PacketCh()) != 0 {
		t.Fatal("packet crossed a partition")
	}
	n.Heal()
	if _, err := b.WriteToAddress([]byte("y"), memberlist.Address{Addr: a.Addr(), Name: "a"}); err != nil || len(a.PacketCh()) != 1 {
		t.Fatalf("after Heal: %v, %d packets", err, len(a.PacketCh()))
	}

	// A shut-down transport refuses streams; a restart gets the address back.
	_ = b.Shutdown()
	if _, err := a.DialTimeout(b.Addr(), time.Second); err == nil {
		t.Fatal("dial to a shut-down transport succeeded")
	}
	b2 := n.NewTransport("b")
	if b2.Addr() != b.Addr() {
		t.Fatalf("restarted b at %s, was %s", b2.Addr(), b.Addr())
	}
	if _, err := a.DialTimeout(b2.Addr(), time.Second); err != nil {
		t.Fatalf("dial to restarted b: %v", err)
	}
}

// TestPartitionHeals: each side of a partition holds the other dead; once
// it heals, reconnecting brings them back together.
func TestPartitionHeals(t *testing.T) {
	c := newCluster(t)
	c.startJoined("a", "b", "c")
	marks := map[string]int{}
	for _, n := range []string{"a", "b", "c"} {
		marks[n] = c.nodes[n].rec.mark()
	}
	dead := func(node string) func(Event) bool {
		return func(e Event) bool { return e.Node == node && e.Kind == Dead }
	}
	alive := func(node string) func(Event) bool {
		return func(e Event) bool { return e.Node == node && e.Kind == Alive }
	}
	waitAll := func(obs string, what string, preds ...func(Event) bool) {
		t.Helper()
		c.nodes[obs].rec.wait(t, marks[obs], obs+": "+what, func(events []Event) bool {
			for _, p := range preds {
				if !hasEvent(events, p) {
					return false
				}
			}
			return true
		})
	}

	c.net.Partition([]string{"c"}, []string{"a", "b"})
	waitAll("a", "c dead", dead("c"))
	waitAll("b", "c dead", dead("c"))
	waitAll("c", "a and b dead", dead("a"), dead("b"))
	if c.nodes["a"].g.Up("c") || c.nodes["c"].g.Up("a") {
		t.Fatal("Up across the partition")
	}
	if !c.nodes["a"].g.Up("b") {
		t.Fatal("a: b not up on the same side")
	}

	for _, n := range []string{"a", "b", "c"} {
		marks[n] = c.nodes[n].rec.mark()
	}
	c.net.Heal()
	waitAll("a", "c alive", alive("c"))
	waitAll("b", "c alive", alive("c"))
	waitAll("c", "a and b alive", alive("a"), alive("b"))
	// Up is not checked here: dead messages c queued before the heal still
	// reach a and b afterwards, and may make one of them hold the other
	// dead until it refutes, a flap memberlist allows.
}
