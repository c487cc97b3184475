package antientropy

import (
	"fmt"
	"math/bits"
	"time"
)

// Segment bounds. Below 64 a tree is too coarse to narrow a difference
// down; above 1<<20 the tree alone costs 8 MiB per (partition, n_val).
const (
	minSegments = 64
	maxSegments = 1 << 20
)

// Config holds a node's anti-entropy settings. Start from DefaultConfig.
type Config struct {
	// Segments is the number of leaf segments per tree: a power of two in
	// [64, 1<<20]. All nodes must agree (trees of different shapes cannot
	// be compared). More segments mean fewer keys read per differing key
	// and more memory: 8 bytes per segment per tree.
	Segments int
	// ExchangeInterval is how often each exchange pair runs.
	ExchangeInterval time.Duration
	// ExchangeJitter spreads the exchanges: each due time is
	// ExchangeInterval plus a uniform random in [-jitter, +jitter]. It must
	// be smaller than ExchangeInterval.
	ExchangeJitter time.Duration
	// MaxConcurrent bounds the exchanges a node runs at once.
	MaxConcurrent int
	// ExchangeTimeout bounds one exchange, repair included.
	ExchangeTimeout time.Duration
	// RebuildInterval is how often each vnode's trees are rebuilt from its
	// data, which catches what incremental updates missed (bit rot, a
	// crash between a write and its tree update).
	RebuildInterval time.Duration
	// RebuildJitter spreads the rebuilds like ExchangeJitter; it must be
	// smaller than RebuildInterval.
	RebuildJitter time.Duration
	// RebuildBytesPerSecond limits the rebuild scan; 0 means unlimited.
	RebuildBytesPerSecond int
	// RepairBatch is the number of keys repaired per round trip.
	RepairBatch int
	// Enabled: a disabled node starts no exchanges and no rebuilds.
	Enabled bool
	// Window restricts when exchanges start; the zero Window is always.
	Window Window
}

// DefaultConfig returns production defaults: 4096 segments (64 branches of
// 64), an exchange per pair every 15s±5s, two at a time, and a weekly
// rebuild scan at 8 MiB/s.
func DefaultConfig() Config {
	return Config{
		Segments:              4096,
		ExchangeInterval:      15 * time.Second,
		ExchangeJitter:        5 * time.Second,
		MaxConcurrent:         2,
		ExchangeTimeout:       time.Minute,
		RebuildInterval:       7 * 24 * time.Hour,
		RebuildJitter:         24 * time.Hour,
		RebuildBytesPerSecond: 8 << 20,
		RepairBatch:           64,
		Enabled:               true,
	}
}

// DefaultLocalConfig is DefaultConfig for tests: smaller trees, short
// intervals and timeouts, no rate limit.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.Segments = 1024
	c.ExchangeInterval = time.Second
	c.ExchangeJitter = 100 * time.Millisecond
	c.ExchangeTimeout = 5 * time.Second
	c.RebuildInterval = time.Hour
	c.RebuildJitter = time.Minute
	c.RebuildBytesPerSecond = 0
	return c
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.Segments < minSegments || c.Segments > maxSegments || !isPow2(c.Segments):
		return fmt.Errorf("antientropy: config: Segments %d is not a power of two in [%d, %d]", c.Segments, minSegments, maxSegments)
	case c.ExchangeInterval <= 0:
		return fmt.Errorf("antientropy: config: ExchangeInterval %v must be positive", c.ExchangeInterval)
	case c.ExchangeJitter < 0 || c.ExchangeJitter >= c.ExchangeInterval:
		return fmt.Errorf("antientropy: config: ExchangeJitter %v must be in [0, ExchangeInterval %v)", c.ExchangeJitter, c.ExchangeInterval)
	case c.MaxConcurrent < 1:
		return fmt.Errorf("antientropy: config: MaxConcurrent %d must be at least 1", c.MaxConcurrent)
	case c.ExchangeTimeout <= 0:
		return fmt.Errorf("antientropy: config: ExchangeTimeout %v must be positive", c.ExchangeTimeout)
	case c.RebuildInterval <= 0:
		return fmt.Errorf("antientropy: config: RebuildInterval %v must be positive", c.RebuildInterval)
	case c.RebuildJitter < 0 || c.RebuildJitter >= c.RebuildInterval:
		return fmt.Errorf("antientropy: config: RebuildJitter %v must be in [0, RebuildInterval %v)", c.RebuildJitter, c.RebuildInterval)
	case c.RebuildBytesPerSecond < 0:
		return fmt.Errorf("antientropy: config: RebuildBytesPerSecond %d must not be negative", c.RebuildBytesPerSecond)
	case c.RepairBatch < 1:
		return fmt.Errorf("antientropy: config: RepairBatch %d must be at least 1", c.RepairBatch)
	}
	if err := c.Window.validate(); err != nil {
		return fmt.Errorf("antientropy: config: Window: %w", err)
	}
	return nil
}

// Branches returns the number of branches of a tree of c.Segments.
func (c Config) Branches() int { return branchCount(c.Segments) }

// branchCount is B = 2^(log2(S)/2): about the square root of S, so that
// an exchange reads about as many hashes at the branch level as at the
// segment level of one differing branch.
func branchCount(segments int) int {
	return 1 << (bits.TrailingZeros(uint(segments)) / 2)
}

func isPow2(n int) bool { return n > 0 && n&(n-1) == 0 }
