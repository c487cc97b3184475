package group

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// autopilot is the leader's reconciler of voters: it promotes healthy
// non-voters until the group has cfg.Voters voters, and replaces a voter
// that has missed heartbeats for longer than cfg.DeadServerThreshold with
// a healthy non-voter (the lost voter is demoted, not removed, so it
// catches up as a non-voter when it returns).
//
// Health comes from the leader's heartbeat observations: a server is
// failing from its first failed heartbeat until one succeeds again.
type autopilot struct {
	g *Group

	mu sync.Mutex
	// failing maps a server to its last contact before heartbeats began
	// to fail.
	failing map[string]time.Time
	// since maps a server to when this leader first saw it in the
	// configuration, for the stabilisation time.
	since map[string]time.Time
	kick  chan struct{}
}

func newAutopilot(g *Group) *autopilot {
	return &autopilot{g: g, failing: map[string]time.Time{}, since: map[string]time.Time{}, kick: make(chan struct{}, 1)}
}

func (a *autopilot) failed(id string, lastContact time.Time) {
	a.mu.Lock()
	if _, ok := a.failing[id]; !ok {
		if lastContact.IsZero() {
			lastContact = a.g.cfg.Clock.Now()
		}
		a.failing[id] = lastContact
	}
	a.mu.Unlock()
}

func (a *autopilot) resumed(id string) {
	a.mu.Lock()
	delete(a.failing, id)
	a.mu.Unlock()
	a.poke()
}

func (a *autopilot) seen(id string) {
	a.mu.Lock()
	if _, ok := a.since[id]; !ok {
		a.since[id] = a.g.cfg.Clock.Now()
	}
	a.mu.Unlock()
}

func (a *autopilot) peerChanged() { a.poke() }

func (a *autopilot) poke() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// healthy reports whether the leader has heard from id lately.
func (a *autopilot) healthy(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, bad := a.failing[id]
	return !bad
}

func (a *autopilot) run(ctx context.Context) {
	t := a.g.cfg.Clock.NewTicker(a.g.cfg.ReconcileInterval)
	defer t.Stop()
	wasLeader := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		case <-a.kick:
		}
		leader := a.g.raft.State() == raft.Leader
		if leader && !wasLeader {
			// A new leader knows nothing of its followers' health yet.
			a.mu.Lock()
			clear(a.failing)
			clear(a.since)
			a.mu.Unlock()
		}
		wasLeader = leader
		if leader {
			a.reconcile(ctx)
		}
	}
}

// reconcile makes one change at most, so each is committed and observed
// before the next is decided. It waits for a change only until ctx ends:
// a configuration change's future can stay unanswered after Raft shuts
// down, and Close, waiting for this loop, hung on it once in CI
// (TestRemovePeerThenPromote).
func (a *autopilot) reconcile(ctx context.Context) {
	f := a.g.raft.GetConfiguration()
	if f.Error() != nil {
		return
	}
	servers := f.Configuration().Servers
	now := a.g.cfg.Clock.Now()
	self := raft.ServerID(a.g.cfg.NodeID)

	var voters, dead []raft.Server
	var ready []raft.Server // healthy, stable non-voters
	a.mu.Lock()
	for _, s := range servers {
		id := string(s.ID)
		if _, ok := a.since[id]; !ok {
			a.since[id] = now
		}
		last, failing := a.failing[id]
		switch {
		case s.Suffrage == raft.Voter:
			voters = append(voters, s)
			if s.ID != self && failing && now.Sub(last) > a.g.cfg.DeadServerThreshold {
				dead = append(dead, s)
			}
		case s.Suffrage == raft.Nonvoter && !failing && now.Sub(a.since[id]) >= a.g.cfg.StabilizationTime:
			ready = append(ready, s)
		}
	}
	a.mu.Unlock()
	slices.SortFunc(ready, func(x, y raft.Server) int { return compareID(x.ID, y.ID) })
	slices.SortFunc(dead, func(x, y raft.Server) int { return compareID(x.ID, y.ID) })

	timeout := a.g.cfg.ApplyTimeout
	switch {
	case len(voters) < a.g.cfg.Voters && len(ready) > 0:
		s := ready[0]
		a.g.log.Info("promoting non-voter", "id", s.ID, "voters", len(voters), "target", a.g.cfg.Voters)
		a.logErr(waitFuture(ctx, a.g.raft.AddVoter(s.ID, s.Address, 0, timeout)), "promote", s.ID)
	case len(dead) > 0 && len(ready) > 0:
		s, d := ready[0], dead[0]
		a.g.log.Warn("replacing lost voter", "lost", d.ID, "promoted", s.ID, "threshold", a.g.cfg.DeadServerThreshold)
		if err := waitFuture(ctx, a.g.raft.AddVoter(s.ID, s.Address, 0, timeout)); err != nil {
			a.logErr(err, "promote", s.ID)
			return
		}
		a.logErr(waitFuture(ctx, a.g.raft.DemoteVoter(d.ID, 0, timeout)), "demote", d.ID)
	case len(voters) > a.g.cfg.Voters && len(dead) > 0:
		d := dead[0]
		a.g.log.Warn("demoting lost voter above the target", "lost", d.ID)
		a.logErr(waitFuture(ctx, a.g.raft.DemoteVoter(d.ID, 0, timeout)), "demote", d.ID)
	}
}

func (a *autopilot) logErr(err error, what string, id raft.ServerID) {
	if err != nil {
		a.g.log.Warn("reconciler change failed", "change", what, "id", id, "err", err)
	}
}

func compareID(a, b raft.ServerID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
