package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// A dot (actor, counter) must name one write, forever. A coordinating
// vnode issues the counter after the greatest it knows of for its actor,
// in its stored copy and in the client's context; a vnode that had lost a
// write it coordinated (a crash that lost unsynced writes, a copy found
// corrupt, a copy handed off and deleted) could so issue the same dot
// again for another write, and merges would take the one for the other
// and drop it: an acknowledged write lost without a trace. The
// deterministic simulation found this (node/sim, seed 3: a corrupt copy
// on the coordinator).
//
// So actors carry an epoch, "<node>/<partition>~<epoch>", and a vnode
// coordinates a key under an actor of its own only while it can vouch for
// that actor's history of the key (coordActor):
//
//   - the actor's epoch was allocated in this run of the node, and
//     nothing since made the node lose a copy (a corrupt read, a handoff
//     that deleted what it delivered: untrust);
//   - its stored copy of the key holds the actor, and the client's
//     context knows no later counter of it than the copy does.
//
// Otherwise it takes a fresh epoch. Epochs are never reused: they are
// leased from a bound kept durably in the engine, and every start begins
// above the last bound, so a crash loses nothing that matters. The cost is
// one clock entry per key for each vnode and epoch that coordinates it:
// after a restart, a corruption or a hinted handoff, the keys written
// next gain an entry.

// epochBoundKey holds, 8 bytes big-endian in metaPartition, a bound no
// allocated epoch has reached.
var epochBoundKey = []byte("actor-epoch-bound")

// epochLease is how many epochs are allocated per durable write.
const epochLease = 1024

// actorEpochs allocates epochs and says which may still be used.
type actorEpochs struct {
	eng   store.Engine
	mu    sync.Mutex
	next  atomic.Uint64 // the next epoch to hand out
	bound uint64        // durable: every epoch handed out is below it
	floor atomic.Uint64 // epochs below it are not vouched for
}

// openEpochs starts a run's epochs above everything an earlier run may
// have handed out.
func openEpochs(eng store.Engine) (*actorEpochs, error) {
	v, err := eng.Get(metaPartition, epochBoundKey)
	var start uint64 = 1
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("node: read actor epoch bound: %w", err)
	case len(v) != 8:
		return nil, fmt.Errorf("node: actor epoch bound: %d bytes stored, want 8", len(v))
	default:
		start = max(start, binary.BigEndian.Uint64(v))
	}
	a := &actorEpochs{eng: eng}
	if err := a.persist(start + epochLease); err != nil {
		return nil, err
	}
	a.next.Store(start)
	a.floor.Store(start)
	return a, nil
}

func (a *actorEpochs) persist(bound uint64) error {
	if err := a.eng.Put(metaPartition, epochBoundKey, binary.BigEndian.AppendUint64(nil, bound)); err != nil {
		return fmt.Errorf("node: write actor epoch bound: %w", err)
	}
	if err := a.eng.Sync(); err != nil {
		return fmt.Errorf("node: sync actor epoch bound: %w", err)
	}
	a.bound = bound
	return nil
}

// alloc hands out a new epoch, extending the durable lease first when it
// runs out.
func (a *actorEpochs) alloc() (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e := a.next.Load()
	if e >= a.bound {
		if err := a.persist(a.bound + epochLease); err != nil {
			return 0, err
		}
	}
	a.next.Store(e + 1)
	return e, nil
}

// untrust stops every epoch handed out so far from being used again: the
// node may have lost a copy holding their latest dots.
func (a *actorEpochs) untrust() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.floor.Store(a.next.Load())
}

// usable reports whether epoch e was handed out in this run and is still
// vouched for.
func (a *actorEpochs) usable(e uint64) bool {
	return e >= a.floor.Load() && e < a.next.Load()
}

// actorPrefix is what every actor of vnode vn starts with.
func actorPrefix(vn ring.VNode) string {
	return vn.Node + "/" + strconv.Itoa(vn.Partition) + "~"
}

// coordActor picks the actor vnode vn coordinates a write of a key under,
// given its stored copy cur (nil when absent or corrupt) and the client's
// context: the newest usable actor of vn in cur when the context knows no
// later counter of it, or else a fresh epoch.
func (a *actorEpochs) coordActor(vn ring.VNode, cur *object.Object, cctx object.Context) (object.Actor, error) {
	prefix := actorPrefix(vn)
	if cur != nil {
		local := cur.Context()
		var best object.Actor
		var bestEpoch uint64
		for actor := range local.Actors() {
			rest, ok := strings.CutPrefix(string(actor), prefix)
			if !ok {
				continue
			}
			e, err := strconv.ParseUint(rest, 10, 64)
			if err == nil && a.usable(e) && (best == "" || e > bestEpoch) {
				best, bestEpoch = actor, e
			}
		}
		if best != "" && cctx.Counter(best) <= local.Counter(best) {
			return best, nil
		}
	}
	e, err := a.alloc()
	if err != nil {
		return "", err
	}
	return object.Actor(prefix + strconv.FormatUint(e, 10)), nil
}
