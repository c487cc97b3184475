package sim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing/synctest"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/store"
)

// faultKind is a kind of fault and its weight in the draw.
type faultKind struct {
	name   string
	weight int
}

var faultKinds = []faultKind{
	{"partition", 2},
	{"one-way", 1},
	{"crash", 2},
	{"restart", 2},
	{"heal-network", 2},
	{"corrupt", 1},
	{"clock-jump", 1},
	{"join", 1},
	{"leave", 1},
	{"retire", 2},
}

// drawKind draws one of kinds by weight: one draw from rng, whatever the
// kinds.
func drawKind(rng *rand.Rand, kinds []faultKind) string {
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	x := rng.IntN(total)
	for _, k := range kinds {
		if x < k.weight {
			return k.name
		}
		x -= k.weight
	}
	return ""
}

// injectFault draws one fault action and applies it. A clock jump is in
// the draw only when the config allows it, so that seeds found before it
// existed replay as they did.
func (s *sim) injectFault() {
	kinds := faultKinds
	kinds = slices.DeleteFunc(slices.Clone(kinds), func(k faultKind) bool {
		switch k.name {
		case "clock-jump":
			return !s.cfg.ClockJumps
		case "join", "leave":
			return !s.cfg.RingChanges
		case "retire":
			return !s.cfg.RingChanges || !s.cfg.Retires
		}
		return false
	})
	kind := drawKind(s.rng, kinds)
	var did string
	switch kind {
	case "partition":
		did = s.partition()
	case "one-way":
		a, b := s.ids[s.rng.IntN(len(s.ids))], s.ids[s.rng.IntN(len(s.ids))]
		if a != b {
			s.mu.Lock()
			s.cut[[2]string{a, b}] = true
			s.mu.Unlock()
			did = a + " cannot reach " + b
		}
	case "crash":
		if up := s.upNodes(); len(up) > 0 {
			id := up[s.rng.IntN(len(up))]
			s.crash(s.nodes[id])
			did = id
		}
	case "restart":
		if down := s.downNodes(); len(down) > 0 {
			id := down[s.rng.IntN(len(down))]
			if err := s.boot(s.nodes[id]); err != nil {
				s.hist.violate("restart %s: %v", id, err)
			}
			did = id
		}
	case "heal-network":
		s.mu.Lock()
		clear(s.cut)
		s.mu.Unlock()
		did = "all links"
	case "corrupt":
		if s.cfg.Corrupt {
			did = s.corruptOne()
		}
	case "join":
		did = s.changeRing(true)
	case "leave":
		did = s.changeRing(false)
	case "retire":
		did = s.retire()
	case "clock-jump":
		id := s.ids[s.rng.IntN(len(s.ids))]
		d := time.Duration(s.rng.IntN(20_001)-10_000) * time.Millisecond
		s.nodes[id].clock.jump(d)
		did = fmt.Sprintf("%s by %v", id, d)
	}
	if did == "" {
		return // nothing to do for that kind now
	}
	s.faults[kind]++
	s.logf("fault %s: %s", kind, did)
}

// partition cuts a random proper subset of the nodes off from the rest,
// both ways.
func (s *sim) partition() string {
	var a, b []string
	for _, id := range s.ids {
		if s.rng.IntN(2) == 0 {
			a = append(a, id)
		} else {
			b = append(b, id)
		}
	}
	if len(a) == 0 || len(b) == 0 {
		return ""
	}
	s.mu.Lock()
	for _, x := range a {
		for _, y := range b {
			s.cut[[2]string{x, y}] = true
			s.cut[[2]string{y, x}] = true
		}
	}
	s.mu.Unlock()
	return strings.Join(a, ",") + " | " + strings.Join(b, ",")
}

// corruptOne damages the stored value of one replica of a key that has not
// been corrupted before, on a node that is up: a disk error the engine
// cannot see. The object checksum must catch it and repair must mend it.
func (s *sim) corruptOne() string {
	for _, k := range s.rng.Perm(s.cfg.Keys) {
		key := keyName(k)
		if s.corrupt[key] {
			continue
		}
		lb := location(key).Bytes()
		pl := s.ring.Preflist(lb, nVal)
		vn := pl[s.rng.IntN(len(pl))]
		if !s.isUp(vn.Node) {
			continue
		}
		sn := s.nodes[vn.Node]
		v, err := sn.mem.Get(store.Partition(vn.Partition), lb)
		if err != nil || len(v) == 0 {
			continue
		}
		if err := store.CorruptValue(sn.mem, store.Partition(vn.Partition), lb, s.rng.IntN(len(v))); err != nil {
			continue
		}
		s.corrupt[key] = true
		return key + " on " + vn.Node
	}
	return ""
}

