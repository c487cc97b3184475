package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/gossip"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpapi"
	"github.com/cairnkv/cairn/node/httpguard"
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
	// What the HTTP API needs from files is read first: a bad certificate
	// or token file stops start-up before anything opens.
	tlsCert, tokens, err := loadHTTPSecurity(cfg)
	if err != nil {
		return err
	}
	if tokens != nil && tlsCert == nil {
		logger.Warn("bearer tokens over plain HTTP cross the network in clear: set --http-tls-cert and --http-tls-key too")
	}
	// Packages that log per node add the node id themselves.
	base := logger
	logger = logger.With("node", id)

	sc := cfg.storeConfig()
	sc.Dir = filepath.Join(cfg.DataDir, "kv")
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
	// The storage engine's figures, read when /metrics is scraped.
	for _, m := range []struct {
		name, help string
		gauge      bool
		value      func() float64
	}{
		{"cairn_store_row_cache_hits_total", "Reads of the storage engine answered from the row cache.", false,
			func() float64 { return float64(eng.CacheStats().Hits) }},
		{"cairn_store_row_cache_misses_total", "Reads of the storage engine that missed the row cache.", false,
			func() float64 { return float64(eng.CacheStats().Misses) }},
		{"cairn_store_row_cache_bytes", "Bytes the row cache holds (at most --cache-size).", true,
			func() float64 { return float64(eng.CacheStats().Bytes) }},
		{"cairn_store_syncs_total", "Group commits that fsynced the storage engine's files.", false,
			func() float64 { return float64(eng.SyncStats().Syncs) }},
		{"cairn_store_sync_seconds_total", "Time the group commits spent fsyncing.", false,
			func() float64 { return eng.SyncStats().SyncTime.Seconds() }},
		{"cairn_store_sync_waiters_total", "Durable writes (dw, or every write under --sync always) the group commits released; divided by cairn_store_syncs_total, the writes that shared an fsync.", false,
			func() float64 { return float64(eng.SyncStats().Waiters) }},
	} {
		if m.gauge {
			reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: m.name, Help: m.help}, m.value))
		} else {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: m.name, Help: m.help}, m.value))
		}
	}

	nc := node.DefaultConfig()
	nc.NodeID = id
	nc.RingSize = cfg.RingSize
	nc.Props.NVal = cfg.NVal
	nc.MaxObjectSize = cfg.MaxObjectSize
	nc.MaxKeyLen, nc.MaxBucketLen = cfg.MaxKeyLen, cfg.MaxBucketLen
	nc.WarnSiblings, nc.MaxSiblings = cfg.WarnSiblings, cfg.MaxSiblings
	nc.RequestTimeout = cfg.RequestTimeout
	nc.ReplicaTimeout = min(cfg.ReplicaTimeout, cfg.RequestTimeout)
	nc.ReadSpeculateAfter = cfg.ReadSpeculate
	nc.ReapGrace = cfg.ReapGrace
	nc.Handoff.MaxConcurrent = cfg.HandoffConcurrency
	nc.Handoff.BytesPerSecond = cfg.HandoffRate
	nc.Handoff.HintWindow = cfg.HintWindow
	nc.DisableReadRepair = !cfg.ReadRepair
	nc.AAE.Enabled = cfg.AAE
	nc.AAE.ExchangeInterval = cfg.AAEInterval
	nc.AAE.ExchangeJitter = cfg.AAEInterval / 3
	nc.AAE.MaxConcurrent = cfg.AAEConcurrency
	nc.AAE.Window, _ = antientropy.ParseWindow(cfg.AAEWindow) // validated
	nc.AAE.Segments = cfg.AAESegments
	nc.AAE.RebuildInterval = cfg.AAERebuildInterval
	nc.AAE.RebuildJitter = cfg.AAERebuildInterval / 7
	nc.AAE.RebuildBytesPerSecond = cfg.AAERebuildRate
	nc.SyncPolicy = sc.Sync.String()
	nc.Clock = clock.Real{}
	nc.Logger = base
	nc.Registry = reg
	// The HTTP, RPC and Raft listeners open first: with port 0 (tests),
	// the bound ports are what this node advertises to the others.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	rpcLn, raftLn, clusterNet, err := clusterListeners(cfg, reg, logger)
	if err != nil {
		return err
	}
	defer rpcLn.Close()
	defer raftLn.Close() // Raft closes it first; this covers an early return
	nw := rpc.WithListener(clusterNet, raftLn)
	httpAdv, rpcAdv, raftAdv := advertised(cfg.HTTPAdvertise, ln), advertised(cfg.RPCAdvertise, rpcLn), advertised(cfg.RaftAdvertise, raftLn)

	// Gossip starts first: with port 0 its bound address is what the
	// metadata plane records for nodes that join later.
	catchUp, handoff := make(chan struct{}, 1), make(chan struct{}, 1)
	events := &gossipEvents{log: logger, catchUp: catchUp, handoff: handoff}
	gcfg := gossip.DefaultConfig()
	gcfg.NodeID = id
	gcfg.BindAddr = cfg.GossipAddr
	gcfg.AdvertiseAddr = cfg.GossipAdvertise
	if cfg.GossipKey != "" {
		gcfg.SecretKey, gcfg.AcceptKeys, _ = gossip.ParseKeyring(cfg.GossipKey) // checked by Validate
	}
	gcfg.Meta = gossip.Meta{HTTPAddr: httpAdv, RPCAddr: rpcAdv, RaftAddr: raftAdv}
	gcfg.Logger = logger.With("component", "gossip")
	gsp, err := gossip.New(gcfg, events)
	if err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	defer func() {
		if err := gsp.Leave(time.Second); err != nil {
			logger.Debug("gossip leave", "err", err)
		}
		_ = gsp.Close()
	}()

	rc := rpc.DefaultConfig()
	rc.MaxFrameSize = cfg.RPCMaxFrameSize
	rc.Logger = logger
	client := rpc.NewClient(rc, nw)
	defer client.Close()

	g, closeMeta, err := openMeta(cfg, id, base, nw, client, httpAdv, rpcAdv, raftAdv, gsp.Addr())
	if err != nil {
		return err
	}
	defer closeMeta()

	n, err := node.NewClustered(nc, eng, g, client, gsp)
	if err != nil {
		return err
	}
	defer n.Close()
	events.node.Store(n)
	rpcSrv := rpc.NewServer(rc, rpcHandler(g, n))
	defer rpcSrv.Close()
	go func() {
		if err := rpcSrv.Serve(rpcLn); err != nil {
			logger.Error("rpc server stopped", "err", err)
		}
	}()
	loopCtx, stopLoops := context.WithCancel(context.Background())
	loops := &clusterLoops{g: g, n: n, gsp: gsp, log: logger, cfg: cfg, events: events, catchUp: catchUp, handoff: handoff}
	loops.start(loopCtx)
	defer loops.wait()
	defer stopLoops()

	hc := httpapi.DefaultConfig()
	hc.MaxObjectSize = cfg.MaxObjectSize
	hc.EnablePprof = cfg.Pprof
	api, err := httpapi.New(hc, n, logger, reg)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	// Gossip's node ids are member ids: it answers for the members.
	mux.Handle("/admin/", adminapi.NewWithServices(g, adminapi.Services{Transfers: n, AAE: n, Liveness: gsp}, logger))
	mux.Handle("/", api)

	gc := cfg.guardConfig()
	guarded, err := httpguard.New(gc, tokens, mux, logger, reg)
	if err != nil {
		return err
	}
	srv := gc.Server(guarded, logger)
	scheme := "http"
	if tlsCert != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*tlsCert}}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	// The address is announced once the node can serve data: after a
	// restart, Raft must elect a leader and replay the ring first. The
	// HTTP API serves meanwhile (admin calls work, data calls get 503).
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case <-n.Ready():
	case <-time.After(cfg.ReadyTimeout):
		logger.Warn("no ring yet: serving, but data requests fail with 503 until this node learns the ring (is it joined to a cluster?)",
			"waited", cfg.ReadyTimeout)
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("cairn node started", "http", ln.Addr().String(), "data_dir", cfg.DataDir,
		"sync", sc.Sync.String(), "ring_size", cfg.RingSize)
	fmt.Fprintf(out, "cairn node %s: HTTP API listening on %s://%s (data in %s)\n", id, scheme, ln.Addr(), cfg.DataDir)
	fmt.Fprintf(out, "cairn node %s: RPC on %s, Raft on %s, gossip on %s\n", id, rpcLn.Addr(), raftLn.Addr(), gsp.Addr())

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
	stopLoops()
	loops.wait()
	if err := n.Close(); err != nil {
		return err
	}
	if err := eng.Sync(); err != nil {
		logger.Error("final sync", "err", err)
	}
	logger.Info("cairn node stopped")
	return nil
}

// loadHTTPSecurity reads the HTTP API's certificate and token file, each
// nil when not configured.
func loadHTTPSecurity(cfg Config) (*tls.Certificate, *httpguard.Tokens, error) {
	var cert *tls.Certificate
	if cfg.HTTPTLSCert != "" {
		c, err := tls.LoadX509KeyPair(cfg.HTTPTLSCert, cfg.HTTPTLSKey)
		if err != nil {
			return nil, nil, fmt.Errorf("--http-tls-cert/--http-tls-key: %w", err)
		}
		cert = &c
	}
	var tokens *httpguard.Tokens
	if cfg.HTTPTokenFile != "" {
		var err error
		if tokens, err = httpguard.LoadTokens(cfg.HTTPTokenFile); err != nil {
			return nil, nil, fmt.Errorf("--http-token-file: %w", err)
		}
	}
	return cert, tokens, nil
}
