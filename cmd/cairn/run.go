package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpapi"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// run wires the storage engine, the node and the HTTP API together, serves
// until ctx is cancelled, then shuts down in order: stop accepting, let
// in-flight requests finish, stop the node, close the engine. It prints the
// API's address to out once it listens.
func run(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer) error {
	id, err := node.LoadOrCreateID(cfg.DataDir)
	if err != nil {
		return err
	}
	logger = logger.With("node", id)

	sc := store.DefaultConfig()
	sc.Dir = filepath.Join(cfg.DataDir, "kv")
	sc.Sync, _ = store.ParseSyncPolicy(cfg.Sync)
	sc.SyncInterval = cfg.SyncInterval
	sc.Logger = logger
	eng, err := store.OpenBadger(sc)
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	defer func() {
		if err := eng.Close(); err != nil {
			logger.Error("close storage", "err", err)
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	nc := node.DefaultConfig()
	nc.NodeID = id
	nc.RingSize = cfg.RingSize
	nc.Props.NVal = cfg.NVal
	nc.MaxObjectSize = cfg.MaxObjectSize
	nc.RequestTimeout = cfg.RequestTimeout
	nc.SyncPolicy = sc.Sync.String()
	nc.Clock = clock.Real{}
	nc.Logger = logger
	nc.Registry = reg
	// The HTTP, RPC and Raft listeners open first: with port 0 (tests),
	// the bound ports are what this node advertises to the others.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	rpcLn, err := net.Listen("tcp", cfg.RPCAddr)
	if err != nil {
		return fmt.Errorf("rpc listen: %w", err)
	}
	defer rpcLn.Close()
	raftLn, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return fmt.Errorf("raft listen: %w", err)
	}
	nw := rpc.WithListener(rpc.TCP{}, raftLn)

	meta, closeMeta, err := openMeta(cfg, id, logger, nw, advertised(cfg.HTTPAdvertise, ln), advertised(cfg.RPCAdvertise, rpcLn), advertised(cfg.RaftAdvertise, raftLn))
	if err != nil {
		return err
	}
	defer closeMeta()

	n, err := node.New(nc, eng, meta.group)
	if err != nil {
		return err
	}
	defer n.Close()
	go func() {
		if err := meta.rpcSrv.Serve(rpcLn); err != nil {
			logger.Error("rpc server stopped", "err", err)
		}
	}()

	hc := httpapi.DefaultConfig()
	hc.MaxObjectSize = cfg.MaxObjectSize
	hc.EnablePprof = cfg.Pprof
	api, err := httpapi.New(hc, n, logger, reg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", adminapi.New(meta.group, logger))
	mux.Handle("/", api)

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("cairn node started", "http", ln.Addr().String(), "data_dir", cfg.DataDir,
		"sync", sc.Sync.String(), "ring_size", cfg.RingSize)
	fmt.Fprintf(out, "cairn node %s: HTTP API listening on http://%s (data in %s)\n", id, ln.Addr(), cfg.DataDir)
	fmt.Fprintf(out, "cairn node %s: RPC on %s, Raft on %s\n", id, rpcLn.Addr(), raftLn.Addr())

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for in-flight requests", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("shutdown: in-flight requests cut off", "err", err)
	}
	if err := n.Close(); err != nil {
		return err
	}
	if err := eng.Sync(); err != nil {
		logger.Error("final sync", "err", err)
	}
	logger.Info("cairn node stopped")
	return nil
}
