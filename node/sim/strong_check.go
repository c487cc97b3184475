package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairnkv/cairn/internal/lincheck"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// finalReads reads every key once the group is healed, through each
// member in turn, retrying until a read succeeds: after the heal a
// leader must come back and serve them within Settle. The reads join the
// history as a client of their own, so the check covers the final state.
func (s *strongSim) finalReads() {
	c := s.cfg.Clients // the final reader's client id
	deadline := time.Now().Add(s.cfg.Settle)
	for k := range s.cfg.Keys {
		key := fmt.Sprintf("k%d", k)
		for try := 0; ; try++ {
			if !time.Now().Before(deadline) {
				s.violate("final read of %s: no member served it within %v of the heal", key, s.cfg.Settle)
				break
			}
			g := s.mem[s.ids[try%len(s.ids)]].current()
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
			call := s.hist.Now()
			o, err := g.StrongGet(ctx, strongLocation(key))
			cancel()
			var out lincheck.Output
			switch {
			case errors.Is(err, node.ErrNotFound):
			case err != nil:
				if !errors.Is(err, meta.ErrNoQuorum) {
					s.violate("final read of %s: unexpected error: %v", key, err)
				}
				continue
			default:
				out.Value = string(o.Values()[0].Value)
			}
			s.hist.Add(c, lincheck.Input{Key: key, Kind: lincheck.Read}, out, call)
			s.trace.logf("final read %s = %q", key, out.Value)
			break
		}
	}
}

// checkConvergence waits until every member has applied every committed
// entry and compares their strongly consistent keys: after the heal they
// must hold the same bytes.
func (s *strongSim) checkConvergence() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Settle)
	defer cancel()
	if err := s.converge(ctx); err != nil {
		s.violate("convergence: %v", err)
		return
	}
	var ref map[string][]byte
	var refID string
	for _, id := range s.ids {
		st := s.mem[id].current().FSM().State()
		if ref == nil {
			ref, refID = st.Strong, id
			continue
		}
		union := maps.Clone(ref)
		maps.Copy(union, st.Strong)
		for _, k := range slices.Sorted(maps.Keys(union)) {
			if !bytes.Equal(ref[k], st.Strong[k]) {
				s.violate("convergence: strong key %q differs: %s has %d bytes, %s has %d", k, refID, len(ref[k]), id, len(st.Strong[k]))
			}
		}
	}
	s.trace.logf("converged: %d strong keys on every member", len(ref))
}

// checkHistory runs porcupine on the history and records a violation if
// it is not linearizable (or the check ran out of time), with the
// operations of the keys at fault as the report's history.
func (r *StrongResult) checkHistory() {
	res, _ := lincheck.Check(r.ops, r.Config.CheckTimeout)
	r.Check = res
	switch res {
	case porcupine.Ok:
		return
	case porcupine.Unknown:
		r.Violations = append(r.Violations, fmt.Sprintf("linearizability check inconclusive after %v: %s", r.Config.CheckTimeout, r.Ops))
		return
	}
	byKey := map[string][]porcupine.Operation{}
	for _, op := range r.ops {
		k := op.Input.(lincheck.Input).Key
		byKey[k] = append(byKey[k], op)
	}
	var bad []porcupine.Operation
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		if res, _ := lincheck.Check(byKey[k], r.Config.CheckTimeout); res == porcupine.Illegal {
			r.Violations = append(r.Violations, fmt.Sprintf("history of key %s is not linearizable (%d operations)", k, len(byKey[k])))
			bad = append(bad, byKey[k]...)
		}
	}
	if len(bad) == 0 {
		r.Violations = append(r.Violations, "history is not linearizable")
		bad = r.ops
	}
	r.History = lincheck.Tail(bad, r.Config.Trace)
}
