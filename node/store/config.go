package store

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// Config configures an engine. Start from DefaultConfig (a node) or
// DefaultLocalConfig (tests, many engines in one process) and override.
type Config struct {
	// Dir holds Badger's files (the node's <data-dir>/kv). Mem ignores it.
	Dir string
	// Sync is the durability policy; see SyncPolicy.
	Sync SyncPolicy
	// SyncInterval is the group-commit period under SyncInterval: the
	// most a power loss can take and the most a WaitDurable waits. Unused
	// under SyncAlways, whose commits follow one another with no timer.
	SyncInterval time.Duration
	// CommitDelay is how long a group commit that someone waits for
	// (a dw write under interval, every write under always) waits before
	// it fsyncs, so that the writes arriving meanwhile share its fsync
	// instead of each starting one of their own. An idle engine (no write
	// in progress, no fsync within the delay) starts at once. Zero always
	// starts at once.
	CommitDelay time.Duration

	// MemTableSize is the size of one Badger memtable (and of its WAL). It
	// also bounds one atomic batch: see MaxBatchBytes.
	MemTableSize int64
	// NumMemtables is how many memtables (the mutable one plus those
	// waiting to be flushed) Badger keeps in memory before stalling
	// writes. Memory for writes is about NumMemtables × MemTableSize.
	NumMemtables int
	// BlockCacheSize is Badger's cache of decompressed SSTable blocks. Zero
	// disables it and, because Badger needs the cache to decompress,
	// compression too.
	BlockCacheSize int64
	// CacheSize is the row cache: values read, in bytes of keys and
	// values, kept up to date by later writes, so that a hot key's read
	// (a get's, or the one before each replica write) skips Badger's
	// memtables and levels. Values longer than CacheSize/64 (at most
	// 64 KiB) are not cached. Zero disables it.
	CacheSize int64
	// NumCompactors is how many compactions Badger runs at once (at least
	// 2: Badger's first compactor only takes L0). Each builds its output
	// tables whole in memory before writing them, up to 13 tables of twice
	// the level's table size at a time, so compactors are most of a
	// loaded engine's heap beyond its memtables and block cache.
	NumCompactors int
	// TableSize is the size of the tables compactions write, at every
	// level. Badger by default doubles it at each level below the first,
	// so that a compaction's builders (held whole in memory) grow with the
	// data; one size for all levels keeps them bounded by this setting.
	// The price is more tables: about the data's size on disk divided by
	// TableSize (1,100 at 10M keys of 100 bytes), each an open file and a
	// memory map, so a node holding hundreds of GB needs a larger TableSize
	// or a higher open-file limit (and vm.max_map_count above 65,530).
	TableSize int64
	// ValueLogFileSize is the size of one value-log file (1 MiB to 2 GiB).
	// Badger maps twice this much address space for the active file.
	ValueLogFileSize int64
	// ValueThreshold: values at least this long go to the value log and
	// leave a pointer in the LSM tree; shorter ones live in the tree. From
	// 64 bytes (so that a value Badger fails to read from the value log can
	// be told from an empty one) to 1 MiB.
	ValueThreshold int64

	// Logger receives Badger's warnings and errors and the engine's own.
	Logger *slog.Logger
	// Clock drives the group-commit ticker of SyncInterval (and Mem's
	// model of it).
	Clock clock.Clock
}

// DefaultConfig returns the configuration of a node's engine. Dir must still
// be set.
//
// Sizes suit a laptop running several nodes, and keep an engine's heap
// bounded by them whatever the size of the data: three 16 MiB memtables, a
// 32 MiB block cache, a 16 MiB row cache, and two compactions building
// 2 MiB tables. Compaction builders are most of the heap under write load
// (Badger holds each table it builds whole in memory, and pools up to
// eight builders' buffers); with Badger's defaults (four compactors,
// tables doubling in size at each level) they grew with the data.
// Measured by BenchmarkMemoryPerKey in node (make bench-memory: one node,
// 100-byte values, writes as fast as the node takes them, 2 vCPUs), the
// live heap after a GC stayed between 160 and 210 MiB from 1M to 10M keys
// before the row cache existed (it adds at most its size), where it had
// reached 730 MiB at 10M with Badger's defaults. Any single value fits in
// one batch.
//
// What does grow with the data is outside the heap: Badger maps its table
// files into memory and reads table indexes and bloom filters in place, so
// the pages it has touched (at 10M keys, 2.2 GB, about 220 bytes per key,
// the tables' size on disk) count in the process's RSS as file-backed
// pages. The kernel reclaims them under memory pressure like the page
// cache they are; Badger's IndexCacheSize would not bound them, as Badger
// v4 consults that cache only for encrypted tables.
//
// ValueThreshold is Badger's maximum, 1 MiB: cairn's objects are almost all
// far smaller, so they live in the LSM tree, overwrites are reclaimed by
// compaction, and value-log GC (RunGC) only matters for objects of 1 MiB or
// more.
//
// The policy is group commit every 5 ms. Measured on the development VM
// (ext4 on a virtio disk, 2 vCPUs; BenchmarkFsync, BenchmarkBadgerPut*, 16
// writers, 100-byte values): one fsync costs 0.2–0.33 ms (a bare file
// write+fsync, a lone writer's Put under always, and a Put followed by a
// group commit all fall in that range). A Put that does not wait costs
// 7–15 µs per op under interval, about the same as under none. Under always
// it costs 0.04–0.06 ms per op, so each of the 16 writers waits 0.6–1 ms
// per write (it was 0.13–0.5 ms per op when always used Badger's
// SyncWrites, which fsyncs each transaction's WAL in turn): the commits run
// back to back and each covers the writes that returned while the previous
// one ran, about half of the 16 writers, the others being still at their
// next write. A write that waits for durability (WaitDurable, for DW) under
// interval does not wait for the tick: it starts a group commit at once, as
// under always, so DW costs the same under both policies.
//
// Two things bound the choice of D. A power loss loses at most D of writes
// acknowledged without DW (their other replicas still hold them). And while
// writes flow the
// disk spends fsync/D of its time on commits: 6% here at 5 ms, 20–40% on
// the 1–2 ms fsyncs of cloud volumes and consumer SSDs, where 2 ms would
// keep the disk syncing back to back (ticks that find a commit running are
// dropped, so it degrades to continuous group commit, not to a backlog).
// 5 ms bounds the loss window to a few milliseconds without saturating
// slower disks; raise it on spinning disks. Always loses nothing on power
// loss, but every write waits for an fsync, DW or not, and while writes
// flow the disk syncs without pause.
func DefaultConfig() Config {
	return Config{
		Sync:             SyncInterval,
		SyncInterval:     5 * time.Millisecond,
		CommitDelay:      300 * time.Microsecond,
		MemTableSize:     16 << 20,
		NumMemtables:     3,
		BlockCacheSize:   32 << 20,
		CacheSize:        16 << 20,
		NumCompactors:    2,
		TableSize:        2 << 20,
		ValueLogFileSize: 64 << 20,
		ValueThreshold:   1 << 20,
		Logger:           slog.New(slog.DiscardHandler),
		Clock:            clock.Real{},
	}
}

