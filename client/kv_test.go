package client

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGetPutDelete: a value written comes back with everything that
// describes it, a write with the read's context replaces it, and a delete
// leaves a not-found carrying the tombstone's context.
func TestGetPutDelete(t *testing.T) {
	c := newTestCluster(t).client(t)
	ctx := context.Background()
	// A key with a slash, a plus and a space: each must survive the path.
	loc := Location{Bucket: "b 1", Key: "a/b+c d"}

	if _, err := c.Get(ctx, loc); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a new key: %v, want ErrNotFound", err)
	}
	s := Sibling{
		Value: []byte("héllo"), ContentType: "text/plain", Charset: "utf-8",
		Meta:  map[string]string{"colour": "blue", "Size": "L"},
		Links: []Link{{Bucket: "b 1", Key: "x/y", Tag: "rel one"}, {Bucket: "other", Key: "k", Tag: ""}},
	}
	before := time.Now().Add(-time.Second)
	if out, err := c.Put(ctx, &Object{Location: loc, Siblings: []Sibling{s}}); err != nil || out != nil {
		t.Fatalf("Put: %v, %v; want nil, nil", out, err)
	}
	got, err := c.Get(ctx, loc)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.HasSiblings() || got.Context == "" || got.Location != loc {
		t.Fatalf("Get: %+v", got)
	}
	g := got.Siblings[0]
	if string(g.Value) != "héllo" || g.ContentType != "text/plain" || g.Charset != "utf-8" || g.ContentEncoding != "" {
		t.Errorf("value and type: %q %q %q %q", g.Value, g.ContentType, g.Charset, g.ContentEncoding)
	}
	if want := map[string]string{"colour": "blue", "size": "L"}; !maps.Equal(g.Meta, want) {
		t.Errorf("meta %v, want %v (names lowercased)", g.Meta, want)
	}
	if !slices.Equal(g.Links, s.Links) {
		t.Errorf("links %+v, want %+v", g.Links, s.Links)
	}
	if g.VTag == "" || g.LastModified.Before(before) || g.Deleted {
		t.Errorf("vtag %q, last modified %v, deleted %v", g.VTag, g.LastModified, g.Deleted)
	}

	// With the read's context the write replaces the value.
	got.SetValue([]byte("v2"), "text/plain")
	stored, err := c.Put(ctx, got, ReturnBody(true), W(All))
	if err != nil {
		t.Fatalf("Put with context: %v", err)
	}
	if stored.HasSiblings() || string(stored.Value()) != "v2" || stored.Context == "" || stored.Context == got.Context {
		t.Fatalf("ReturnBody: %+v", stored)
	}
	if o, err := c.Get(ctx, loc, R(All)); err != nil || o.HasSiblings() || string(o.Value()) != "v2" {
		t.Fatalf("Get after the causal write: %+v, %v", o, err)
	}

	if err := c.Delete(ctx, loc, stored.Context); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	gone, err := c.Get(ctx, loc)
	if !errors.Is(err, ErrNotFound) || gone == nil || gone.Context == "" || len(gone.Siblings) != 0 {
		t.Fatalf("Get after Delete: %+v, %v; want ErrNotFound with the tombstone's context", gone, err)
	}
	// A write with the tombstone's context makes no sibling of the delete.
	gone.SetValue([]byte("again"), "text/plain")
	if _, err := c.Put(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if o, err := c.Get(ctx, loc); err != nil || o.HasSiblings() || string(o.Value()) != "again" {
		t.Fatalf("Get after the write over the delete: %+v, %v", o, err)
	}
	if err := c.Delete(ctx, Location{Bucket: "b", Key: "never"}, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of a key that never was: %v, want ErrNotFound", err)
	}
}

// TestContentEncoding: a gzipped value comes back as stored, not decoded
// in passing by net/http.
func TestContentEncoding(t *testing.T) {
	c := newTestCluster(t).client(t)
	ctx := context.Background()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(strings.Repeat("compressible ", 100)))
	_ = zw.Close()
	loc := Location{Bucket: "b", Key: "gz"}
	s := Sibling{Value: buf.Bytes(), ContentType: "application/json", ContentEncoding: "gzip"}
	if _, err := c.Put(ctx, &Object{Location: loc, Siblings: []Sibling{s}}); err != nil {
		t.Fatal(err)
	}
	o, err := c.Get(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	if g := o.Siblings[0]; !bytes.Equal(g.Value, buf.Bytes()) || g.ContentEncoding != "gzip" {
		t.Fatalf("got %d bytes, encoding %q; want the %d gzipped bytes", len(g.Value), g.ContentEncoding, buf.Len())
	}
}

