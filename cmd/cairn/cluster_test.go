package main

import (
	"log/slog"
	"testing"

	"github.com/cairnkv/cairn/gossip"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// Gossip's events become work: a peer at a newer ring epoch wakes the
// catch-up (a Raft barrier), a peer that is alive again wakes hinted
// handoff; nothing else does.
func TestGossipEventsWakeTheLoops(t *testing.T) {
	catchUp, handoff := make(chan struct{}, 1), make(chan struct{}, 1)
	d := &gossipEvents{log: slog.New(slog.DiscardHandler), catchUp: catchUp, handoff: handoff}
	d.epoch.Store(5)
	woke := func(c chan struct{}) bool {
		select {
		case <-c:
			return true
		default:
			return false
		}
	}
	for _, tc := range []struct {
		e                gossip.Event
		catchUp, handoff bool
	}{
		{gossip.Event{Kind: gossip.Alive, Updated: true, Node: "b", Meta: gossip.Meta{RingEpoch: 5}}, false, false},
		{gossip.Event{Kind: gossip.Alive, Updated: true, Node: "b", Meta: gossip.Meta{RingEpoch: 4}}, false, false},
		{gossip.Event{Kind: gossip.Alive, Updated: true, Node: "b", Meta: gossip.Meta{RingEpoch: 6}}, true, false},
		{gossip.Event{Kind: gossip.Alive, Node: "c", Meta: gossip.Meta{RingEpoch: 5}}, false, true},
		{gossip.Event{Kind: gossip.Suspect, Node: "c", Meta: gossip.Meta{RingEpoch: 5}}, false, false},
		{gossip.Event{Kind: gossip.Dead, Node: "c", Meta: gossip.Meta{RingEpoch: 9}}, true, false},
	} {
		d.Notify(tc.e)
		if got := woke(catchUp); got != tc.catchUp {
			t.Errorf("%v: catch-up woken %v, want %v", tc.e, got, tc.catchUp)
		}
		if got := woke(handoff); got != tc.handoff {
			t.Errorf("%v: handoff woken %v, want %v", tc.e, got, tc.handoff)
		}
	}
}

// The topology the node routes by is the committed ring, its pending
// moves and every member's RPC address; no ring yet means no topology.
func TestTopologyFromMetadata(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	if _, ok := topology(nil, nil, log); ok {
		t.Fatal("a topology without a ring")
	}
	owners := make([]string, 8)
	for p := range owners {
		owners[p] = []string{"a", "b"}[p%2]
	}
	rs := &meta.RingState{Size: 8, TargetN: 2, Epoch: 7, Owners: owners,
		Pending: []meta.Transfer{{Partition: 3, From: "b", To: "c"}}}
	members := []meta.Member{{ID: "a", RPCAddr: "h1:8099"}, {ID: "b", RPCAddr: "h2:8099"}, {ID: "c", RPCAddr: "h3:8099"}}
	top, ok := topology(rs, members, log)
	if !ok || top.Ring.Epoch() != 7 || top.Ring.Owner(3) != "b" || top.Addrs["c"] != "h3:8099" ||
		len(top.Pending) != 1 || top.Pending[0] != (node.Transfer{Partition: 3, From: "b", To: "c"}) {
		t.Fatalf("topology %+v", top)
	}
	same, _ := topology(rs, members, log)
	if !sameTopology(top, same) {
		t.Fatal("the same state gives a different topology")
	}
	rs.Pending = nil
	moved, _ := topology(rs, members, log)
	if sameTopology(top, moved) {
		t.Fatal("a completed move went unnoticed")
	}
	if _, ok := topology(&meta.RingState{Size: 8, Owners: owners[:4]}, members, log); ok {
		t.Fatal("a malformed ring gave a topology")
	}
}
