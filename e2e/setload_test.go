//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cairnkv/cairn/client"
)

// errNotSet: a value read is not a JSON array of strings, which no
// client of the test wrote.
var errNotSet = errors.New("e2e: a value that is not a set")

// decodeSet reads a set value: a JSON array of strings.
func decodeSet(v []byte) (map[string]bool, error) {
	set := map[string]bool{}
	if len(v) == 0 {
		return set, nil
	}
	var elems []string
	if err := json.Unmarshal(v, &elems); err != nil {
		return nil, fmt.Errorf("%w: %q: %v", errNotSet, v, err)
	}
	for _, e := range elems {
		set[e] = true
	}
	return set, nil
}

func encodeSet(set map[string]bool) []byte {
	elems := make([]string, 0, len(set))
	for e := range set {
		elems = append(elems, e)
	}
	sort.Strings(elems)
	b, _ := json.Marshal(elems)
	return b
}

// unionSiblings is the union of the sets of every live sibling.
func unionSiblings(sibs []client.Sibling) (map[string]bool, error) {
	u := map[string]bool{}
	for _, s := range sibs {
		if s.Deleted {
			continue
		}
		set, err := decodeSet(s.Value)
		if err != nil {
			return nil, err
		}
		for e := range set {
			u[e] = true
		}
	}
	return u, nil
}

// unionResolver merges siblings by set union: it takes its own output as
// input, as a merging Resolver must.
var unionResolver = client.ResolverFunc(func(_ client.Location, sibs []client.Sibling) (client.Sibling, error) {
	u, err := unionSiblings(sibs)
	if err != nil {
		return client.Sibling{}, err
	}
	return client.Sibling{Value: encodeSet(u), ContentType: "application/json"}, nil
})

// setHistory is what the set clients did: per key, every element
// attempted and every element acknowledged.
type setHistory struct {
	mu        sync.Mutex
	attempted map[string]map[string]bool
	acked     map[string]map[string]bool
	nAttempt  int
	nAck      int
	errs      map[string]int // error kind → count, for the report
}

func newSetHistory() *setHistory {
	return &setHistory{attempted: map[string]map[string]bool{}, acked: map[string]map[string]bool{}, errs: map[string]int{}}
}

func (h *setHistory) add(m map[string]map[string]bool, key, elem string) {
	if m[key] == nil {
		m[key] = map[string]bool{}
	}
	m[key][elem] = true
}

// runSetLoad runs clients set clients adding elements to keys of bucket
// until ctx ends.
func runSetLoad(ctx context.Context, bucket string, keys []string, clients int, h *setHistory) error {
	var wg sync.WaitGroup
	errc := make(chan error, clients)
	for i := range clients {
		cfg := client.DefaultConfig()
		for _, n := range ringNodes {
			cfg.Nodes = append(cfg.Nodes, httpAddr(n))
		}
		cfg.Timeout = 3 * time.Second
		cfg.DownFor = 2 * time.Second
		cfg.Resolver = unionResolver
		c, err := client.New(cfg)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			for n := 0; ctx.Err() == nil; n++ {
				key := keys[rng.IntN(len(keys))]
				elem := fmt.Sprintf("c%d-%d", i, n)
				h.mu.Lock()
				h.add(h.attempted, key, elem)
				h.nAttempt++
				h.mu.Unlock()
				loc := client.Location{Bucket: bucket, Key: key}
				_, err := c.Update(context.Background(), loc, func(old *client.Object) (*client.Object, error) {
					set, err := decodeSet(old.Value())
					if err != nil {
						return nil, err
					}
					set[elem] = true
					old.SetValue(encodeSet(set), "application/json")
					return old, nil
				})
				h.mu.Lock()
				if err == nil {
					h.add(h.acked, key, elem)
					h.nAck++
				} else {
					h.errs[errKind(err)]++
				}
				h.mu.Unlock()
				// Any other failure (quorum, unavailable, a timeout) leaves
				// the element attempted but not acknowledged.
				if errors.Is(err, errNotSet) {
					errc <- fmt.Errorf("e2e: client %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func errKind(err error) string {
	for _, s := range []error{client.ErrQuorum, client.ErrUnavailable, client.ErrConflict, client.ErrNotFound, client.ErrBadRequest} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "deadline"
	}
	return "other"
}

// convergence is the cluster's state of a bucket once it stopped changing.
type convergence struct {
	sets     map[string]map[string]bool // key → union of its siblings
	siblings int                        // keys with more than one sibling
	took     time.Duration
	polls    int
	lastErr  error
}

// awaitConvergence polls every key with r=all through a client without a
// Resolver until every read succeeds and every key's union is the same as
// on the previous poll, or until limit. The time to convergence is when
// the first of the two polls that agree began.
func awaitConvergence(bucket string, keys []string, limit time.Duration) (convergence, error) {
	cfg := client.DefaultConfig()
	for _, n := range ringNodes {
		cfg.Nodes = append(cfg.Nodes, httpAddr(n))
	}
	cfg.Timeout = 5 * time.Second
	c, err := client.New(cfg)
	if err != nil {
		return convergence{}, err
	}
	defer c.Close()
	start := time.Now()
	var prev map[string]map[string]bool
	var cv convergence
	var prevAt time.Duration // when the poll that read prev began
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for ; ; <-tick.C {
		cv.polls++
		at := time.Since(start)
		cur, sibs, err := readAll(c, bucket, keys)
		if err == nil && prev != nil && sameSets(prev, cur) {
			// Converged since the first of the two polls that agree.
			cv.sets, cv.siblings, cv.took = cur, sibs, prevAt
			return cv, nil
		}
		if err != nil {
			cv.lastErr = err
			prev = nil
		} else {
			prev, prevAt = cur, at
		}
		if time.Since(start) > limit {
			return cv, fmt.Errorf("e2e: no convergence within %s (%d polls; last error: %v)", limit, cv.polls, cv.lastErr)
		}
	}
}

func readAll(c *client.Client, bucket string, keys []string) (map[string]map[string]bool, int, error) {
	sets := map[string]map[string]bool{}
	sibs := 0
	for _, k := range keys {
		obj, err := c.Get(context.Background(), client.Location{Bucket: bucket, Key: k}, client.R(client.All))
		if errors.Is(err, client.ErrNotFound) {
			sets[k] = map[string]bool{}
			continue
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read %s: %w", k, err)
		}
		u, err := unionSiblings(obj.Siblings)
		if err != nil {
			return nil, 0, err
		}
		if len(obj.Siblings) > 1 {
			sibs++
		}
		sets[k] = u
	}
	return sets, sibs, nil
}

func sameSets(a, b map[string]map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, sa := range a {
		sb := b[k]
		if len(sa) != len(sb) {
			return false
		}
		for e := range sa {
			if !sb[e] {
				return false
			}
		}
	}
	return true
}

// verdict compares the converged sets with the history.
type verdict struct {
	lost, phantom     int
	lostEx, phantomEx []string // a few examples, "key:elem"
}

func judge(h *setHistory, sets map[string]map[string]bool) verdict {
	var v verdict
	for key, acked := range h.acked {
		for e := range acked {
			if !sets[key][e] {
				v.lost++
				v.lostEx = append(v.lostEx, key+":"+e)
			}
		}
	}
	for key, set := range sets {
		for e := range set {
			if !h.attempted[key][e] {
				v.phantom++
				v.phantomEx = append(v.phantomEx, key+":"+e)
			}
		}
	}
	slices.Sort(v.lostEx)
	slices.Sort(v.phantomEx)
	return v
}
