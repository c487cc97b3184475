// Command cairn runs one cairn node.
//
//	cairn --data-dir ./data --http-addr 127.0.0.1:8098
//
// Every flag can also be set through the environment: --data-dir is
// CAIRN_DATA_DIR, --http-addr is CAIRN_HTTP_ADDR, and so on. A flag given on
// the command line wins over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/cairnkv/cairn/node"
)

func main() {
	cfg, err := parseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(2)
	}
	logger, err := newLogger(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, logger, os.Stdout); err != nil {
		logger.Error("cairn stopped", "err", err)
		os.Exit(1)
	}
}

// parseConfig fills a Config from DefaultConfig, then the environment, then
// the command line.
func parseConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("cairn", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the node id and the storage engine (kv/)")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", cfg.HTTPAddr, "host:port of the Riak-compatible HTTP API")
	fs.StringVar(&cfg.Sync, "sync", cfg.Sync, "storage sync policy: always, interval or none")
	fs.DurationVar(&cfg.SyncInterval, "sync-interval", cfg.SyncInterval, "group commit period for --sync interval")
	fs.DurationVar(&cfg.CommitDelay, "commit-delay", cfg.CommitDelay, "how long a group commit that a durable write waits for gathers more writes before it fsyncs; an idle engine (no write in progress, no fsync within the delay) starts at once (0: always at once)")
	fs.Int64Var(&cfg.BlockCacheSize, "block-cache-size", cfg.BlockCacheSize, "bytes of Badger's cache of decompressed table blocks (0: no cache and no compression)")
	fs.Int64Var(&cfg.CacheSize, "cache-size", cfg.CacheSize, "bytes of the row cache: stored objects read, kept up to date by writes (0: none)")
	fs.Int64Var(&cfg.MemTableSize, "memtable-size", cfg.MemTableSize, "bytes of one Badger memtable; also bounds one atomic write")
	fs.IntVar(&cfg.NumMemtables, "memtables", cfg.NumMemtables, "Badger memtables kept in memory before writes stall (memory for writes: this × --memtable-size)")
	fs.IntVar(&cfg.Compactors, "compactors", cfg.Compactors, "compactions Badger runs at once, at least 2 (each holds the tables it builds in memory)")
	fs.Int64Var(&cfg.TableSize, "table-size", cfg.TableSize, "bytes of one Badger table, at every level; compactions build tables whole in memory, so this bounds their memory (at least 1 MiB)")
	fs.IntVar(&cfg.RingSize, "ring-size", cfg.RingSize, "number of partitions (a power of two, fixed at creation)")
	fs.IntVar(&cfg.NVal, "n-val", cfg.NVal, "default n_val of the default bucket type")
	fs.Int64Var(&cfg.MaxObjectSize, "max-object-size", cfg.MaxObjectSize, "largest value accepted, in bytes")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", cfg.RequestTimeout, "deadline of one coordinated request")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long in-flight requests get to finish on SIGTERM")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json")
	fs.BoolVar(&cfg.Pprof, "pprof", cfg.Pprof, "serve /debug/pprof on the HTTP API")
	fs.StringVar(&cfg.RaftAddr, "raft-addr", cfg.RaftAddr, "host:port the metadata plane's Raft listens on")
	fs.StringVar(&cfg.RaftAdvertise, "raft-advertise", cfg.RaftAdvertise, "host:port other nodes dial for Raft (default --raft-addr)")
	fs.StringVar(&cfg.RPCAddr, "rpc-addr", cfg.RPCAddr, "host:port of the internal RPC")
	fs.StringVar(&cfg.RPCAdvertise, "rpc-advertise", cfg.RPCAdvertise, "host:port other nodes dial for RPC (default --rpc-addr)")
	fs.StringVar(&cfg.HTTPAdvertise, "http-advertise", cfg.HTTPAdvertise, "host:port clients reach the HTTP API on (default --http-addr)")
	fs.BoolVar(&cfg.Bootstrap, "bootstrap", cfg.Bootstrap, "create a new cluster with this node as its first member (once, on the first node)")
	fs.StringVar(&cfg.Join, "join", cfg.Join, "comma-separated RPC addresses (host:port) of members to join through")
	fs.IntVar(&cfg.Voters, "voters", cfg.Voters, "number of Raft voters to maintain: 1, 3, 5 or 7")
	fs.StringVar(&cfg.GossipAddr, "gossip-addr", cfg.GossipAddr, "host:port gossip (memberlist, UDP and TCP) listens on")
	fs.StringVar(&cfg.GossipAdvertise, "gossip-advertise", cfg.GossipAdvertise, "host:port other nodes reach gossip on (default --gossip-addr)")
	fs.StringVar(&cfg.GossipKey, "gossip-key", cfg.GossipKey, "base64 key of 16, 24 or 32 bytes encrypting gossip; the same on every node (make one: head -c 32 /dev/urandom | base64). During a key rotation: KEY,OLD sends with KEY and also accepts OLD")
	fs.StringVar(&cfg.ClusterTLSCA, "cluster-tls-ca", cfg.ClusterTLSCA, "PEM file of the cluster CA: internal RPC and Raft peers must present a node certificate it signed (with --cluster-tls-cert and --cluster-tls-key; make them with cairnctl tls)")
	fs.StringVar(&cfg.ClusterTLSCert, "cluster-tls-cert", cfg.ClusterTLSCert, "PEM file of this node's certificate, signed by the cluster CA, with a cairn://node/<name> URI SAN")
	fs.StringVar(&cfg.ClusterTLSKey, "cluster-tls-key", cfg.ClusterTLSKey, "PEM file of this node's private key")
	fs.DurationVar(&cfg.ReplicaTimeout, "replica-timeout", cfg.ReplicaTimeout, "how long a write waits for one replica before a fallback takes its place")
	fs.DurationVar(&cfg.ReadSpeculate, "read-speculate-after", cfg.ReadSpeculate, "under read_fanout quorum, how long a get waits for the r replicas it asked before it asks the others too")
	fs.DurationVar(&cfg.ReapGrace, "tombstone-grace", cfg.ReapGrace, "how long a tombstone held by every primary is kept before it is reaped (negative: never reap)")
	fs.DurationVar(&cfg.HandoffInterval, "handoff-interval", cfg.HandoffInterval, "how often data held for other nodes (fallback writes) is offered back to them")
	fs.IntVar(&cfg.HandoffConcurrency, "handoff-concurrency", cfg.HandoffConcurrency, "partition transfers (hinted and ownership) this node sends at once")
	fs.Int64Var(&cfg.HandoffRate, "handoff-rate", cfg.HandoffRate, "bytes per second this node sends for handoff, all transfers together (0: unlimited)")
	fs.DurationVar(&cfg.HintWindow, "hint-window", cfg.HintWindow, "a node down longer than this stops getting hints (fallback writes); anti-entropy repairs it (0: no window)")
	fs.BoolVar(&cfg.ReadRepair, "read-repair", cfg.ReadRepair, "gets write the merge back to stale, missing or corrupt replicas (off only to measure its cost: anti-entropy then does all repair)")
	fs.BoolVar(&cfg.AAE, "aae", cfg.AAE, "run active anti-entropy (an operator can also turn it off and on at run time: cairnctl aae disable|enable)")
	fs.DurationVar(&cfg.AAEInterval, "aae-interval", cfg.AAEInterval, "how often each pair of replicas compares its hash trees (jittered by a third)")
	fs.IntVar(&cfg.AAEConcurrency, "aae-concurrency", cfg.AAEConcurrency, "anti-entropy exchanges this node runs at once")
	fs.StringVar(&cfg.AAEWindow, "aae-window", cfg.AAEWindow, "daily UTC window exchanges may start in: always or HH:MM-HH:MM (a saved cairnctl aae window wins)")
	fs.IntVar(&cfg.AAESegments, "aae-segments", cfg.AAESegments, "leaf segments per hash tree, a power of two; the same on every node (changing it rebuilds the index from the data)")
	fs.DurationVar(&cfg.AAERebuildInterval, "aae-rebuild-interval", cfg.AAERebuildInterval, "how often each vnode's index is verified against its data and its trees rebuilt")
	fs.IntVar(&cfg.AAERebuildRate, "aae-rebuild-rate", cfg.AAERebuildRate, "bytes per second the verify scan reads (0: unlimited)")
	fs.StringVar(&cfg.HTTPTLSCert, "http-tls-cert", cfg.HTTPTLSCert, "PEM certificate (chain) of the HTTP API; with --http-tls-key it serves HTTPS only")
	fs.StringVar(&cfg.HTTPTLSKey, "http-tls-key", cfg.HTTPTLSKey, "PEM private key of --http-tls-cert")
	fs.StringVar(&cfg.HTTPTokenFile, "http-token-file", cfg.HTTPTokenFile, "file of bearer tokens, one \"ROLE TOKEN\" per line (roles data and admin); set, every request but GET /ping needs a token (empty: no authentication)")
	fs.IntVar(&cfg.MaxKeyLen, "max-key-length", cfg.MaxKeyLen, fmt.Sprintf("longest key accepted, in bytes (at most %d)", node.MaxKeyLen))
	fs.IntVar(&cfg.MaxBucketLen, "max-bucket-length", cfg.MaxBucketLen, fmt.Sprintf("longest bucket name accepted, in bytes (at most %d)", node.MaxBucketLen))
	fs.IntVar(&cfg.WarnSiblings, "warn-siblings", cfg.WarnSiblings, "log and count a write that leaves a key with more siblings than this (0: never)")
	fs.IntVar(&cfg.MaxSiblings, "max-siblings", cfg.MaxSiblings, "refuse (409) a write that would give a key more siblings than this; a write with a read's context is always accepted (0: no limit)")
	fs.Int64Var(&cfg.MaxBodySize, "max-body-size", cfg.MaxBodySize, "largest HTTP request body, in bytes, 413 above it (0: --max-object-size)")
	fs.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", cfg.MaxHeaderBytes, "largest HTTP request line plus headers, in bytes (431 above it)")
	fs.IntVar(&cfg.MaxConcurrentRequests, "max-concurrent-requests", cfg.MaxConcurrentRequests, "HTTP requests served at once; one more is answered 503 with Retry-After at once, /ping aside (0: no limit)")
	fs.IntVar(&cfg.RPCMaxFrameSize, "rpc-max-frame-size", cfg.RPCMaxFrameSize, "largest internal RPC frame, in bytes; must exceed --max-object-size by 1 MiB")
	fs.DurationVar(&cfg.HTTPReadHeaderTimeout, "http-read-header-timeout", cfg.HTTPReadHeaderTimeout, "time a client has to send a request's headers (cuts off slowloris clients)")
	fs.DurationVar(&cfg.HTTPReadTimeout, "http-read-timeout", cfg.HTTPReadTimeout, "time a client has to send a whole request, body included (0: no limit)")
	fs.DurationVar(&cfg.HTTPWriteTimeout, "http-write-timeout", cfg.HTTPWriteTimeout, "time to answer a request, streamed listings included (0: no limit)")
	fs.DurationVar(&cfg.HTTPIdleTimeout, "http-idle-timeout", cfg.HTTPIdleTimeout, "how long a kept-alive HTTP connection may wait for its next request")
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := "CAIRN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		f.Usage += " (env " + env + ")"
		if v := getenv(env); v != "" && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	if err != nil {
		return cfg, err
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.Validate()
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("bad --log-format %q: want text or json", format)
}
