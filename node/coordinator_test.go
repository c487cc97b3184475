package node

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// writeOf matches the engine writes of loc's object on vnode vn.
func writeOf(vn ring.VNode, loc Location) func(store.Call) bool {
	key := loc.Bytes()
	return func(c store.Call) bool {
		return c.Partition == store.Partition(vn.Partition) && bytes.Equal(c.Key, key)
	}
}

// A coordinator sends a write to the other replicas before it stores it,
// so a write whose coordinator's engine is held up (switching memtables,
// flushing) is acknowledged by the other two replicas all the same, and
// the coordinator's copy follows once its engine moves.
func TestClusterWriteDoesNotWaitForItsCoordinatorsEngine(t *testing.T) {
	c := newTestCluster(t, 3)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "slow-coordinator"}
	prims := c.primaries(loc)
	coord := c.node(prims[0].Node)

	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	match := writeOf(prims[0], loc)
	remove := coord.eng.InjectError(store.MethodWrite, func(call store.Call) bool {
		if match(call) {
			once.Do(func() { close(entered) })
			<-release // the engine is busy: the write waits here
		}
		return false // and then succeeds
	}, nil)
	defer remove()

	type result struct {
		obj *object.Object
		err error
	}
	done := make(chan result, 1)
	go func() {
		opts := putOpts(2, 0, 0)
		opts.ReturnBody = true
		o, err := cput(t, coord, loc, "v1", opts)
		done <- result{o, err}
	}()
	<-entered
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("w=2 with the coordinator's engine busy: %v", r.err)
		}
		if got := values(r.obj); !equal(got, []string{"v1"}) {
			t.Fatalf("the write answered %v, want [v1]", got)
		}
	case <-time.After(10 * time.Second): // a guard against a hang, not a wait
		close(release)
		t.Fatal("the write waited for its coordinator's engine")
	}
	for _, vn := range prims[1:] {
		if got := values(c.stored(vn, loc)); !equal(got, []string{"v1"}) {
			t.Fatalf("%s holds %v, want [v1]", vnodeName(vn), got)
		}
	}
	close(release)
	c.idle()
	if got := values(c.stored(prims[0], loc)); !equal(got, []string{"v1"}) {
		t.Fatalf("the coordinator holds %v once its engine moved, want [v1]", got)
	}
}

// When the coordinator's own write fails after the other replicas were
// sent it, the write's dot lives on them and not on the coordinator. Its
// next write of the key must not issue that dot again (the replicas would
// take the two writes for one and drop one of them): the coordinator
// stops using its actor and takes a new epoch, and both concurrent writes
// survive as siblings.
func TestClusterFailedCoordinatorWriteNeverReissuesItsDot(t *testing.T) {
	c := newTestCluster(t, 3)
	loc := Location{Type: DefaultType, Bucket: "b", Key: "failed-coordinator"}
	prims := c.primaries(loc)
	coord := c.node(prims[0].Node)

	first := putOpts(3, 0, 0)
	first.ReturnBody = true
	v1, err := cput(t, coord, loc, "v1", first)
	if err != nil {
		t.Fatal(err)
	}
	ctx1 := v1.Context()

	remove := coord.eng.InjectError(store.MethodWrite, writeOf(prims[0], loc), errors.New("disk full"))
	opts := putOpts(2, 0, 0)
	opts.Context = ctx1
	if _, err := cput(t, coord, loc, "v2", opts); err != nil {
		t.Fatalf("w=2 with the coordinator's write failing and two replicas up: %v", err)
	}
	remove()
	c.idle()

	if got := values(c.stored(prims[0], loc)); !equal(got, []string{"v1"}) {
		t.Fatalf("the coordinator holds %v, want [v1] (its write of v2 failed)", got)
	}

	// A write concurrent with v2 (it has v1's context too), coordinated by
	// the same vnode.
	if _, err := cput(t, coord, loc, "v3", opts); err != nil {
		t.Fatal(err)
	}
	c.idle()
	for _, vn := range prims[1:] {
		if got := values(c.stored(vn, loc)); !equal(got, []string{"v2", "v3"}) {
			t.Fatalf("%s holds %v, want the siblings [v2 v3]: an acknowledged write was dropped", vnodeName(vn), got)
		}
	}
	got, err := cget(t, coord, loc, getOpts(3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !equal(values(got), []string{"v2", "v3"}) {
		t.Fatalf("read %v, want [v2 v3]", values(got))
	}
}

// Nothing is sent when the coordinator refuses a write before storing it
// (here: too many siblings), and nothing is stored anywhere.
func TestClusterRefusedWriteIsNotSent(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.MaxSiblings, cfg.WarnSiblings = 2, 2 })
	loc := Location{Type: DefaultType, Bucket: "siblings", Key: "k"}
	prims := c.primaries(loc)
	coord := c.node(prims[0].Node)
	for _, v := range []string{"a", "b"} {
		if _, err := cput(t, coord, loc, v, putOpts(3, 0, 0)); err != nil {
			t.Fatal(err)
		}
	}
	c.idle()
	before := c.tr.Stats().Sent
	_, err := cput(t, coord, loc, "c", putOpts(3, 0, 0))
	if !errors.Is(err, ErrTooManySiblings) {
		t.Fatalf("third blind write: %v, want ErrTooManySiblings", err)
	}
	c.idle()
	if sent := c.tr.Stats().Sent - before; sent != 0 {
		t.Fatalf("the refused write put %d messages on the network, want none", sent)
	}
	for _, vn := range prims {
		if got := values(c.stored(vn, loc)); !equal(got, []string{"a", "b"}) {
			t.Fatalf("%s holds %v, want [a b]", vnodeName(vn), got)
		}
	}
}
