package meta

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/cairnkv/cairn/ring"
)

// Removed is the state a plan reports for a member that the commit
// forgets: a force-removed or force-replaced node, which owns nothing once
// its partitions have passed on without handoff. It never appears in
// State.Members.
const Removed MemberState = "removed"

// ComputePlan returns what committing s's staged changes would do. It is
// pure and deterministic (the same state gives the same plan on every
// node) and does not modify s. Errors: ErrNoRing, ErrNothingStaged, and
// ErrBadChange or ErrUnknownMember when a staged change no longer fits
// the members' states (one was marked down since, say).
func ComputePlan(s *State) (*Plan, error) {
	out, err := plan(s)
	if err != nil {
		return nil, err
	}
	return out.plan, nil
}

// outcome is a plan and the state a commit of it writes.
type outcome struct {
	plan    *Plan
	owners  []string               // Ring.Owners after the commit
	pending []Transfer             // Ring.Pending after the commit
	states  map[string]MemberState // members whose state changes; Removed: delete
}

// plan computes the outcome of committing s's staged changes:
//
//  1. The base is the future ring: Owners with every pending transfer
//     completed, so that a plan builds on the previous one.
//  2. Replaces hand the replaced node's partitions of that ring to the
//     target, exactly, with no re-claim.
//  3. If any join, leave or force-remove is staged, ring.Claim rebalances
//     over the members that will own partitions: the valid ones, the down
//     ones that own some (a down node keeps its partitions until it is
//     replaced or removed), joins and replace targets, less every node
//     that leaves.
//  4. A partition whose next owner differs from its current one becomes a
//     pending transfer, the current owner serving until handoff completes;
//     but when the current owner is force-removed or force-replaced the
//     partition passes at once, since nobody is left to hand it off.
//
// It reads only s.Ring, s.Staged and s.Members (FSM.Plan copies just
// those).
func plan(s *State) (*outcome, error) {
	if s.Ring == nil {
		return nil, ErrNoRing
	}
	if len(s.Staged) == 0 {
		return nil, ErrNothingStaged
	}
	for i, c := range s.Staged {
		if err := checkChange(s, s.Staged[:i], c); err != nil {
			return nil, fmt.Errorf("meta: staged change %q no longer applies (clear and stage again): %w", c.String(), err)
		}
	}
	next, forced, err := nextOwners(s)
	if err != nil {
		return nil, err
	}
	out := &outcome{owners: slices.Clone(s.Ring.Owners)}
	for p, o := range out.owners {
		if next[p] != o && forced[o] {
			out.owners[p] = next[p]
		}
	}
	for p, o := range out.owners {
		if next[p] != o {
			out.pending = append(out.pending, Transfer{Partition: p, From: o, To: next[p]})
		}
	}
	out.states = nextStates(s, out)
	if out.plan, err = describe(s, next, out); err != nil {
		return nil, err
	}
	return out, nil
}

// nextOwners returns the owner table once the staged changes and every
// transfer have completed (steps 1 to 3 of plan), and the nodes whose
// partitions pass without handoff.
func nextOwners(s *State) (next []string, forced map[string]bool, err error) {
	r := s.Ring
	future := slices.Clone(r.Owners)
	for _, t := range r.Pending {
		future[t.Partition] = t.To
	}
	leaves, joins := map[string]bool{}, map[string]bool{}
	forced = map[string]bool{}
	claim := false
	next = slices.Clone(future)
	for _, c := range s.Staged {
		switch c.Kind {
		case ChangeJoin:
			joins[c.Node], claim = true, true
		case ChangeLeave:
			leaves[c.Node], claim = true, true
		case ChangeForceRemove:
			leaves[c.Node], forced[c.Node], claim = true, true, true
		case ChangeReplace, ChangeForceReplace:
			leaves[c.Node], forced[c.Node] = true, c.Kind == ChangeForceReplace
			joins[c.Target] = true
			for p, o := range next {
				if o == c.Node {
					next[p] = c.Target
				}
			}
		}
	}
	if !claim {
		return next, forced, nil
	}
	var members []string
	for _, id := range sortedKeys(s.Members) {
		st := s.Members[id].State
		if !leaves[id] && (joins[id] || st == Valid || st == Down && slices.Contains(future, id)) {
			members = append(members, id)
		}
	}
	if len(members) == 0 {
		return nil, nil, fmt.Errorf("%w: no member would own partitions after the staged changes", ErrBadChange)
	}
	cfg := ring.Config{Size: r.Size}
	prev, err := ring.New(cfg, next, r.Epoch)
	if err != nil {
		return nil, nil, fmt.Errorf("meta: plan: %w", err)
	}
	nr, err := ring.Claim(cfg, prev, members, r.TargetN)
	if err != nil {
		return nil, nil, fmt.Errorf("meta: plan: %w", err)
	}
	return nr.Owners(), forced, nil
}

