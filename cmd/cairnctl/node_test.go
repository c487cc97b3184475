package main

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpapi"
	"github.com/cairnkv/cairn/node/store"
)

// startNode runs a standalone node on an in-memory engine, its config
// adjusted by mutate (nil: none) and its metadata md (nil: the node's own),
// and returns it with its HTTP API. Both are closed when the test ends.
func startNode(t *testing.T, mutate func(*node.Config), md node.Metadata) (*node.Node, http.Handler) {
	t.Helper()
	cfg := node.DefaultLocalConfig("n1")
	cfg.Logger = slog.New(slog.DiscardHandler)
	if mutate != nil {
		mutate(&cfg)
	}
	eng := store.NewMem()
	n, err := node.New(cfg, eng, md)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = n.Close()
		_ = eng.Close()
	})
	api, err := httpapi.New(httpapi.DefaultConfig(), n, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return n, api
}

// withMaps adds the bucket type "maps" (n_val 2) to a standalone node.
func withMaps(cfg *node.Config) {
	maps := node.DefaultProps()
	maps.NVal = 2
	cfg.Types = map[string]node.Props{"maps": maps}
}
