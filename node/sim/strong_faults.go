package sim

import (
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairnkv/cairn/internal/lincheck"
)

// strongFaultKinds are the strong run's fault actions and their weights.
// Each draw takes the same values from the seed whatever the group's
// state, so that the schedule does not depend on Raft's timing.
var strongFaultKinds = []faultKind{
	{"partition", 2},      // a random split into two sides
	{"isolate-leader", 2}, // whoever leads now is cut off from the rest
	{"isolate", 1},        // a random member is cut off
	{"no-majority", 1},    // every member is cut off from every other
	{"one-way", 1},        // bytes from a to b are held
	{"crash", 2},          // a running member dies (one is always left)
	{"restart", 2},        // a dead member comes back on its stores
	{"heal", 2},           // every cut and hold ends
}

// injectFault draws one fault action and applies it. The action as drawn
// goes to the schedule; what it resolved to (the leader's name) only to
// the trace.
func (s *strongSim) injectFault() {
	kind := drawKind(s.rng, strongFaultKinds)
	// Every action draws these, used or not.
	pick, pick2 := s.rng.IntN(len(s.ids)), s.rng.IntN(len(s.ids)-1)
	split := s.rng.Uint64()
	// An outage may last a while, but not the whole phase, or the run
	// would test nothing: a network cut for longer than maxOutage heals,
	// and a majority down for longer restarts a member, in place of the
	// action drawn. The rule reads only the schedule, so it keeps it a
	// function of the seed.
	maxOutage := 4 * s.cfg.FaultEvery
	now := time.Now()
	switch {
	case !s.cutSince.IsZero() && now.Sub(s.cutSince) > maxOutage:
		kind = "heal"
	case !s.minoritySince.IsZero() && now.Sub(s.minoritySince) > maxOutage:
		kind = "restart"
	}
	var did, resolved string
	switch kind {
	case "partition":
		var a, b []string
		for i, id := range s.ids {
			if split&(1<<i) == 0 {
				a = append(a, id)
			} else {
				b = append(b, id)
			}
		}
		if len(a) > 0 && len(b) > 0 {
			s.net.Partition(a, b)
			did = strings.Join(a, ",") + " | " + strings.Join(b, ",")
		}
	case "isolate-leader":
		if l := s.leader(); l != nil {
			s.net.Isolate(l.ID())
			did, resolved = "the leader", l.ID()
		} else {
			did, resolved = "the leader", "none"
		}
	case "isolate":
		s.net.Isolate(s.ids[pick])
		did = s.ids[pick]
	case "no-majority":
		for _, id := range s.ids {
			s.net.Isolate(id)
		}
		if s.aloneSince < 0 {
			s.aloneSince = s.hist.Now()
		}
		did = "every member alone"
	case "one-way":
		a := s.ids[pick]
		b := others(s.ids, a)[pick2]
		s.net.Block(a, b)
		did = a + " -> " + b + " held"
	case "crash":
		if up := s.up(); len(up) > 1 {
			id := up[pick%len(up)]
			s.crash(s.mem[id])
			did = id
		}
	case "restart":
		if down := s.down(); len(down) > 0 {
			id := down[pick%len(down)]
			if err := s.boot(s.mem[id]); err != nil {
				s.violate("restart %s: %v", id, err)
			}
			did = id
		}
	case "heal":
		s.healNetwork()
		did = "every link"
	}
	if did == "" {
		return // nothing to do for that kind now
	}
	switch {
	case kind == "heal":
		s.cutSince = time.Time{}
	case kind != "crash" && kind != "restart" && s.cutSince.IsZero():
		s.cutSince = now
	}
	switch up := len(s.up()); {
	case up > len(s.ids)/2:
		s.minoritySince = time.Time{}
	case s.minoritySince.IsZero():
		s.minoritySince = now
	}
	s.faults[kind]++
	line := kind + ": " + did
	s.schedule = append(s.schedule, timestamp(s.faultStart)+line)
	if resolved != "" {
		line += " (" + resolved + ")"
	}
	s.trace.logf("fault %s", line)
}

// healAll ends every fault: links are restored and dead members restart.
func (s *strongSim) healAll() {
	s.healNetwork()
	for _, id := range s.down() {
		if err := s.boot(s.mem[id]); err != nil {
			s.violate("restart %s after the fault phase: %v", id, err)
		}
	}
	s.trace.logf("healed: every link restored, every member up")
}

// healNetwork ends every cut and hold, and with them a time when every
// member was alone.
func (s *strongSim) healNetwork() {
	s.net.Heal()
	if s.aloneSince >= 0 {
		s.alone = append(s.alone, [2]int64{s.aloneSince, s.hist.Now()})
		s.aloneSince = -1
	}
}

// checkAlone: while every member is cut off from every other, nothing can
// commit and no leader can confirm its lease, so no operation called then
// may return then with an answer (only with an error, or not at all).
// The bounds are strict: virtual time stands still while goroutines run,
// so an operation at the very instant of the cut or the heal may have
// run wholly before or after it.
func (s *strongSim) checkAlone(ops []porcupine.Operation) {
	for _, w := range s.alone {
		for _, op := range ops {
			if op.Call > w[0] && op.Return < w[1] {
				s.violate("answered while every member was alone (%.3fs to %.3fs): c%d %s",
					time.Duration(w[0]).Seconds(), time.Duration(w[1]).Seconds(), op.ClientId,
					lincheck.Describe(op.Input.(lincheck.Input), op.Output.(lincheck.Output)))
			}
		}
	}
}

func others(ids []string, not string) []string {
	var out []string
	for _, id := range ids {
		if id != not {
			out = append(out, id)
		}
	}
	return out
}