// TestSiblings: two blind writes are two siblings; a resolved value
// written back with the context leaves one.
func TestSiblings(t *testing.T) {
	cl := newTestCluster(t)
	c := cl.client(t)
	ctx := context.Background()
	loc := Location{Bucket: "b", Key: "contended"}
	for _, v := range []string{"first", "second"} {
		if _, err := c.Put(ctx, NewObject(loc, []byte(v), "text/plain")); err != nil {
			t.Fatal(err)
		}
	}
	o, err := c.Get(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	if !o.HasSiblings() || len(o.Siblings) != 2 || o.Context == "" {
		t.Fatalf("after two blind writes: %+v", o)
	}
	if vs := values(o); !slices.Equal(vs, []string{"first", "second"}) {
		t.Fatalf("siblings %v", vs)
	}
	if o.Siblings[0].VTag == o.Siblings[1].VTag || o.Siblings[0].LastModified.IsZero() {
		t.Fatalf("siblings need distinct vtags and a last-modified: %+v", o.Siblings)
	}
	if _, err := c.Put(ctx, o); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("Put of two siblings: %v, want ErrBadRequest", err)
	}

	winner, err := LastModifiedWins.Resolve(loc, o.Siblings)
	if err != nil {
		t.Fatal(err)
	}
	o.Siblings = []Sibling{winner}
	if _, err := c.Put(ctx, o); err != nil {
		t.Fatal(err)
	}
	after, err := c.Get(ctx, loc)
	if err != nil || after.HasSiblings() || string(after.Value()) != string(winner.Value) {
		t.Fatalf("after resolving: %+v, %v; want only %q", after, err, winner.Value)
	}

	// A client with a Resolver resolves on Get; its context still
	// supersedes every sibling.
	joined := ResolverFunc(func(_ Location, sibs []Sibling) (Sibling, error) {
		var vs []string
		for _, s := range sibs {
			vs = append(vs, string(s.Value))
		}
		slices.Sort(vs)
		return Sibling{Value: []byte(strings.Join(vs, "+")), ContentType: "text/plain"}, nil
	})
	rc := cl.client(t, func(cfg *Config) { cfg.Resolver = joined })
	if _, err := rc.Put(ctx, NewObject(loc, []byte("third"), "text/plain")); err != nil {
		t.Fatal(err)
	}
	r, err := rc.Get(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(sortedPair(string(winner.Value), "third"), "+")
	if r.HasSiblings() || string(r.Value()) != want || r.Context == "" {
		t.Fatalf("resolved Get: %+v; want the one value %q", r, want)
	}
	if _, err := rc.Put(ctx, r); err != nil {
		t.Fatal(err)
	}
	if o, err := c.Get(ctx, loc); err != nil || o.HasSiblings() {
		t.Fatalf("after writing back the resolution: %+v, %v", o, err)
	}

	// A resolver's error fails the read.
	boom := errors.New("boom")
	ec := cl.client(t, func(cfg *Config) {
		cfg.Resolver = ResolverFunc(func(Location, []Sibling) (Sibling, error) { return Sibling{}, boom })
	})
	if _, err := c.Put(ctx, NewObject(loc, []byte("fourth"), "text/plain")); err != nil {
		t.Fatal(err)
	}
	if _, err := ec.Get(ctx, loc); !errors.Is(err, boom) {
		t.Fatalf("Get with a failing resolver: %v", err)
	}
}

func sortedPair(a, b string) []string {
	s := []string{a, b}
	slices.Sort(s)
	return s
}

// values are an object's sibling values, sorted.
func values(o *Object) []string {
	var vs []string
	for _, s := range o.Siblings {
		vs = append(vs, string(s.Value))
	}
	slices.Sort(vs)
	return vs
}
