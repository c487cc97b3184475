package sim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cairnkv/cairn/internal/lincheck"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// seen is what a client last read or wrote on a key: the value and its
// causal context, which a compare-and-set or delete sends back.
type seen struct {
	value string
	ctx   object.Context
}

// client runs the compare-and-set workload until ctx ends. Each operation
// draws its think time, key, member and kind from the client's own
// seeded stream, the same four draws whatever happened before, so that a
// seed fixes every client's sequence of choices; what a choice becomes
// (a compare-and-set needs a value read) depends on the answers.
//
// Reads and writes go through node.Metadata on a random member, which
// forwards to the leader if it does not lead.
func (s *strongSim) client(ctx context.Context, c int) {
	rng := rand.New(rand.NewPCG(uint64(s.cfg.Seed), 0x636c69656e74+uint64(c)))
	last := map[string]seen{}
	for i := 0; ; i++ {
		think := time.Duration(rng.IntN(40))*time.Millisecond + time.Duration(c)*time.Microsecond
		key := fmt.Sprintf("k%d", rng.IntN(s.cfg.Keys))
		via := s.mem[s.ids[rng.IntN(len(s.ids))]]
		roll := rng.IntN(20)
		select {
		case <-ctx.Done():
			return
		case <-time.After(think):
		}
		g := via.current()
		if g == nil {
			continue // the member is down: nothing was sent
		}
		prev, known := last[key]
		switch {
		case roll < 9 || (roll == 19 && (!s.cfg.Deletes || !known || prev.value == "")):
			s.read(g, c, key, last)
		case roll < 19:
			in := lincheck.Input{Key: key, Kind: lincheck.Create, To: fmt.Sprintf("c%d-%d", c, i)}
			opts := node.PutOptions{IfNoneMatch: roll%2 == 0} // a create with no context, or If-None-Match
			if known && prev.value != "" {
				in.Kind, in.From, opts = lincheck.CAS, prev.value, node.PutOptions{Context: prev.ctx}
			}
			s.write(g, c, in, last, func(ctx context.Context) (*object.Object, error) {
				return g.StrongPut(ctx, strongLocation(key), object.Content{Value: []byte(in.To), ContentType: "text/plain"}, opts)
			})
		default:
			in := lincheck.Input{Key: key, Kind: lincheck.Delete, From: prev.value}
			s.write(g, c, in, last, func(ctx context.Context) (*object.Object, error) {
				return nil, g.StrongDelete(ctx, strongLocation(key), node.DeleteOptions{Context: prev.ctx})
			})
		}
	}
}

// strongLocation is where the strong workload's key lives.
func strongLocation(key string) node.Location {
	return node.Location{Type: strongType, Bucket: "sim", Key: key}
}

// read is one linearizable read. A failed read has no effect: it is
// counted, not recorded.
func (s *strongSim) read(md node.Metadata, c int, key string, last map[string]seen) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
	defer cancel()
	call := s.hist.Now()
	o, err := md.StrongGet(ctx, strongLocation(key))
	var out lincheck.Output
	switch {
	case errors.Is(err, node.ErrNotFound):
		// Absent, or a tombstone whose context a delete left.
		last[key] = seen{}
	case err != nil:
		s.mu.Lock()
		s.failedReads++
		s.mu.Unlock()
		if !errors.Is(err, meta.ErrNoQuorum) {
			s.violate("c%d: read %s: unexpected error: %v", c, key, err)
		}
		return
	default:
		vals := o.Values()
		if len(vals) != 1 {
			s.violate("c%d: read %s: %d values in a keyspace without siblings", c, key, len(vals))
			return
		}
		out.Value = string(vals[0].Value)
		last[key] = seen{value: out.Value, ctx: o.Context()}
	}
	s.hist.Add(c, lincheck.Input{Key: key, Kind: lincheck.Read}, out, call)
}

// write runs one create, compare-and-set or delete and records its
// outcome: applied, refused (a conflict, or a delete of an absent key),
// or unknown (anything else: the leader may have applied it).
func (s *strongSim) write(md node.Metadata, c int, in lincheck.Input, last map[string]seen, do func(context.Context) (*object.Object, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.OpTimeout)
	defer cancel()
	call := s.hist.Now()
	o, err := do(ctx)
	var out lincheck.Output
	switch {
	case err == nil:
		out.OK = true
		if in.Kind == lincheck.Delete {
			last[in.Key] = seen{}
		} else {
			last[in.Key] = seen{value: in.To, ctx: o.Context()}
		}
	case errors.Is(err, node.ErrConflict), errors.Is(err, node.ErrNotFound):
		delete(last, in.Key) // read again before the next write
	default:
		out.Unknown = true
		delete(last, in.Key)
		if !errors.Is(err, meta.ErrNoQuorum) {
			s.violate("c%d: %s: unexpected error: %v", c, lincheck.Describe(in, out), err)
		}
	}
	s.hist.Add(c, in, out, call)
}
