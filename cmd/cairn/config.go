package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/gossip"
	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/internal/clustertls"
	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/httpguard"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
)

// Config is everything the server needs, filled from flags and env.
type Config struct {
	DataDir         string
	HTTPAddr        string
	Sync            string
	SyncInterval    time.Duration
	CommitDelay     time.Duration
	RingSize        int
	NVal            int
	MaxObjectSize   int64
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string
	LogFormat       string
	Pprof           bool

	// The storage engine's memory: Badger's block cache, the row cache,
	// its memtables (count × size), its concurrent compactions and the
	// size of the tables they build in memory.
	BlockCacheSize int64
	CacheSize      int64
	MemTableSize   int64
	NumMemtables   int
	Compactors     int
	TableSize      int64

	// The metadata plane (Raft) and the internal RPC.
	RaftAddr      string
	RaftAdvertise string
	RPCAddr       string
	RPCAdvertise  string
	HTTPAdvertise string
	Bootstrap     bool
	Join          string // comma-separated RPC addresses of members
	Voters        int

	// Mutual TLS for the internal RPC and Raft: the cluster CA's
	// certificate, this node's certificate and its key (all or none).
	ClusterTLSCA   string
	ClusterTLSCert string
	ClusterTLSKey  string

	// Gossip and the cluster data path.
	GossipAddr         string
	GossipAdvertise    string
	GossipKey          string // base64
	ReplicaTimeout     time.Duration
	ReadSpeculate      time.Duration
	ReapGrace          time.Duration
	HandoffInterval    time.Duration
	HandoffConcurrency int
	HandoffRate        int64 // bytes per second, 0 unlimited
	HintWindow         time.Duration
	ReadRepair         bool
	// Active anti-entropy.
	AAE                bool
	AAEInterval        time.Duration
	AAEConcurrency     int
	AAEWindow          string
	AAESegments        int
	AAERebuildInterval time.Duration
	AAERebuildRate     int
	// ReadyTimeout bounds how long start-up waits for the ring before it
	// announces the HTTP address anyway.
	ReadyTimeout time.Duration

	// The HTTP API's security: TLS (both files or neither) and bearer
	// tokens (a file of "role token" lines; empty: no authentication).
	HTTPTLSCert   string
	HTTPTLSKey    string
	HTTPTokenFile string
	// Limits. MaxBodySize 0 means MaxObjectSize.
	MaxKeyLen             int
	MaxBucketLen          int
	WarnSiblings          int
	MaxSiblings           int
	MaxBodySize           int64
	MaxHeaderBytes        int
	MaxConcurrentRequests int
	RPCMaxFrameSize       int
	// The HTTP server's timeouts.
	HTTPReadHeaderTimeout time.Duration
	HTTPReadTimeout       time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
}

// rpcFrameMargin is the room a replicated object needs in an RPC frame
// beyond its value: key, clock, metadata and the message around it.
const rpcFrameMargin = 1 << 20

// DefaultConfig returns the settings of `make run`: data in ./data, the
// HTTP API on loopback port 8098, group commit every store default.
func DefaultConfig() Config {
	sc := store.DefaultConfig()
	return Config{
		DataDir:            "./data",
		HTTPAddr:           "127.0.0.1:8098",
		Sync:               sc.Sync.String(),
		SyncInterval:       sc.SyncInterval,
		CommitDelay:        sc.CommitDelay,
		BlockCacheSize:     sc.BlockCacheSize,
		CacheSize:          sc.CacheSize,
		MemTableSize:       sc.MemTableSize,
		NumMemtables:       sc.NumMemtables,
		Compactors:         sc.NumCompactors,
		TableSize:          sc.TableSize,
		RingSize:           64,
		NVal:               3,
		MaxObjectSize:      50 << 20,
		RequestTimeout:     10 * time.Second,
		ShutdownTimeout:    30 * time.Second,
		LogLevel:           "info",
		LogFormat:          "text",
		RaftAddr:           "127.0.0.1:8300",
		RPCAddr:            "127.0.0.1:8099",
		Voters:             3,
		GossipAddr:         "127.0.0.1:7946",
		ReplicaTimeout:     node.DefaultConfig().ReplicaTimeout,
		ReadSpeculate:      node.DefaultConfig().ReadSpeculateAfter,
		ReapGrace:          node.DefaultConfig().ReapGrace,
		HandoffInterval:    10 * time.Second,
		HandoffConcurrency: handoff.DefaultConfig().MaxConcurrent,
		HandoffRate:        handoff.DefaultConfig().BytesPerSecond,
		HintWindow:         handoff.DefaultConfig().HintWindow,
		ReadRepair:         true,
		AAE:                antientropy.DefaultConfig().Enabled,
		AAEInterval:        antientropy.DefaultConfig().ExchangeInterval,
		AAEConcurrency:     antientropy.DefaultConfig().MaxConcurrent,
		AAEWindow:          antientropy.DefaultConfig().Window.String(),
		AAESegments:        antientropy.DefaultConfig().Segments,
		AAERebuildInterval: antientropy.DefaultConfig().RebuildInterval,
		AAERebuildRate:     antientropy.DefaultConfig().RebuildBytesPerSecond,
		ReadyTimeout:       30 * time.Second,

		MaxKeyLen:             node.DefaultConfig().MaxKeyLen,
		MaxBucketLen:          node.DefaultConfig().MaxBucketLen,
		WarnSiblings:          node.DefaultConfig().WarnSiblings,
		MaxSiblings:           node.DefaultConfig().MaxSiblings,
		MaxHeaderBytes:        httpguard.DefaultConfig().MaxHeaderBytes,
		MaxConcurrentRequests: httpguard.DefaultConfig().MaxConcurrent,
		// A 50 MiB object must fit in one replica write.
		RPCMaxFrameSize:       64 << 20,
		HTTPReadHeaderTimeout: httpguard.DefaultConfig().ReadHeaderTimeout,
		HTTPReadTimeout:       httpguard.DefaultConfig().ReadTimeout,
		HTTPWriteTimeout:      httpguard.DefaultConfig().WriteTimeout,
		HTTPIdleTimeout:       httpguard.DefaultConfig().IdleTimeout,
	}
}

