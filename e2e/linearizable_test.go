//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/cairnkv/cairn/client"
	"github.com/cairnkv/cairn/internal/lincheck"
)

// strongType is the strongly consistent bucket type the e2e tests use.
const strongType = "e2e-strong"

// ensureStrongType creates and activates strongType with cairnctl; a type
// that exists already is fine.
func ensureStrongType() error {
	ctl := func(args ...string) (string, error) {
		out, err := exec.Command("../bin/cairnctl", append([]string{"--node", httpAddr("node1"), "--timeout", "10s"}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := ctl("bucket-type", "create", strongType, `{"consistent":true}`); err != nil && !strings.Contains(strings.ToLower(out), "exist") {
		return fmt.Errorf("e2e: bucket-type create: %v: %s", err, out)
	}
	if out, err := ctl("bucket-type", "activate", strongType); err != nil && !strings.Contains(strings.ToLower(out), "active") {
		return fmt.Errorf("e2e: bucket-type activate: %v: %s", err, out)
	}
	out, err := ctl("bucket-type", "status", strongType)
	if err != nil || !strings.Contains(out, strongType+" is active") {
		return fmt.Errorf("e2e: bucket-type %s not active: %v: %s", strongType, err, out)
	}
	return nil
}

// counterInput and counterOutput are a counter's operations: a read, or
// an increment (a read-modify-write whose write carries the read's
// context, so it applies only if nothing came between).
type counterInput struct {
	key  string
	incr bool
}

type counterOutput struct {
	value   int
	unknown bool // the increment failed: it may or may not have applied
}

// counterModel is a register holding an int, per key.
var counterModel = porcupine.Model{
	Partition: lincheck.PartitionBy(func(input any) string { return input.(counterInput).key }),
	Init:      func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		s, in, out := state.(int), input.(counterInput), output.(counterOutput)
		if !in.incr {
			return out.value == s, s
		}
		if out.unknown {
			return true, s + 1
		}
		return out.value == s+1, s + 1
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(counterInput), output.(counterOutput)
		switch {
		case !in.incr:
			return fmt.Sprintf("read(%s) → %d", in.key, out.value)
		case out.unknown:
			return fmt.Sprintf("incr(%s) → ?", in.key)
		}
		return fmt.Sprintf("incr(%s) → %d", in.key, out.value)
	},
}

// strongHistory is the recorded history of the strong workload.
type strongHistory struct {
	mu      sync.Mutex
	ops     []porcupine.Operation
	reads   int
	incrs   int
	unknown int // increments that failed: outcome unknown
	refused int // increments refused with a conflict: not applied, left out
	readErr int // failed reads: no effect, left out of the history
	// errs counts the failed operations by kind and error, so that a weak
	// history says why it is weak.
	errs map[string]int
}

// noteErr counts err under kind; the caller holds h.mu.
func (h *strongHistory) noteErr(kind string, err error) {
	if h.errs == nil {
		h.errs = map[string]int{}
	}
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	h.errs[kind+": "+msg]++
}

// runStrongLoad runs clients that increment and read keys of a bucket of
// strongType until ctx ends.
func runStrongLoad(ctx context.Context, bucket string, keys []string, clients int, h *strongHistory) error {
	epoch := time.Now()
	now := func() int64 { return int64(time.Since(epoch)) }
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for i := range clients {
		cfg := client.DefaultConfig()
		for _, n := range ringNodes {
			cfg.Nodes = append(cfg.Nodes, httpAddr(n))
		}
		cfg.Timeout = 7 * time.Second // above the server's 5 s apply timeout
		cfg.DownFor = 2 * time.Second
		c, err := client.New(cfg)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(i)+100, uint64(time.Now().UnixNano())))
			// A client whose increments had maxUnknown unknown outcomes
			// only reads from then on, as Jepsen retires a process after
			// an indeterminate operation: every open-ended increment is
			// concurrent with all that follows it, and a crowd of them is
			// beyond the checker.
			const maxUnknown = 3
			unknowns := 0
			for ctx.Err() == nil {
				key := keys[rng.IntN(len(keys))]
				loc := client.Location{Type: strongType, Bucket: bucket, Key: key}
				in := counterInput{key: key, incr: unknowns < maxUnknown && rng.IntN(2) == 0}
				op := porcupine.Operation{ClientId: i, Input: in, Call: now()}
				var out counterOutput
				var err error
				if in.incr {
					var stored *client.Object
					stored, err = c.Update(context.Background(), loc, func(old *client.Object) (*client.Object, error) {
						v, err := parseCounter(old.Value())
						if err != nil {
							return nil, err
						}
						old.SetValue([]byte(strconv.Itoa(v+1)), "text/plain")
						return old, nil
					})
					if err == nil {
						out.value, err = parseCounter(stored.Value())
						if err != nil {
							errc <- fmt.Errorf("e2e: increment of %s stored %q", key, stored.Value())
							return
						}
					}
				} else {
					var obj *client.Object
					obj, err = c.Get(context.Background(), loc)
					if errors.Is(err, client.ErrNotFound) {
						err = nil
					} else if err == nil {
						out.value, err = parseCounter(obj.Value())
						if err != nil {
							errc <- fmt.Errorf("e2e: read of %s: %q", key, obj.Value())
							return
						}
					}
				}
				op.Return = now()
				h.mu.Lock()
				switch {
				case err == nil:
					op.Output = out
					h.ops = append(h.ops, op)
					if in.incr {
						h.incrs++
					} else {
						h.reads++
					}
				case in.incr && errors.Is(err, client.ErrConflict):
					// Refused (412): it did not apply.
					h.refused++
				case in.incr:
					h.noteErr("increment", err)
					// It may have applied at any time after its call.
					op.Output, op.Return = counterOutput{unknown: true}, math.MaxInt64/2
					h.ops = append(h.ops, op)
					h.unknown++
					unknowns++
				default:
					h.noteErr("read", err)
					h.readErr++
				}
				h.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func parseCounter(v []byte) (int, error) {
	if len(v) == 0 {
		return 0, nil
	}
	return strconv.Atoi(string(v))
}

// checkLinearizable checks h with porcupine; a check that takes longer
// than limit answers Unknown.
func checkLinearizable(h *strongHistory, limit time.Duration) porcupine.CheckResult {
	h.mu.Lock()
	defer h.mu.Unlock()
	res, _ := porcupine.CheckOperationsVerbose(counterModel, h.ops, limit)
	return res
}
