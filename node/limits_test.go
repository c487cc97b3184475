package node

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node/object"
)

// Blind writes pile up siblings until the limit; the write that would add
// one more is refused with ErrTooManySiblings and stores nothing; a write
// with the read's context, which replaces every sibling, is accepted and
// the key is usable again. The warning counter counts the writes above
// the warning threshold.
func TestSiblingLimit(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.WarnSiblings, cfg.MaxSiblings = 2, 4 })
	n := c.node("n1")
	loc := Location{Type: DefaultType, Bucket: "b", Key: "pile"}
	for i := range 4 {
		if _, err := cput(t, n, loc, strings.Repeat("v", i+1), putOpts(3, 0, 0)); err != nil {
			t.Fatalf("blind write %d: %v", i+1, err)
		}
	}
	_, err := cput(t, n, loc, "fifth", putOpts(3, 0, 0))
	if !errors.Is(err, ErrTooManySiblings) || !strings.Contains(err.Error(), "maximum is 4") {
		t.Fatalf("fifth blind write: %v, want ErrTooManySiblings saying the maximum", err)
	}
	// Through another coordinator (forwarded or not) the limit holds too.
	for _, id := range c.ids {
		if _, err := cput(t, c.node(id), loc, "again", putOpts(1, 0, 0)); !errors.Is(err, ErrTooManySiblings) {
			t.Fatalf("blind write through %s: %v, want ErrTooManySiblings", id, err)
		}
	}
	got, err := cget(t, n, loc, getOpts(3, 0))
	if err != nil || got.Len() != 4 {
		t.Fatalf("after refusals: %d siblings, %v; want 4 and nothing stored", got.Len(), err)
	}
	if w, r := n.metrics.siblingsWarned.Load(), n.metrics.siblingsRefused.Load(); w != 2 || r < 1 {
		t.Fatalf("warned %d (want 2: the 3rd and 4th sibling), refused %d", w, r)
	}
	opts := putOpts(3, 0, 0)
	opts.Context = got.Context()
	if _, err := cput(t, n, loc, "resolved", opts); err != nil {
		t.Fatalf("write with the read's context: %v", err)
	}
	got, err = cget(t, n, loc, getOpts(3, 0))
	if err != nil || got.Len() != 1 || values(got)[0] != "resolved" {
		t.Fatalf("after resolving: %v, %v", values(got), err)
	}
}

// With the key at the limit, a write whose context covers only some of
// the siblings keeps the count from growing: accepted.
func TestSiblingLimitPartialContextAccepted(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.WarnSiblings, cfg.MaxSiblings = 0, 2 })
	n := c.node("n1")
	loc := Location{Type: DefaultType, Bucket: "b", Key: "partial"}
	first, err := cput(t, n, loc, "a", func() PutOptions { o := putOpts(3, 0, 0); o.ReturnBody = true; return o }())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cput(t, n, loc, "b", putOpts(3, 0, 0)); err != nil {
		t.Fatal(err)
	}
	opts := putOpts(3, 0, 0)
	opts.Context = first.Context() // supersedes "a" only
	if _, err := cput(t, n, loc, "a2", opts); err != nil {
		t.Fatalf("write replacing one of two siblings at the limit: %v", err)
	}
	got, err := cget(t, n, loc, getOpts(3, 0))
	if err != nil || got.Len() != 2 {
		t.Fatalf("got %v, %v; want two siblings", values(got), err)
	}
}

// Keys and bucket names longer than the configured limits are refused
// with ErrBadRequest before anything is read or written; at the limit
// they are accepted.
func TestKeyAndBucketLimits(t *testing.T) {
	n := newTestNode(t, func(cfg *Config) { cfg.MaxKeyLen, cfg.MaxBucketLen = 16, 8 })
	ctx := context.Background()
	ok := Location{Type: DefaultType, Bucket: strings.Repeat("b", 8), Key: strings.Repeat("k", 16)}
	if _, err := n.Put(ctx, ok, object.Content{Value: []byte("v")}, DefaultPutOptions()); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	for _, loc := range []Location{
		{Type: DefaultType, Bucket: "b", Key: strings.Repeat("k", 17)},
		{Type: DefaultType, Bucket: strings.Repeat("b", 9), Key: "k"},
	} {
		if _, err := n.Put(ctx, loc, object.Content{Value: []byte("v")}, DefaultPutOptions()); !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), "maximum") {
			t.Fatalf("put %d-byte bucket, %d-byte key: %v, want ErrBadRequest naming the maximum", len(loc.Bucket), len(loc.Key), err)
		}
		if _, err := n.Get(ctx, loc, DefaultGetOptions()); !errors.Is(err, ErrBadRequest) {
			t.Fatalf("get %d-byte bucket, %d-byte key: %v, want ErrBadRequest", len(loc.Bucket), len(loc.Key), err)
		}
	}
	if _, err := n.SetBucketProps(ctx, DefaultType, strings.Repeat("b", 9), []byte(`{"props":{}}`)); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("props of a long bucket: %v, want ErrBadRequest", err)
	}
}

func TestConfigValidateLimits(t *testing.T) {
	for name, mut := range map[string]func(*Config){
		"key above ceiling":    func(c *Config) { c.MaxKeyLen = MaxKeyLen + 1 },
		"zero key":             func(c *Config) { c.MaxKeyLen = 0 },
		"bucket above ceiling": func(c *Config) { c.MaxBucketLen = MaxBucketLen + 1 },
		"negative siblings":    func(c *Config) { c.MaxSiblings = -1 },
		"warn above max":       func(c *Config) { c.WarnSiblings, c.MaxSiblings = 10, 5 },
	} {
		cfg := DefaultLocalConfig("n1")
		mut(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, cfg)
		}
	}
	cfg := DefaultLocalConfig("n1")
	cfg.WarnSiblings, cfg.MaxSiblings = 0, 0 // both off
	if err := cfg.Validate(); err != nil {
		t.Fatalf("limits off: %v", err)
	}
}
