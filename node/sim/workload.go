package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// opTimeout bounds one client operation, in virtual time.
const opTimeout = 10 * time.Second

// history records the set workload: every element tried and every element
// acknowledged, with its key.
type history struct {
	mu        sync.Mutex
	attempted int
	tried     map[string]bool
	acked     map[string]string // element → key
	// deleted are the delete workload's keys whose delete was
	// acknowledged: nobody writes them again, so they must stay gone.
	deleted    []string
	lost       int
	phantom    int
	violations []string
}

func newHistory() *history {
	return &history{tried: map[string]bool{}, acked: map[string]string{}}
}

func (h *history) violate(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.violations = append(h.violations, fmt.Sprintf(format, args...))
}

// client runs the set workload until ctx ends: after a think time drawn
// from its own seeded source, it adds a unique element to a random key
// through a random node, by read-modify-write with the read's causal
// context, merging siblings by union.
func (s *sim) client(ctx context.Context, c int) {
	rng := rand.New(rand.NewPCG(uint64(s.cfg.Seed), uint64(c)+1))
	for i := 0; ; i++ {
		if ctx.Err() != nil {
			// Stopped during the last operation: with a think time of
			// zero the select below would find both cases ready, and
			// whether one more operation ran would be its coin toss.
			return
		}
		select {
		case <-ctx.Done():
			return
		// c µs on top of the think time: two clients never start an
		// operation at the same instant, where which went first would
		// be the scheduler's choice.
		case <-time.After(time.Duration(rng.IntN(50))*time.Millisecond + time.Duration(c)*time.Microsecond):
		}
		coord := s.ids[rng.IntN(len(s.ids))]
		if s.cfg.Deletes && rng.IntN(5) == 0 {
			s.writeThenDelete(coord, fmt.Sprintf("d%d-%d", c, i))
			continue
		}
		key := keyName(rng.IntN(s.cfg.Keys))
		elem := fmt.Sprintf("c%d-%d", c, i)
		s.hist.mu.Lock()
		s.hist.attempted++
		s.hist.tried[elem] = true
		s.hist.mu.Unlock()
		var err error
		if s.cfg.BlindPuts && rng.IntN(4) == 0 {
			err = s.blindAdd(coord, key, elem)
		} else {
			err = s.add(coord, key, elem)
		}
		if err == nil {
			s.hist.mu.Lock()
			s.hist.acked[elem] = key
			s.hist.mu.Unlock()
		}
	}
}

// add is one read-modify-write of the set workload through coord.
func (s *sim) add(coord, key, elem string) error {
	n := s.handle(coord)
	if n == nil {
		return errors.New("sim: coordinator down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	loc := location(key)
	obj, err := n.Get(ctx, loc, node.DefaultGetOptions())
	if err != nil && !errors.Is(err, node.ErrNotFound) {
		return err
	}
	set := members(obj)
	s.hist.checkRead(key, set)
	set[elem] = true
	var vctx object.Context
	if obj != nil {
		vctx = obj.Context()
	}
	opts := node.DefaultPutOptions()
	opts.W, opts.DW, opts.Context = 2, 2, vctx
	_, err = n.Put(ctx, loc, object.Content{Value: encodeSet(set), ContentType: "text/plain"}, opts)
	return err
}

// blindAdd writes elem to key through coord with no causal context and no
// read first: a sibling of whatever the key holds, which the next
// read-modify-write merges.
func (s *sim) blindAdd(coord, key, elem string) error {
	n := s.handle(coord)
	if n == nil {
		return errors.New("sim: coordinator down")
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	opts := node.DefaultPutOptions()
	opts.W, opts.DW = 2, 2
	_, err := n.Put(ctx, location(key), object.Content{Value: []byte(elem), ContentType: "text/plain"}, opts)
	return err
}

// checkRead records, as a violation, an element a client read that no
// client ever tried to add.
func (h *history) checkRead(key string, set map[string]bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range slices.Sorted(maps.Keys(set)) {
		if !h.tried[e] {
			h.phantom++
			h.violations = append(h.violations, fmt.Sprintf("%s: a client read element %s, never written", key, e))
		}
	}
}

// handle is the running incarnation of id, or nil when it is down.
func (s *sim) handle(id string) *node.Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up[id] {
		return nil
	}
	return s.nodes[id].n
}

// members is the union of the sets in obj's live siblings.
func members(obj *object.Object) map[string]bool {
	set := map[string]bool{}
	if obj == nil {
		return set
	}
	for _, c := range obj.Values() {
		if c.Deleted {
			continue
		}
		for _, e := range strings.Fields(string(c.Value)) {
			set[e] = true
		}
	}
	return set
}

func encodeSet(set map[string]bool) []byte {
	return []byte(strings.Join(slices.Sorted(maps.Keys(set)), " "))
}

// writeThenDelete is the delete workload: it writes key (in its own
// bucket, never written again) through coord and, if that was
// acknowledged, deletes it with the write's context. An acknowledged
// delete is recorded: the key must read as not found once the cluster has
// settled, whatever tombstone reaping and stale replicas did meanwhile.
func (s *sim) writeThenDelete(coord, key string) {
	n := s.handle(coord)
	if n == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	loc := deleteLocation(key)
	opts := node.DefaultPutOptions()
	opts.W, opts.DW, opts.ReturnBody = 2, 2, true
	obj, err := n.Put(ctx, loc, object.Content{Value: []byte(key), ContentType: "text/plain"}, opts)
	if err != nil || obj == nil {
		return
	}
	dopts := node.DefaultDeleteOptions()
	dopts.W, dopts.DW, dopts.Context = 2, 2, obj.Context()
	if err := n.Delete(ctx, loc, dopts); err == nil {
		s.hist.mu.Lock()
		s.hist.deleted = append(s.hist.deleted, key)
		s.hist.mu.Unlock()
	}
}

// deleteLocation is where the delete workload's keys live.
func deleteLocation(key string) node.Location {
	return node.Location{Type: node.DefaultType, Bucket: "simdel", Key: key}
}
