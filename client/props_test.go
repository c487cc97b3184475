package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestBucketProps: get, set (a merge), reset, and the type's properties.
func TestBucketProps(t *testing.T) {
	c := newTestCluster(t).client(t)
	ctx := context.Background()
	p, err := c.BucketProps(ctx, "", "b")
	if err != nil {
		t.Fatal(err)
	}
	if p["n_val"] != float64(3) || p["allow_mult"] != true || p["r"] != "quorum" || p["name"] != "b" {
		t.Fatalf("default props: %v", p)
	}
	if err := c.SetBucketProps(ctx, "default", "b", Props{"n_val": 2, "r": 1, "allow_mult": false}); err != nil {
		t.Fatal(err)
	}
	p, err = c.BucketProps(ctx, "default", "b")
	if err != nil {
		t.Fatal(err)
	}
	if p["n_val"] != float64(2) || p["r"] != float64(1) || p["allow_mult"] != false || p["w"] != "quorum" {
		t.Fatalf("after set: %v", p)
	}
	// What was read can be sent back (read-only names are ignored).
	if err := c.SetBucketProps(ctx, "", "b", p); err != nil {
		t.Fatalf("round trip: %v", err)
	}
	// The new n_val is the bound of a quorum.
	if _, err := c.Get(ctx, Location{Bucket: "b", Key: "k"}, R(Q(3))); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("r=3 over n_val 2: %v", err)
	}
	err = c.SetBucketProps(ctx, "", "b", Props{"colour": "red"})
	var e *Error
	if !errors.Is(err, ErrBadRequest) || !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("unknown property: %v", err)
	}
	if err := c.ResetBucketProps(ctx, "", "b"); err != nil {
		t.Fatal(err)
	}
	if p, err := c.BucketProps(ctx, "", "b"); err != nil || p["n_val"] != float64(3) {
		t.Fatalf("after reset: %v, %v", p, err)
	}
	tp, err := c.TypeProps(ctx, "strong")
	if err != nil || tp["consistent"] != true {
		t.Fatalf("type props: %v, %v", tp, err)
	}
	if tp, err := c.TypeProps(ctx, ""); err != nil || tp["consistent"] != false {
		t.Fatalf("default type props: %v, %v", tp, err)
	}
}

// TestListing: every key and bucket, streamed over several JSON objects,
// each once; an error from the callback stops the listing.
func TestListing(t *testing.T) {
	c := newTestCluster(t).client(t)
	ctx := context.Background()
	var want []string
	for i := range 10 {
		k := fmt.Sprintf("key %02d/x", i)
		want = append(want, k)
		if _, err := c.Put(ctx, NewObject(Location{Bucket: "listed", Key: k}, []byte("v"), "text/plain")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Put(ctx, NewObject(Location{Bucket: "other", Key: "k"}, []byte("v"), "text/plain")); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, Location{Bucket: "listed", Key: want[9]}, ""); err != nil {
		t.Fatal(err)
	}
	want = want[:9]
	var got []string
	if err := c.ListKeys(ctx, "", "listed", func(k string) error { got = append(got, k); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("keys %q, want %q", got, want)
	}

	stop := errors.New("enough")
	n := 0
	err := c.ListKeys(ctx, "", "listed", func(string) error {
		n++
		if n == 4 {
			return stop
		}
		return nil
	})
	if err != stop || n != 4 {
		t.Fatalf("stopped listing: %v after %d keys", err, n)
	}

	var buckets []string
	if err := c.ListBuckets(ctx, "default", func(b string) error { buckets = append(buckets, b); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(buckets)
	if !slices.Equal(buckets, []string{"listed", "other"}) {
		t.Fatalf("buckets %q", buckets)
	}
	if err := c.ListBuckets(ctx, "strong", func(string) error { return nil }); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("buckets of a consistent type: %v", err)
	}
	var none []string
	if err := c.ListKeys(ctx, "", "empty", func(k string) error { none = append(none, k); return nil }); err != nil || none != nil {
		t.Fatalf("empty bucket: %v, %v", none, err)
	}
}

// TestPingStats: the node answers and reports its counters.
func TestPingStats(t *testing.T) {
	c := newTestCluster(t).client(t)
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, Location{Bucket: "b", Key: "k"}); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	s, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if name, _ := s["nodename"].(string); name == "" {
		t.Fatalf("stats without a nodename: %v", s)
	}
	if _, ok := s["node_get_fsm_time"].(map[string]any); !ok {
		t.Fatalf("stats without percentiles: %v", s)
	}
}