// boundOutage heals every link once some link has been cut for
// Config.MaxOutage without a break: partitions drawn one after another
// stack up, and without a bound they could keep every node apart for the
// whole fault phase, leaving a run that acknowledges nothing and so tests
// nothing (seed 3834). It draws nothing from the seed.
func (s *sim) boundOutage() {
	if s.cfg.MaxOutage <= 0 {
		return
	}
	s.mu.Lock()
	cut := len(s.cut) > 0
	s.mu.Unlock()
	now := time.Now()
	switch {
	case !cut:
		s.cutSince = time.Time{}
	case s.cutSince.IsZero():
		s.cutSince = now
	case now.Sub(s.cutSince) >= s.cfg.MaxOutage:
		s.mu.Lock()
		clear(s.cut)
		s.mu.Unlock()
		s.cutSince = time.Time{}
		s.faults["outage-bound"]++
		s.logf("fault outage-bound: all links, after %v with some cut", s.cfg.MaxOutage)
	}
}

// healAll ends every fault: links are restored and crashed nodes restart.
func (s *sim) healAll() {
	s.mu.Lock()
	clear(s.cut)
	s.mu.Unlock()
	for _, id := range s.downNodes() {
		if err := s.boot(s.nodes[id]); err != nil {
			s.hist.violate("restart %s: %v", id, err)
		}
	}
	s.logf("healed: every link restored, every node up")
}

func (s *sim) upNodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.ids {
		if s.up[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

func (s *sim) downNodes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.ids {
		if !s.up[id] {
			ids = append(ids, id)
		}
	}
	return ids
}

// applyDetections is the modelled gossip: once per detectAfter, every node
// that is up learns the truth about the others. A peer is down to it when
// the peer crashed or the two are cut off both ways (a one-way cut is
// bridged by indirect probes, as memberlist's are). A change is passed on
// as gossip's events are: MarkDown and MarkUp for the hint window, and a
// wake of hinted handoff when a peer comes back.
//
// A node's handoff loop wakes at a MarkDown, a wake or a new ring, and
// reads its view and its ring as it runs: so each node learns all its
// news before it is woken, and the loops woken finish looking before a
// ring is published, or what they saw would depend on the scheduler.
//
// It reports whether any view changed.
func (s *sim) applyDetections() (changed bool) {
	now := time.Now()
	if now.Before(s.nextGossip) {
		return false
	}
	s.nextGossip = now.Add(detectAfter)
	s.mu.Lock()
	up := maps.Clone(s.up)
	cut := maps.Clone(s.cut)
	s.mu.Unlock()
	for _, obs := range s.ids {
		if up[obs] && s.tell(obs, up, cut, now) {
			changed = true
		}
	}
	if changed {
		synctest.Wait()
	}
	// A node back in touch with a majority learns the ring it missed.
	return s.publish() || changed
}

// tell gives node obs the truth about the others, then wakes what it
// wakes. It reports whether obs's view changed.
func (s *sim) tell(obs string, up map[string]bool, cut map[[2]string]bool, now time.Time) bool {
	sn := s.nodes[obs]
	seen := map[string]bool{}
	var subs []string
	for _, sub := range s.ids {
		if sub == obs {
			continue
		}
		seen[sub] = up[sub] && !(cut[[2]string{obs, sub}] && cut[[2]string{sub, obs}])
		if sn.view.Up(sub) == seen[sub] {
			continue
		}
		sn.view.Set(sub, seen[sub])
		subs = append(subs, sub)
		s.logf("gossip %s sees %s %s", obs, sub, map[bool]string{true: "up", false: "down"}[seen[sub]])
	}
	woke := false
	for _, sub := range subs {
		if seen[sub] {
			sn.n.MarkUp(sub)
			woke = true
		} else {
			sn.n.MarkDown(sub, now)
		}
	}
	if woke {
		sn.n.WakeHandoff()
	}
	return len(subs) > 0
}

// keyName is the name of workload key k.
func keyName(k int) string { return "k" + string(rune('a'+k)) }

// location is where a workload key lives.
func location(key string) node.Location {
	return node.Location{Type: node.DefaultType, Bucket: "sim", Key: key}
}