// DefaultLocalConfig is DefaultConfig tuned for tests that open many engines
// in one process: 4 MiB memtables, a 4 MiB block cache, a 1 MiB row
// cache, 16 MiB value-log files, values of 64 KiB and more in the value log (so tests exercise it), and a
// 1 ms group commit.
func DefaultLocalConfig() Config {
	c := DefaultConfig()
	c.SyncInterval = time.Millisecond
	c.CommitDelay = 0
	c.MemTableSize = 4 << 20
	c.NumMemtables = 2
	c.BlockCacheSize = 4 << 20
	c.CacheSize = 1 << 20
	c.ValueLogFileSize = 16 << 20
	c.ValueThreshold = 64 << 10
	return c
}

const minValueThreshold = 64

// maxCommitDelay bounds CommitDelay: every durable write waits for it.
const maxCommitDelay = 50 * time.Millisecond

// MaxBatchBytes is the largest batch Write accepts, in Badger's estimate of
// its size: key, value (or a 12-byte pointer for a value of ValueThreshold
// bytes or more) and about 16 bytes per op. It is 15% of MemTableSize.
func (c Config) MaxBatchBytes() int64 { return maxBatchBytes(c.MemTableSize) }

// Validate reports the first problem with c. It does not check Dir, which
// only OpenBadger needs.
func (c Config) Validate() error {
	switch {
	case !c.Sync.valid():
		return fmt.Errorf("store: invalid sync policy %d", int(c.Sync))
	case c.Sync == SyncInterval && c.SyncInterval <= 0:
		return errors.New("store: SyncInterval must be positive under the interval policy")
	case c.CommitDelay < 0 || c.CommitDelay > maxCommitDelay:
		return fmt.Errorf("store: CommitDelay %v outside [0, %v]", c.CommitDelay, maxCommitDelay)
	case c.NumMemtables < 1:
		return errors.New("store: NumMemtables must be at least 1")
	case c.BlockCacheSize < 0:
		return errors.New("store: BlockCacheSize must not be negative")
	case c.CacheSize < 0:
		return errors.New("store: CacheSize must not be negative")
	case c.NumCompactors < 2:
		return fmt.Errorf("store: NumCompactors %d must be at least 2", c.NumCompactors)
	case c.TableSize < 1<<20:
		return fmt.Errorf("store: TableSize %d must be at least 1 MiB", c.TableSize)
	case c.ValueLogFileSize < 1<<20 || c.ValueLogFileSize >= 2<<30:
		return fmt.Errorf("store: ValueLogFileSize %d outside [1 MiB, 2 GiB)", c.ValueLogFileSize)
	case c.ValueThreshold < minValueThreshold || c.ValueThreshold > 1<<20:
		return fmt.Errorf("store: ValueThreshold %d outside [%d, 1 MiB]", c.ValueThreshold, minValueThreshold)
	case c.Logger == nil:
		return errors.New("store: Logger is nil")
	case c.Clock == nil:
		return errors.New("store: Clock is nil")
	}
	// The largest single Put (longest key, longest value kept in the tree)
	// must fit in a batch, or some values could never be written.
	largest := opCost(MaxKeySize, int(c.ValueThreshold-1), c.ValueThreshold)
	if checkBatchSize(1, largest, c.MemTableSize) != nil {
		return fmt.Errorf("store: MemTableSize %d too small for ValueThreshold %d: 15%% of it must exceed ValueThreshold+%d",
			c.MemTableSize, c.ValueThreshold, MaxKeySize+64)
	}
	return nil
}