// nextStates returns the members whose state the commit changes: joins
// and replace targets become valid, leavers and replaced nodes leaving,
// force-removed and force-replaced nodes are forgotten (they own nothing
// once their partitions passed at once), and a leaving member with
// nothing left to hand off or receive is exiting: it may shut down.
func nextStates(s *State, out *outcome) map[string]MemberState {
	states := map[string]MemberState{}
	for _, c := range s.Staged {
		switch c.Kind {
		case ChangeJoin:
			states[c.Node] = Valid
		case ChangeLeave, ChangeReplace:
			states[c.Node] = Leaving
		case ChangeForceRemove, ChangeForceReplace:
			states[c.Node] = Removed
		}
		if c.Target != "" {
			states[c.Target] = Valid
		}
	}
	for _, id := range sortedKeys(s.Members) {
		st, ok := states[id]
		if !ok {
			st = s.Members[id].State
		}
		busy := slices.Contains(out.owners, id) || slices.ContainsFunc(out.pending, func(t Transfer) bool {
			return t.From == id || t.To == id
		})
		switch {
		case st == Leaving && !busy:
			states[id] = Exiting
		case st == Removed && busy:
			// Cannot happen (force moves are immediate), but a member that
			// still serves must never be forgotten: let it leave instead.
			states[id] = Leaving
		}
	}
	return states
}

// describe builds the Plan an operator reads from an outcome.
func describe(s *State, next []string, out *outcome) (*Plan, error) {
	r := s.Ring
	p := &Plan{Epoch: r.Epoch, Changes: slices.Clone(s.Staged), Next: slices.Clone(next)}

	ids := map[string]bool{}
	for i := range r.Owners {
		ids[r.Owners[i]], ids[next[i]] = true, true
	}
	for _, c := range s.Staged {
		ids[c.Node] = true
		if c.Target != "" {
			ids[c.Target] = true
		}
	}
	for _, id := range sortedKeys(ids) {
		np := NodePlan{ID: id, Partitions: count(r.Owners, id), Next: count(next, id)}
		if st, ok := out.states[id]; ok {
			np.State = st
		} else if m, ok := s.Members[id]; ok {
			np.State = m.State
		}
		moving := 0
		for i, o := range r.Owners {
			if o != next[i] && (o == id || next[i] == id) {
				moving++
			}
		}
		np.RingPct, np.NextPct, np.PendingPct = pct(np.Partitions, r.Size), pct(np.Next, r.Size), pct(moving, r.Size)
		p.Nodes = append(p.Nodes, np)
	}

	pairs := map[[2]string]int{}
	for _, t := range out.pending {
		pairs[[2]string{t.From, t.To}]++
	}
	for pair, n := range pairs {
		p.Transfers = append(p.Transfers, PairTransfers{From: pair[0], To: pair[1], Partitions: n})
	}
	slices.SortFunc(p.Transfers, func(a, b PairTransfers) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})

	nr, err := ring.New(ring.Config{Size: r.Size}, next, r.Epoch+1)
	if err != nil {
		return nil, fmt.Errorf("meta: plan: %w", err)
	}
	p.Warnings = warnings(s, nr)
	return p, nil
}

// warnings lists what an operator should know before committing: replicas
// that must share a node, data that force changes may lose, members down.
func warnings(s *State, next *ring.Ring) []string {
	var w []string
	n := s.Ring.TargetN
	if v := next.Violations(n); len(v) > 0 {
		msg := fmt.Sprintf("n_val %d: %d preference lists have replicas on the same node", n, len(v))
		if m := len(next.Members()); !ring.Feasible(next.Size(), m, n) {
			msg += fmt.Sprintf(" (%d nodes cannot hold every %d consecutive of %d partitions apart; add nodes)",
				m, n, next.Size())
		}
		w = append(w, msg)
	}
	for _, c := range s.Staged {
		switch c.Kind {
		case ChangeForceRemove:
			w = append(w, fmt.Sprintf("force-remove %s: its replicas are reassigned without handoff; "+
				"data only %s held is lost unless other replicas have it", c.Node, c.Node))
		case ChangeForceReplace:
			w = append(w, fmt.Sprintf("force-replace %s with %s: its replicas pass to %s without handoff; "+
				"data only %s held is lost unless other replicas have it", c.Node, c.Target, c.Target, c.Node))
		}
	}
	for _, id := range next.Members() {
		if m, ok := s.Members[id]; ok && m.State == Down {
			w = append(w, fmt.Sprintf("%s is down: its replicas are served by fallbacks until it is back or replaced", id))
		}
	}
	return w
}

// pct is n of size as a percentage, rounded to two decimals.
func pct(n, size int) float64 {
	return math.Round(10000*float64(n)/float64(size)) / 100
}
