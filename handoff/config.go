package handoff

import (
	"errors"
	"fmt"
	"time"
)

// Config holds a node's handoff settings. Start from DefaultConfig.
type Config struct {
	// MaxConcurrent bounds the transfers a node sends at once.
	MaxConcurrent int
	// BytesPerSecond bounds what a node sends for handoff, all transfers
	// together; 0 means unlimited.
	BytesPerSecond int64
	// BatchBytes and BatchKeys bound one batch: the unit of a send, of
	// durability and of the cursor.
	BatchBytes int
	BatchKeys  int
	// StallTimeout: a running transfer that has made no progress for this
	// long is stopped and retried.
	StallTimeout time.Duration
	// MinBackoff and MaxBackoff bound the pause before a failed transfer
	// is retried; it doubles with each failure in a row.
	MinBackoff, MaxBackoff time.Duration
	// HintWindow: a primary down for longer than this stops collecting
	// hints (no fallback takes its writes); anti-entropy repairs it when it
	// returns. Hints already held are kept until delivered or dropped by
	// an operator. Zero disables the window.
	HintWindow time.Duration
	// DropGrace: an old owner keeps its copy of a partition this long
	// after ownership passed before it hands it off as hints and drops it,
	// so that requests routed by a lagging ring still find the data.
	DropGrace time.Duration
}

// DefaultConfig returns production defaults: two transfers at a time,
// 4 MiB/s in 128 KiB batches, Cassandra's 3-hour hint window. At that
// rate foreground p99 stayed within 1.5x of its idle value while a
// partition moved on a shared 2-core machine (BenchmarkHandoffThroughput,
// 3 runs); single runs there are too noisy to rank faster rates, so a
// cluster on bigger machines should measure before raising --handoff-rate.
func DefaultConfig() Config {
	return Config{
		MaxConcurrent:  2,
		BytesPerSecond: 4 << 20,
		BatchBytes:     128 << 10,
		BatchKeys:      512,
		StallTimeout:   time.Minute,
		MinBackoff:     time.Second,
		MaxBackoff:     time.Minute,
		HintWindow:     3 * time.Hour,
		DropGrace:      time.Minute,
	}
}

// DefaultLocalConfig is DefaultConfig for tests: no rate limit, short
// timeouts.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.BytesPerSecond = 0
	c.StallTimeout = 5 * time.Second
	c.MinBackoff = 100 * time.Millisecond
	c.MaxBackoff = time.Second
	c.DropGrace = time.Second
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.MaxConcurrent < 1:
		return fmt.Errorf("handoff: config: max concurrent %d must be at least 1", c.MaxConcurrent)
	case c.BytesPerSecond < 0:
		return errors.New("handoff: config: negative bytes per second")
	case c.BatchBytes < 1 || c.BatchKeys < 1:
		return errors.New("handoff: config: batch bounds must be positive")
	case c.StallTimeout <= 0:
		return errors.New("handoff: config: stall timeout must be positive")
	case c.MinBackoff <= 0 || c.MaxBackoff < c.MinBackoff:
		return fmt.Errorf("handoff: config: backoff %v..%v invalid", c.MinBackoff, c.MaxBackoff)
	case c.HintWindow < 0 || c.DropGrace < 0:
		return errors.New("handoff: config: negative hint window or drop grace")
	}
	return nil
}