// guardConfig is the HTTP guard's part of the configuration.
func (c Config) guardConfig() httpguard.Config {
	g := httpguard.DefaultConfig()
	g.MaxConcurrent = c.MaxConcurrentRequests
	g.MaxBodyBytes = c.MaxBodySize
	if g.MaxBodyBytes == 0 {
		g.MaxBodyBytes = c.MaxObjectSize
	}
	g.MaxHeaderBytes = c.MaxHeaderBytes
	g.ReadHeaderTimeout = c.HTTPReadHeaderTimeout
	g.ReadTimeout = c.HTTPReadTimeout
	g.WriteTimeout = c.HTTPWriteTimeout
	g.IdleTimeout = c.HTTPIdleTimeout
	return g
}

// Validate checks what the packages' own Validate calls do not.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return errors.New("empty --data-dir")
	}
	if c.HTTPAddr == "" {
		return errors.New("empty --http-addr")
	}
	if _, err := store.ParseSyncPolicy(c.Sync); err != nil {
		return fmt.Errorf("--sync: %w", err)
	}
	if err := c.storeConfig().Validate(); err != nil {
		return fmt.Errorf("--sync-interval, --commit-delay, --block-cache-size, --cache-size, --memtable-size, --memtables, --compactors, --table-size: %w", err)
	}
	if c.RaftAddr == "" || c.RPCAddr == "" {
		return errors.New("--raft-addr and --rpc-addr must be set")
	}
	if c.GossipAddr == "" {
		return errors.New("empty --gossip-addr")
	}
	if c.GossipKey != "" {
		if _, _, err := gossip.ParseKeyring(c.GossipKey); err != nil {
			return fmt.Errorf("--gossip-key: %w", err)
		}
	}
	if err := c.clusterTLS().Validate(); err != nil {
		return errors.New("--cluster-tls-ca, --cluster-tls-cert and --cluster-tls-key go together: give all three (cluster TLS on) or none (off)")
	}
	if c.HandoffInterval <= 0 {
		return errors.New("--handoff-interval must be positive")
	}
	if _, err := antientropy.ParseWindow(c.AAEWindow); err != nil {
		return fmt.Errorf("--aae-window: %w", err)
	}
	if c.Bootstrap && c.Join != "" {
		return errors.New("--bootstrap and --join are exclusive: bootstrap the first node, join the others to it")
	}
	if c.ShutdownTimeout <= 0 {
		return errors.New("--shutdown-timeout must be positive")
	}
	if (c.HTTPTLSCert == "") != (c.HTTPTLSKey == "") {
		return errors.New("--http-tls-cert and --http-tls-key go together: give both or neither")
	}
	if c.MaxObjectSize <= 0 {
		return errors.New("--max-object-size must be positive")
	}
	if c.MaxBodySize < 0 {
		return errors.New("--max-body-size must not be negative (0: the same as --max-object-size)")
	}
	if c.MaxBodySize > 0 && c.MaxBodySize < c.MaxObjectSize {
		return fmt.Errorf("--max-body-size %d is below --max-object-size %d: the largest object could not be written", c.MaxBodySize, c.MaxObjectSize)
	}
	if int64(c.RPCMaxFrameSize) < c.MaxObjectSize+rpcFrameMargin {
		return fmt.Errorf("--rpc-max-frame-size %d must exceed --max-object-size %d by at least %d bytes: replicas receive whole objects in one frame",
			c.RPCMaxFrameSize, c.MaxObjectSize, rpcFrameMargin)
	}
	nc := node.DefaultLocalConfig("validate")
	nc.MaxKeyLen, nc.MaxBucketLen = c.MaxKeyLen, c.MaxBucketLen
	nc.WarnSiblings, nc.MaxSiblings = c.WarnSiblings, c.MaxSiblings
	if err := nc.Validate(); err != nil {
		return fmt.Errorf("--max-key-length, --max-bucket-length, --warn-siblings, --max-siblings: %w", err)
	}
	rc := rpc.DefaultConfig()
	rc.MaxFrameSize = c.RPCMaxFrameSize
	if err := rc.Validate(); err != nil {
		return fmt.Errorf("--rpc-max-frame-size: %w", err)
	}
	if err := c.guardConfig().Validate(); err != nil {
		return fmt.Errorf("HTTP limits and timeouts: %w", err)
	}
	return nil
}

// storeConfig is the storage engine's configuration, without its
// directory, logger and clock.
func (c Config) storeConfig() store.Config {
	sc := store.DefaultConfig()
	sc.Sync, _ = store.ParseSyncPolicy(c.Sync)
	sc.SyncInterval = c.SyncInterval
	sc.CommitDelay = c.CommitDelay
	sc.BlockCacheSize = c.BlockCacheSize
	sc.CacheSize = c.CacheSize
	sc.MemTableSize = c.MemTableSize
	sc.NumMemtables = c.NumMemtables
	sc.NumCompactors = c.Compactors
	sc.TableSize = c.TableSize
	return sc
}

// clusterTLS names the cluster TLS files; Enabled is false without them.
func (c Config) clusterTLS() clustertls.Files {
	return clustertls.Files{CA: c.ClusterTLSCA, Cert: c.ClusterTLSCert, Key: c.ClusterTLSKey}
}
