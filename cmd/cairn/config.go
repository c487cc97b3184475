package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairnkv/cairn/node/store"
)

// Config is everything the server needs, filled from flags and env.
type Config struct {
	DataDir         string
	HTTPAddr        string
	Sync            string
	SyncInterval    time.Duration
	RingSize        int
	NVal            int
	MaxObjectSize   int64
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration
	LogLevel        string
	LogFormat       string
	Pprof           bool
}

// DefaultConfig returns the settings of `make run`: data in ./data, the
// HTTP API on loopback port 8098, group commit every store default.
func DefaultConfig() Config {
	sc := store.DefaultConfig()
	return Config{
		DataDir:         "./data",
		HTTPAddr:        "127.0.0.1:8098",
		Sync:            sc.Sync.String(),
		SyncInterval:    sc.SyncInterval,
		RingSize:        64,
		NVal:            3,
		MaxObjectSize:   50 << 20,
		RequestTimeout:  10 * time.Second,
		ShutdownTimeout: 30 * time.Second,
		LogLevel:        "info",
		LogFormat:       "text",
	}
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
	if c.ShutdownTimeout <= 0 {
		return errors.New("--shutdown-timeout must be positive")
	}
	return nil
}
