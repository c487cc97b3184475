package main

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/gossip"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/group"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/ring"
)

// clusterLoops are the long-running tasks of a clustered node: following
// the committed ring, joining gossip peers, handing partitions and hints
// off. They stop when ctx ends; wait returns once all have.
type clusterLoops struct {
	g       *group.Group
	n       *node.Node
	gsp     *gossip.Gossip
	log     *slog.Logger
	cfg     Config
	wg      sync.WaitGroup
	events  *gossipEvents
	catchUp chan struct{} // gossip saw a newer ring epoch
	handoff chan struct{} // gossip saw a node come back
	// advertise wakes advertiseEpoch: the ring epoch changed.
	advertise chan struct{}
}

// gossipEvents turns gossip's membership events into work for the loops:
// a peer at a newer ring epoch means this node's copy of the metadata is
// behind; a peer that is alive again may be owed hints.
type gossipEvents struct {
	log     *slog.Logger
	epoch   atomic.Uint64 // the epoch this node routes by
	node    atomic.Pointer[node.Node]
	catchUp chan<- struct{}
	handoff chan<- struct{}
}

func (d *gossipEvents) Notify(e gossip.Event) {
	d.log.Debug("gossip", "node", e.Node, "state", e.Kind.String(), "epoch", e.Meta.RingEpoch)
	if e.Meta.RingEpoch > d.epoch.Load() {
		poke(d.catchUp)
	}
	if e.Kind == gossip.Alive && !e.Updated {
		poke(d.handoff)
	}
	// The hint window of a node counts from gossip's verdict.
	if n := d.node.Load(); n != nil {
		switch e.Kind {
		case gossip.Dead, gossip.Left:
			n.MarkDown(e.Node, time.Now())
		case gossip.Alive:
			n.MarkUp(e.Node)
		}
	}
}

func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (l *clusterLoops) start(ctx context.Context) {
	l.advertise = make(chan struct{}, 1)
	for _, f := range []func(context.Context){l.followRing, l.followGossip, l.wakeHandoff, l.advertiseEpoch} {
		l.wg.Go(func() { f(ctx) })
	}
	l.wg.Go(func() { l.n.RunAAE(ctx) })
	l.wg.Go(func() {
		l.n.RunHandoff(ctx, l.cfg.HandoffInterval, func(ctx context.Context, t node.Transfer) error {
			err := l.g.CompleteTransfer(ctx, t.Partition, t.From, t.To)
			if errors.Is(err, meta.ErrNoTransfer) {
				// Completed already (a retry after a lost answer), or a
				// later plan changed it: nothing to do either way.
				return nil
			}
			return err
		})
	})
}

func (l *clusterLoops) wait() { l.wg.Wait() }

// followRing gives the node the committed ring each time the metadata
// plane's state changes, and tells gossip the new epoch.
func (l *clusterLoops) followRing(ctx context.Context) {
	fsm := l.g.FSM()
	var (
		last    *node.Topology
		gossips = map[string]bool{}
	)
	for {
		idx := fsm.AppliedIndex()
		if t, ok := topology(fsm.Ring(), fsm.Members(), l.log); ok && (last == nil || !sameTopology(*last, t)) {
			if err := l.n.SetTopology(t); err != nil {
				l.log.Error("bad topology from the metadata plane", "err", err)
			} else {
				last = &t
				l.events.epoch.Store(t.Ring.Epoch())
				poke(l.advertise)
				l.log.Info("routing by ring", "epoch", t.Ring.Epoch(), "members", len(t.Ring.Members()), "pending", len(t.Pending))
			}
		}
		// Members that joined through Raft are gossip peers too.
		var seeds []string
		for _, m := range fsm.Members() {
			if m.ID != l.n.ID() && m.GossipAddr != "" && !gossips[m.GossipAddr] {
				seeds = append(seeds, m.GossipAddr)
			}
		}
		if len(seeds) > 0 {
			if _, err := l.gsp.Join(seeds); err != nil {
				l.log.Debug("gossip join", "seeds", seeds, "err", err)
			} else {
				for _, s := range seeds {
					gossips[s] = true
				}
			}
		}
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := fsm.WaitApplied(wctx, idx+1)
		cancel()
		if ctx.Err() != nil {
			return
		}
		_ = err // a timeout only means nothing changed; look again
	}
}

// advertiseEpoch tells gossip the epoch this node routes by. Gossip may
// take a while to broadcast it, so this runs apart from followRing, and
// only the latest epoch is sent.
func (l *clusterLoops) advertiseEpoch(ctx context.Context) {
	var sent uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.advertise:
		}
		if e := l.events.epoch.Load(); e != sent {
			if err := l.gsp.SetRingEpoch(e); err != nil {
				l.log.Debug("gossip: ring epoch broadcast unconfirmed", "epoch", e, "err", err)
			}
			sent = e
		}
	}
}

// followGossip catches the metadata plane up when gossip reports a newer
// ring: a barrier makes this node's state reach the leader's commit index.
func (l *clusterLoops) followGossip(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.catchUp:
		}
		bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := l.g.Barrier(bctx); err != nil && ctx.Err() == nil {
			l.log.Debug("catching up with the ring", "err", err)
		}
		cancel()
	}
}

// wakeHandoff passes gossip's news of a node coming back to the handoff
// loop, which then offers it the hints held for it at once.
func (l *clusterLoops) wakeHandoff(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.handoff:
			l.n.WakeHandoff()
		}
	}
}

// topology builds the node's view of the committed ring; ok is false
// until the ring exists.
func topology(rs *meta.RingState, members []meta.Member, log *slog.Logger) (node.Topology, bool) {
	if rs == nil {
		return node.Topology{}, false
	}
	rc := ring.DefaultConfig()
	rc.Size = rs.Size
	r, err := ring.New(rc, rs.Owners, rs.Epoch)
	if err != nil {
		log.Error("committed ring is unusable", "err", err)
		return node.Topology{}, false
	}
	t := node.Topology{Ring: r, Addrs: map[string]string{}}
	for _, m := range members {
		t.Addrs[m.ID] = m.RPCAddr
	}
	for _, tr := range rs.Pending {
		t.Pending = append(t.Pending, node.Transfer{Partition: tr.Partition, From: tr.From, To: tr.To})
	}
	return t, true
}

func sameTopology(a, b node.Topology) bool {
	return a.Ring.Epoch() == b.Ring.Epoch() && slices.Equal(a.Ring.Owners(), b.Ring.Owners()) &&
		slices.Equal(a.Pending, b.Pending) && maps.Equal(a.Addrs, b.Addrs)
}
