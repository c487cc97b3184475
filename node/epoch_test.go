package node

import (
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// actor is an actor of vn at epoch 1, for tests that build objects by hand.
func actor(vn ring.VNode) object.Actor { return object.Actor(actorPrefix(vn) + "1") }

// TestEpochsNeverReused: a run that ends without a clean close (a crash)
// and one that took more than a lease both leave the next run starting
// above every epoch they handed out.
func TestEpochsNeverReused(t *testing.T) {
	eng := store.NewMem()
	seen := map[uint64]bool{}
	for run := range 3 {
		a, err := openEpochs(eng)
		if err != nil {
			t.Fatal(err)
		}
		n := 10
		if run == 1 {
			n = epochLease + 5 // past the first lease: the bound must move durably
		}
		for range n {
			e, err := a.alloc()
			if err != nil {
				t.Fatal(err)
			}
			if seen[e] {
				t.Fatalf("run %d: epoch %d handed out twice", run, e)
			}
			seen[e] = true
		}
		eng.Crash() // nothing unsynced may matter
	}
}

func TestCoordActor(t *testing.T) {
	vn := ring.VNode{Node: "n1", Partition: 3}
	other := ring.VNode{Node: "n2", Partition: 4}
	eng := store.NewMem()
	a, err := openEpochs(eng)
	if err != nil {
		t.Fatal(err)
	}
	write := func(cur *object.Object, ctx object.Context, actor object.Actor) *object.Object {
		return cur.Update(ctx, object.Content{Value: []byte("v")}, actor)
	}

	first, err := a.coordActor(vn, nil, object.Context{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(first), "n1/3~") {
		t.Fatalf("actor %q does not name its vnode", first)
	}
	obj := write(nil, object.Context{}, first)

	// The stored copy holds a usable actor of this vnode: keep it.
	if got, _ := a.coordActor(vn, obj, obj.Context()); got != first {
		t.Fatalf("with its own copy: actor %q, want %q kept", got, first)
	}
	// Another vnode's actor is never taken.
	if got, _ := a.coordActor(other, obj, obj.Context()); got == first || !strings.HasPrefix(string(got), "n2/4~") {
		t.Fatalf("another vnode got %q", got)
	}
	// The copy is behind the client: a later dot of this actor exists
	// elsewhere, so the actor's history here is incomplete.
	ahead := write(obj, obj.Context(), first)
	if got, _ := a.coordActor(vn, obj, ahead.Context()); got == first {
		t.Fatalf("a copy behind the context kept actor %q", got)
	}
	// The copy is absent (or was corrupt): a fresh epoch.
	if got, _ := a.coordActor(vn, nil, ahead.Context()); got == first {
		t.Fatalf("an absent copy kept actor %q", got)
	}
	// After a loss, no epoch so far is used again.
	a.untrust()
	if got, _ := a.coordActor(vn, obj, obj.Context()); got == first {
		t.Fatalf("after untrust the copy's actor %q was kept", got)
	}
	// An actor of an earlier run of the node is not vouched for either.
	b, err := openEpochs(eng)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := b.coordActor(vn, obj, obj.Context()); got == first {
		t.Fatalf("another run kept actor %q", got)
	}
}
