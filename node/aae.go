package node

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/clock"
)

// aae runs active anti-entropy for a node: the scheduler of exchanges and
// tree rebuilds (antientropy.Scheduler, a pure state machine) and the
// goroutines that carry them out.
type aae struct {
	n     *Node
	cfg   antientropy.Config
	empty *antientropy.Tree // stands for a tree a vnode does not have

	mu    sync.Mutex
	sched *antientropy.Scheduler
	// unbuilt are partitions whose index has not been checked against
	// their data since a start that found no index of this format.
	unbuilt map[int]bool
	wake    chan struct{}
}

// Keys in localPartition.
const (
	aaeFormatKey  = "aae/format"  // segments count the index was built with
	aaeControlKey = "aae/control" // an operator's antientropy.Control
	aaeBuiltKey   = "aae/built/"  // + partition: when it was last verified
)

func newAAE(n *Node) *aae {
	seed := n.cfg.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	return &aae{
		n:       n,
		cfg:     n.cfg.AAE,
		empty:   antientropy.NewTree(n.cfg.AAE.Segments),
		sched:   antientropy.NewScheduler(n.cfg.AAE, rand.New(rand.NewPCG(seed, 0x6161_6573))),
		unbuilt: map[int]bool{},
		wake:    make(chan struct{}, 1),
	}
}

// open brings the trees up at start: from one sequential scan of each
// vnode's index when the index is of this format, or, when it is not (a
// data directory from before anti-entropy, or another segment count),
// from nothing, marking every partition unbuilt so that the loop verifies
// it against its data before it takes part in exchanges.
func (a *aae) open() error {
	eng := a.n.eng
	if raw, err := eng.Get(localPartition, []byte(aaeControlKey)); err == nil {
		var c antientropy.Control
		if json.Unmarshal(raw, &c) == nil {
			if err := a.apply(c); err != nil {
				a.n.log.Warn("ignoring saved anti-entropy control", "err", err)
			}
		}
	}
	now := a.n.cfg.Clock.Now()
	format, err := eng.Get(localPartition, []byte(aaeFormatKey))
	current := err == nil && len(format) == 4 && int(binary.BigEndian.Uint32(format)) == a.cfg.Segments
	// Without a marker there is no index, or only the part a first verify
	// wrote before a restart; with another segment count, every entry is
	// in the wrong segment.
	stale := err == nil && !current
	for p := range a.n.cfg.RingSize {
		if !current {
			if stale {
				if err := eng.DropPartition(indexPartition(p)); err != nil {
					return fmt.Errorf("node: reset aae index of vnode %d: %w", p, err)
				}
			}
			// Due at once: verified against its data before it exchanges.
			a.unbuilt[p] = true
			a.sched.Built(p, now.Add(-a.cfg.RebuildInterval-a.cfg.RebuildJitter), 0)
			continue
		}
		if err := a.n.local.rebuildTrees(p); err != nil {
			return err
		}
		built := now
		if raw, err := eng.Get(localPartition, builtKey(p)); err == nil && len(raw) == 8 {
			built = time.Unix(0, int64(binary.BigEndian.Uint64(raw)))
		}
		a.sched.Built(p, built, a.n.local.trees.keys(p))
	}
	return nil
}

func builtKey(p int) []byte { return binary.BigEndian.AppendUint32([]byte(aaeBuiltKey), uint32(p)) }

// treeOf says which tree key belongs to: its preference list's first
// partition and its bucket's n_val. Keys of consistent bucket types live in
// the metadata plane, not in vnodes, and are not indexed.
func (n *Node) treeOf(key []byte) (treeID, bool) {
	rt := n.routing.Load()
	if rt == nil {
		return treeID{}, false
	}
	loc, err := ParseLocation(key)
	if err != nil {
		return treeID{}, false
	}
	props, err := n.md.BucketProps(loc.Type, loc.Bucket)
	if err != nil || props.Consistent {
		return treeID{}, false
	}
	return treeID{q: rt.ring.PartitionOf(key), n: props.NVal}, true
}

