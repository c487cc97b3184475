package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/client"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpapi"
	"github.com/cairnkv/cairn/node/store"
)

// startNode runs a single in-memory cairn node behind the HTTP API, for the
// examples: its address and how to stop it.
func startNode() (string, func()) {
	cfg := node.DefaultLocalConfig("example")
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.AAE.Enabled = false
	eng := store.NewMem()
	n, err := node.New(cfg, eng, nil)
	if err != nil {
		panic(err)
	}
	api, err := httpapi.New(httpapi.DefaultConfig(), n, nil, nil)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(api)
	return srv.URL, func() {
		srv.Close()
		_ = n.Close()
		_ = eng.Close()
	}
}

func newClient(addr string, resolver client.Resolver) *client.Client {
	cfg := client.DefaultConfig()
	cfg.Nodes = []string{addr}
	cfg.Resolver = resolver
	c, err := client.New(cfg)
	if err != nil {
		panic(err)
	}
	return c
}

// Write a value, read it back, replace it with the read's context.
func Example_getPut() {
	addr, stop := startNode()
	defer stop()
	c := newClient(addr, nil)
	defer c.Close()
	ctx := context.Background()
	loc := client.Location{Bucket: "users", Key: "ada"}

	if _, err := c.Get(ctx, loc); errors.Is(err, client.ErrNotFound) {
		fmt.Println("not there yet")
	}
	if _, err := c.Put(ctx, client.NewObject(loc, []byte(`{"name":"Ada"}`), "application/json")); err != nil {
		panic(err)
	}
	obj, err := c.Get(ctx, loc)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s (%s)\n", obj.Value(), obj.Siblings[0].ContentType)

	// The object carries the read's context: this write replaces the
	// value rather than adding a sibling.
	obj.SetValue([]byte(`{"name":"Ada Lovelace"}`), "application/json")
	if _, err := c.Put(ctx, obj); err != nil {
		panic(err)
	}
	obj, err = c.Get(ctx, loc)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s, siblings: %v\n", obj.Value(), obj.HasSiblings())

	_, err = c.Get(ctx, loc, client.R(client.Q(5)))
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println("r=5:", e.Status, errors.Is(err, client.ErrBadRequest))
	}
	// Output:
	// not there yet
	// {"name":"Ada"} (application/json)
	// {"name":"Ada Lovelace"}, siblings: false
	// r=5: 400 true
}

// Two writers that did not see each other's write leave two siblings;
// a resolver picks what to keep and a write with the read's context
// replaces both.
func Example_siblings() {
	addr, stop := startNode()
	defer stop()
	c := newClient(addr, nil)
	defer c.Close()
	ctx := context.Background()
	loc := client.Location{Bucket: "carts", Key: "bob"}

	for _, v := range []string{"apples", "pears"} {
		if _, err := c.Put(ctx, client.NewObject(loc, []byte(v), "text/plain")); err != nil {
			panic(err)
		}
	}
	obj, err := c.Get(ctx, loc)
	if err != nil {
		panic(err)
	}
	fmt.Println("siblings:", values(obj))

	// Keep the union of both carts.
	union := client.ResolverFunc(func(_ client.Location, sibs []client.Sibling) (client.Sibling, error) {
		var items []string
		for _, s := range sibs {
			items = append(items, strings.Split(string(s.Value), ",")...)
		}
		slices.Sort(items)
		return client.Sibling{Value: []byte(strings.Join(slices.Compact(items), ",")), ContentType: "text/plain"}, nil
	})
	merged, err := union.Resolve(loc, obj.Siblings)
	if err != nil {
		panic(err)
	}
	obj.Siblings = []client.Sibling{merged}
	if _, err := c.Put(ctx, obj); err != nil {
		panic(err)
	}
	obj, err = c.Get(ctx, loc)
	if err != nil {
		panic(err)
	}
	fmt.Println("after resolving:", values(obj))

	// A client with the resolver resolves on every read.
	rc := newClient(addr, union)
	defer rc.Close()
	if _, err := c.Put(ctx, client.NewObject(loc, []byte("plums"), "text/plain")); err != nil {
		panic(err)
	}
	obj, err = rc.Get(ctx, loc)
	if err != nil {
		panic(err)
	}
	fmt.Println("resolved on read:", values(obj))
	// Output:
	// siblings: [apples pears]
	// after resolving: [apples,pears]
	// resolved on read: [apples,pears,plums]
}

func values(o *client.Object) []string {
	var vs []string
	for _, s := range o.Siblings {
		vs = append(vs, string(s.Value))
	}
	slices.Sort(vs)
	return vs
}

// A read-modify-write in one call: Update reads, calls the function, and
// writes the result with the read's context.
func ExampleClient_Update() {
	addr, stop := startNode()
	defer stop()
	c := newClient(addr, client.LastModifiedWins)
	defer c.Close()
	ctx := context.Background()
	loc := client.Location{Bucket: "counters", Key: "visits"}

	incr := func(old *client.Object) (*client.Object, error) {
		n := 0
		if v := old.Value(); v != nil { // nil: the key does not exist yet
			var err error
			if n, err = strconv.Atoi(string(v)); err != nil {
				return nil, err
			}
		}
		old.SetValue([]byte(strconv.Itoa(n+1)), "text/plain")
		return old, nil
	}
	for range 3 {
		if _, err := c.Update(ctx, loc, incr); err != nil {
			panic(err)
		}
	}
	obj, err := c.Update(ctx, loc, incr)
	if err != nil {
		panic(err)
	}
	fmt.Println("visits:", string(obj.Value()))
	// Output:
	// visits: 4
}

// ListKeys streams a bucket's keys. It scans the whole cluster: for
// operators and tests, not for an application's request path.
func ExampleClient_ListKeys() {
	addr, stop := startNode()
	defer stop()
	c := newClient(addr, nil)
	defer c.Close()
	ctx := context.Background()
	for _, k := range []string{"b", "a", "c"} {
		if _, err := c.Put(ctx, client.NewObject(client.Location{Bucket: "letters", Key: k}, nil, "text/plain")); err != nil {
			panic(err)
		}
	}
	var keys []string
	if err := c.ListKeys(ctx, "", "letters", func(k string) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		panic(err)
	}
	slices.Sort(keys)
	fmt.Println(keys)
	// Output:
	// [a b c]
}
