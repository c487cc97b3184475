package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// gcounter is a grow-only counter: each writer's own count, merged by
// taking the largest count per writer. Merging is idempotent,
// commutative and associative, so siblings of counters merge without
// losing an increment.
type gcounter map[string]int

func (g gcounter) total() int {
	n := 0
	for _, v := range g {
		n += v
	}
	return n
}

func decodeCounter(b []byte) (gcounter, error) {
	g := gcounter{}
	if len(b) == 0 {
		return g, nil
	}
	return g, json.Unmarshal(b, &g)
}

// mergeCounters resolves counter siblings.
var mergeCounters = ResolverFunc(func(loc Location, sibs []Sibling) (Sibling, error) {
	merged := gcounter{}
	for _, s := range sibs {
		g, err := decodeCounter(s.Value)
		if err != nil {
			return Sibling{}, fmt.Errorf("counter %s: %w", loc, err)
		}
		for w, n := range g {
			merged[w] = max(merged[w], n)
		}
	}
	b, err := json.Marshal(merged)
	return Sibling{Value: b, ContentType: "application/json"}, err
})

// TestUpdateCounterUnderContention: 8 writers each add 1 ten times, at
// once, through Update on an eventually consistent bucket. Their writes
// make siblings, which the merging resolver folds together on the next
// read: no increment is lost.
func TestUpdateCounterUnderContention(t *testing.T) {
	var merges atomic.Int64
	counting := ResolverFunc(func(loc Location, sibs []Sibling) (Sibling, error) {
		merges.Add(1)
		return mergeCounters(loc, sibs)
	})
	c := newTestCluster(t).client(t, func(cfg *Config) { cfg.Resolver = counting })
	ctx := context.Background()
	loc := Location{Bucket: "counters", Key: "hits"}
	const writers, increments = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := "w" + strconv.Itoa(w)
			for range increments {
				_, err := c.Update(ctx, loc, func(old *Object) (*Object, error) {
					g, err := decodeCounter(old.Value())
					if err != nil {
						return nil, err
					}
					g[me]++
					b, err := json.Marshal(g)
					if err != nil {
						return nil, err
					}
					old.SetValue(b, "application/json")
					return old, nil
				})
				if err != nil {
					errs <- fmt.Errorf("writer %s: %w", me, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	o, err := c.Get(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	g, err := decodeCounter(o.Value())
	if err != nil {
		t.Fatal(err)
	}
	if g.total() != writers*increments {
		t.Fatalf("counter %v totals %d, want %d", g, g.total(), writers*increments)
	}
	for w := range writers {
		if n := g["w"+strconv.Itoa(w)]; n != increments {
			t.Errorf("writer w%d counted %d, want %d", w, n, increments)
		}
	}
	// Else the test proved nothing about siblings.
	if merges.Load() == 0 {
		t.Error("the writers never made siblings")
	}
	t.Logf("%d reads merged siblings", merges.Load())
}

// TestUpdateStrongCounter: on a consistent bucket type concurrent Updates
// conflict, and Update reads again and retries until each lands.
func TestUpdateStrongCounter(t *testing.T) {
	c := newTestCluster(t).client(t)
	ctx := context.Background()
	loc := Location{Type: "strong", Bucket: "counters", Key: "n"}
	const writers, increments = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range increments {
				if _, err := c.Update(ctx, loc, increment); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	o, err := c.Get(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	if string(o.Value()) != strconv.Itoa(writers*increments) {
		t.Fatalf("counter %q, want %d", o.Value(), writers*increments)
	}
}

// increment adds one to a decimal counter (absent: 0).
func increment(old *Object) (*Object, error) {
	n := 0
	if v := old.Value(); v != nil {
		var err error
		if n, err = strconv.Atoi(string(v)); err != nil {
			return nil, err
		}
	}
	old.SetValue([]byte(strconv.Itoa(n+1)), "text/plain")
	return old, nil
}

// TestUpdateContract: what fn sees and what its results do.
func TestUpdateContract(t *testing.T) {
	cl := newTestCluster(t)
	c := cl.client(t)
	ctx := context.Background()
	loc := Location{Bucket: "b", Key: "u"}

	// An absent key: an empty object with the location.
	o, err := c.Update(ctx, loc, func(old *Object) (*Object, error) {
		if old == nil || old.Location != loc || len(old.Siblings) != 0 || old.Context != "" {
			return nil, fmt.Errorf("fn got %+v for an absent key", old)
		}
		return NewObject(Location{Bucket: "elsewhere", Key: "ignored"}, []byte("1"), "text/plain"), nil
	})
	if err != nil || string(o.Value()) != "1" || o.Location != loc || o.Context == "" {
		t.Fatalf("first Update: %+v, %v", o, err)
	}
	// nil from fn: no write.
	same, err := c.Update(ctx, loc, func(*Object) (*Object, error) { return nil, nil })
	if err != nil || string(same.Value()) != "1" || same.Context != o.Context {
		t.Fatalf("Update without change: %+v, %v", same, err)
	}
	// fn's error ends Update as is.
	boom := errors.New("boom")
	if _, err := c.Update(ctx, loc, func(*Object) (*Object, error) { return nil, boom }); err != boom {
		t.Fatalf("Update with a failing fn: %v", err)
	}
	// Without a Resolver fn sees every sibling and must return one.
	if _, err := c.Put(ctx, NewObject(loc, []byte("blind"), "text/plain")); err != nil {
		t.Fatal(err)
	}
	o, err = c.Update(ctx, loc, func(old *Object) (*Object, error) {
		if len(old.Siblings) != 2 {
			return nil, fmt.Errorf("fn got %d siblings, want 2", len(old.Siblings))
		}
		old.SetValue([]byte("merged"), "text/plain")
		return old, nil
	})
	if err != nil || o.HasSiblings() || string(o.Value()) != "merged" {
		t.Fatalf("Update over siblings: %+v, %v", o, err)
	}
	// ReturnBody(false): nothing to return but the context, if any.
	if _, err := c.Update(ctx, loc, increment2, ReturnBody(false)); err != nil {
		t.Fatal(err)
	}
}

func increment2(old *Object) (*Object, error) {
	old.SetValue(append(old.Value(), '!'), "text/plain")
	return old, nil
}

// TestStrongConflicts: on a consistent type a stale context and a second
// create are ErrConflict (412), and CreateIfAbsent creates once.
func TestStrongConflicts(t *testing.T) {
	c := newTestCluster(t).client(t)
	ctx := context.Background()
	loc := Location{Type: "strong", Bucket: "b", Key: "k"}
	s := Sibling{Value: []byte("v1"), ContentType: "text/plain"}
	if err := c.CreateIfAbsent(ctx, loc, s); err != nil {
		t.Fatalf("CreateIfAbsent: %v", err)
	}
	err := c.CreateIfAbsent(ctx, loc, s)
	var e *Error
	if !errors.Is(err, ErrConflict) || !errors.As(err, &e) || e.Status != 412 {
		t.Fatalf("second CreateIfAbsent: %v, want ErrConflict (412)", err)
	}
	v1, err := c.Get(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	v1.SetValue([]byte("v2"), "text/plain")
	if _, err := c.Put(ctx, v1); err != nil {
		t.Fatalf("Put with the current context: %v", err)
	}
	v1.SetValue([]byte("v3"), "text/plain")
	if _, err := c.Put(ctx, v1); !errors.Is(err, ErrConflict) {
		t.Fatalf("Put with a stale context: %v, want ErrConflict", err)
	}
	if _, err := c.Put(ctx, NewObject(loc, []byte("blind"), "text/plain")); !errors.Is(err, ErrConflict) {
		t.Fatalf("blind Put of an existing strong key: %v, want ErrConflict", err)
	}
	if err := c.Delete(ctx, loc, v1.Context); !errors.Is(err, ErrConflict) {
		t.Fatalf("Delete with a stale context: %v, want ErrConflict", err)
	}
	cur, err := c.Get(ctx, loc)
	if err != nil || string(cur.Value()) != "v2" {
		t.Fatalf("after the refused writes: %+v, %v", cur, err)
	}
	if err := c.Delete(ctx, loc, cur.Context); err != nil {
		t.Fatal(err)
	}
	// A deleted key is absent again.
	if err := c.CreateIfAbsent(ctx, loc, s); err != nil {
		t.Fatalf("CreateIfAbsent over a delete: %v", err)
	}

	// Elsewhere CreateIfAbsent is checked by the server with a read.
	ev := Location{Bucket: "b", Key: "k"}
	if err := c.CreateIfAbsent(ctx, ev, s); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIfAbsent(ctx, ev, s); !errors.Is(err, ErrConflict) {
		t.Fatalf("second CreateIfAbsent on an eventual type: %v, want ErrConflict", err)
	}
}
