package ring

import "fmt"

// Ring size limits and defaults.
const (
	// DefaultSize is the number of partitions of a new cluster's ring.
	DefaultSize = 64
	// MinSize and MaxSize bound the ring size.
	MinSize = 8
	MaxSize = 4096
	// DefaultTargetN is the replica count that Claim keeps on distinct
	// nodes unless told otherwise; it matches the default n_val.
	DefaultTargetN = 3
)

// Config fixes how keys map to partitions. Every node of a cluster must use
// the same Config for the life of the cluster.
type Config struct {
	// Size is the number of partitions Q: a power of two in
	// [MinSize, MaxSize].
	Size int
	// Hash maps key bytes to 64 bits; nil means XXHash.
	Hash Hash
}

// DefaultConfig returns a 64-partition ring hashed with XXHash.
func DefaultConfig() Config {
	return Config{Size: DefaultSize, Hash: XXHash}
}

// Validate reports whether c can build a ring; the error wraps ErrBadSize.
func (c Config) Validate() error {
	if c.Size < MinSize || c.Size > MaxSize || c.Size&(c.Size-1) != 0 {
		return fmt.Errorf("%w: got %d", ErrBadSize, c.Size)
	}
	return nil
}

func (c Config) hash() Hash {
	if c.Hash == nil {
		return XXHash
	}
	return c.Hash
}
