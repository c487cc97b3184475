package group

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairnkv/cairn/internal/lincheck"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// runLinearizabilityWorkload runs clients against a three-voter group
// while a nemesis isolates the leader or a follower and heals, and
// returns the history. Reads go to whichever node the client picked, so
// an isolated node serves some of them.
func runLinearizabilityWorkload(t *testing.T, seed uint64, unsafeReads bool, opsTotal int) []porcupine.Operation {
	c := newTestCluster(t, 3, 3, func(cfg *Config) { cfg.UnsafeLocalReads = unsafeReads })
	ctx := bg(t)
	if _, err := c.leader().g.CreateType(ctx, "sc", []byte(`{"consistent":true}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.leader().g.ActivateType(ctx, "sc"); err != nil {
		t.Fatal(err)
	}
	c.converged()

	h := lincheck.NewHistory(time.Now)
	keys := []string{"a", "b", "c"}
	const clients = 6
	per := opsTotal / clients
	stop := make(chan struct{})
	var nemesis sync.WaitGroup
	nemesis.Add(1)
	go func() {
		defer nemesis.Done()
		rng := rand.New(rand.NewPCG(seed, 99))
		ids := c.ids()
		for round := 0; ; round++ {
			victim := ids[rng.IntN(len(ids))]
			if l := c.leader(); l != nil && round%2 == 0 {
				victim = l.id
			}
			c.net.Isolate(victim)
			select {
			case <-stop:
				c.net.Heal()
				return
			case <-time.After(time.Duration(150+rng.IntN(200)) * time.Millisecond):
			}
			c.net.Heal()
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(50+rng.IntN(100)) * time.Millisecond):
			}
		}
	}()

	var wg sync.WaitGroup
	for cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(cl)))
			last := map[string]struct {
				value string
				ctx   object.Context
			}{}
			// Clients are paced so the run spans many nemesis rounds.
			pace := time.NewTicker(20 * time.Millisecond)
			defer pace.Stop()
			for i := range per {
				<-pace.C
				key := keys[rng.IntN(len(keys))]
				n := c.nodes[rng.IntN(len(c.nodes))]
				loc := node.Location{Type: "sc", Bucket: "b", Key: key}
				octx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
				in := lincheck.Input{Key: key}
				var out lincheck.Output
				call := h.Now()
				switch r := rng.IntN(10); {
				case r < 5:
					in.Kind = lincheck.Read
					o, err := n.g.StrongGet(octx, loc)
					switch {
					case errors.Is(err, node.ErrNotFound):
					case err != nil:
						cancel()
						continue // a failed read has no effect
					default:
						out.Value = string(o.Values()[0].Value)
						last[key] = struct {
							value string
							ctx   object.Context
						}{out.Value, o.Context()}
					}
				default:
					in.To = fmt.Sprintf("c%d-%d", cl, i)
					opts := node.PutOptions{}
					prev, ok := last[key]
					if ok && r < 9 {
						in.Kind, in.From, opts.Context = lincheck.CAS, prev.value, prev.ctx
					} else {
						in.Kind, opts.IfNoneMatch = lincheck.Create, true
					}
					_, err := n.g.StrongPut(octx, loc, object.Content{Value: []byte(in.To)}, opts)
					switch {
					case err == nil:
						out.OK = true
					case errors.Is(err, node.ErrConflict):
					default:
						out.Unknown = true
					}
				}
				cancel()
				h.Add(cl, in, out, call)
			}
		}()
	}
	wg.Wait()
	close(stop)
	nemesis.Wait()
	return h.Operations()
}

func checkLinearizable(t *testing.T, ops []porcupine.Operation) porcupine.CheckResult {
	res, _ := lincheck.Check(ops, time.Minute)
	return res
}

func summarize(ops []porcupine.Operation) string { return lincheck.Summarize(ops).String() }

// TestLinearizableUnderPartitions: reads, creates and compare-and-sets
// through every member while leaders and followers are isolated and
// healed form a linearizable history.
func TestLinearizableUnderPartitions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a partitioned cluster for several seconds")
	}
	ops := runLinearizabilityWorkload(t, 1, false, 1200)
	t.Log(summarize(ops))
	if len(ops) < 600 {
		t.Fatalf("only %d operations completed", len(ops))
	}
	if res := checkLinearizable(t, ops); res != porcupine.Ok {
		t.Fatalf("history is %s, want linearizable (set CAIRN_PORCUPINE_HTML=/tmp/h.html to see it)", res)
	}
}

// TestLinearizabilityCheckCatchesStaleReads runs the same workload with
// reads served from the local copy: the checker must find the history
// not linearizable, or the test above proves nothing.
func TestLinearizabilityCheckCatchesStaleReads(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a partitioned cluster for several seconds")
	}
	ops := runLinearizabilityWorkload(t, 1, true, 1200)
	t.Log(summarize(ops))
	if res := checkLinearizable(t, ops); res != porcupine.Illegal {
		t.Fatalf("history with stale local reads checked as %s, want Illegal", res)
	}
}