// RunAAE runs anti-entropy until ctx ends: exchanges between the replicas
// of every preference list this node's vnodes are in, and the periodic
// verification of each vnode's index against its data. Exchanges wait
// while a vnode is being handed off, outside the configured window, and
// while anti-entropy is disabled. It returns once its exchanges have
// stopped.
func (n *Node) RunAAE(ctx context.Context) {
	a := n.aae
	var workers sync.WaitGroup
	defer workers.Wait()
	done := make(chan struct{}, 1)
	signal := func() {
		select {
		case done <- struct{}{}:
		default:
		}
	}
	for {
		changed := n.topologyChanged()
		now := n.cfg.Clock.Now()
		a.mu.Lock()
		a.sched.Set(a.candidates(n.routing.Load()), now)
		for {
			id, ok := a.sched.Next(now)
			if !ok {
				break
			}
			workers.Go(func() {
				r := a.run(ctx, id)
				a.mu.Lock()
				a.sched.Done(id, n.cfg.Clock.Now(), r)
				a.mu.Unlock()
				signal()
			})
		}
		if p, ok := a.sched.NextRebuild(now); ok {
			workers.Go(func() {
				keys, err := a.verify(ctx, p)
				a.mu.Lock()
				a.finishVerify(p, keys, err)
				a.mu.Unlock()
				signal()
			})
		}
		at, ok := a.sched.Wake(now)
		if rat, rok := a.sched.RebuildWake(now); rok && (!ok || rat.Before(at)) {
			at, ok = rat, true
		}
		a.mu.Unlock()
		var timer clock.Timer
		var due <-chan time.Time
		if ok {
			timer = n.cfg.Clock.NewTimer(max(at.Sub(now), 0))
			due = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-due:
		case <-changed:
		case <-a.wake:
		case <-done:
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// finishVerify records a verify pass of vnode p. Called under a.mu.
func (a *aae) finishVerify(p int, keys int64, err error) {
	now := a.n.cfg.Clock.Now()
	if err != nil {
		// Tried again soon, not in a week: exchanges wait for it.
		a.n.log.Warn("anti-entropy verify failed", "partition", p, "err", err)
		a.sched.RebuildFailed(p, now)
		return
	}
	a.n.metrics.aaeRebuilds.Add(1)
	a.sched.Built(p, now, keys)
	_ = a.n.eng.Put(localPartition, builtKey(p), binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano())))
	if a.unbuilt[p] {
		delete(a.unbuilt, p)
		if len(a.unbuilt) == 0 {
			format := binary.BigEndian.AppendUint32(nil, uint32(a.cfg.Segments))
			if err := a.n.eng.Put(localPartition, []byte(aaeFormatKey), format); err != nil {
				a.n.log.Warn("saving anti-entropy index format", "err", err)
			}
			a.n.log.Info("anti-entropy index built for every vnode")
		}
	}
}

// candidates lists the exchanges this node starts: for every vnode it owns
// that is not moving, every tree it shares with a later vnode of the same
// preference list. The earlier vnode of a pair starts its exchange, so each
// pair is compared once per interval, not twice. Called under a.mu.
func (a *aae) candidates(rt *routing) []antientropy.ExchangeID {
	if rt == nil {
		return nil
	}
	self := a.n.cfg.NodeID
	nvals := a.n.local.trees.nvals()
	nvals[a.n.cfg.Props.NVal] = true
	if tn := rt.ring.Size(); tn > 0 {
		for nv := range nvals {
			if nv > tn {
				delete(nvals, nv)
			}
		}
	}
	var out []antientropy.ExchangeID
	size := rt.ring.Size()
	for _, p := range rt.ring.PartitionsOf(self) {
		if _, moving := rt.pending[p]; moving || a.unbuilt[p] {
			continue
		}
		for _, nv := range slices.Sorted(maps.Keys(nvals)) {
			for k := range nv {
				q := (p - k + size) % size
				pl := rt.ring.PreflistFor(q, nv)
				for _, peer := range pl[k+1:] {
					if _, moving := rt.pending[peer.Partition]; moving || (peer.Node == self && a.unbuilt[peer.Partition]) {
						continue
					}
					out = append(out, antientropy.ExchangeID{Partition: p, Peer: peer.Node, PeerPartition: peer.Partition, Primary: q, N: nv})
				}
			}
		}
	}
	return out
}

// apply changes the scheduler's controls; it takes a.mu.
func (a *aae) apply(c antientropy.Control) error {
	var w antientropy.Window
	if c.Window != nil {
		var err error
		if w, err = antientropy.ParseWindow(*c.Window); err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.Enabled != nil {
		a.sched.SetEnabled(*c.Enabled)
	}
	if c.Window != nil {
		a.sched.SetWindow(w)
	}
	return nil
}

// ControlAAE changes this node's anti-entropy (enabled, window) and saves
// the change with the node's data, so it survives restarts.
func (n *Node) ControlAAE(ctx context.Context, c antientropy.Control) (antientropy.Status, error) {
	if c.Enabled == nil && c.Window == nil {
		return antientropy.Status{}, fmt.Errorf("%w: nothing to change", ErrBadRequest)
	}
	if err := n.aae.apply(c); err != nil {
		return antientropy.Status{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	n.aae.mu.Lock()
	on, w := n.aae.sched.Enabled(), n.aae.sched.Window().String()
	n.aae.mu.Unlock()
	raw, err := json.Marshal(antientropy.Control{Enabled: &on, Window: &w})
	if err == nil {
		err = n.eng.Put(localPartition, []byte(aaeControlKey), raw)
	}
	if err != nil {
		return antientropy.Status{}, fmt.Errorf("node: save anti-entropy control: %w", err)
	}
	n.log.Info("anti-entropy control changed", "enabled", on, "window", w)
	select {
	case n.aae.wake <- struct{}{}:
	default:
	}
	return n.AAEStatus(ctx)
}

// AAEStatus reports this node's anti-entropy: controls, totals, and per
// vnode it owns or holds data for, its trees and exchanges.
func (n *Node) AAEStatus(context.Context) (antientropy.Status, error) {
	a := n.aae
	now := n.cfg.Clock.Now()
	a.mu.Lock()
	st := a.sched.Status(now)
	unbuilt := maps.Clone(a.unbuilt)
	a.mu.Unlock()
	st.Node = n.cfg.NodeID
	st.TreeBytes = int64(n.local.trees.memory())
	var owned []int
	if r := n.Ring(); r != nil {
		owned = r.PartitionsOf(n.cfg.NodeID)
	}
	st.Partitions = slices.DeleteFunc(st.Partitions, func(ps antientropy.PartitionStatus) bool {
		return !slices.Contains(owned, ps.Partition) && n.local.trees.keys(ps.Partition) == 0
	})
	for i := range st.Partitions {
		ps := &st.Partitions[i]
		ps.Keys = n.local.trees.keys(ps.Partition)
		if unbuilt[ps.Partition] {
			ps.TreeBuilt = time.Time{}
		}
	}
	return st, nil
}
