package store

import (
	"bytes"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/maypok86/otter/v2"
)

// rowCache is the Badger engine's cache of values (a row cache, in
// Cassandra's and ScyllaDB's words): what Get read, kept fresh by the
// writes that follow, so that reading a hot key (a get's replica read, and
// the read before every replica write) does not walk Badger's memtables
// and levels. Eviction and weighing are otter's (S3-FIFO, weighted by
// bytes); this type only keeps the cache coherent with the engine.
//
// The rule it keeps: the cache holds a key's value only while that is the
// value the engine holds. Two races could break it, and both are settled
// per shard of keys (a hash of the key), under the shard's lock:
//
//   - A Get that missed reads the engine, then fills the cache. A write
//     that started meanwhile may already have replaced what it read. So
//     the Get takes a ticket before it reads (the shard's count of writes
//     begun, and whether one was in progress) and fills only if no write
//     was in progress then and none has begun since.
//   - Two writes of one key that overlap commit in an order the cache
//     cannot see. So a write that ends updates a cached value only if it
//     had its shard to itself from start to end (none in progress when it
//     began, none begun since); otherwise it drops the key from the cache.
//
// A write updates a value already cached, but does not add one: index
// entries and keys that are written but never read do not take the room
// of keys that are read. A write that fails drops its keys (the engine may
// or may not hold them). DropPartition runs while no write does (dropMu)
// and counts as a write in every shard, then drops the partition's keys.
type rowCache struct {
	c        *otter.Cache[string, []byte]
	maxValue int
	seed     maphash.Seed
	shards   [rowCacheShards]cacheShard

	hits, misses atomic.Uint64
}

const (
	rowCacheShards = 256
	// rowCacheOverhead approximates what an entry costs beyond its key
	// and value: otter's node, the string and slice headers, the hash
	// table's slot.
	rowCacheOverhead = 96
)

type cacheShard struct {
	mu sync.Mutex
	// writing counts writes in progress in the shard; begun counts the
	// writes that ever began in it (and drops).
	writing int
	begun   uint64
}

// newRowCache returns a cache of size bytes, or nil for size 0. Values
// longer than a 64th of it (or 64 KiB) are never cached, so that one large
// object does not empty it.
func newRowCache(size int64) *rowCache {
	if size <= 0 {
		return nil
	}
	rc := &rowCache{
		seed:     maphash.MakeSeed(),
		maxValue: int(min(size/64, 64<<10)),
	}
	rc.c = otter.Must(&otter.Options[string, []byte]{
		MaximumWeight: uint64(size),
		Weigher: func(k string, v []byte) uint32 {
			return uint32(len(k) + len(v) + rowCacheOverhead)
		},
	})
	return rc
}

func (rc *rowCache) shard(k []byte) int {
	return int(maphash.Bytes(rc.seed, k) % rowCacheShards)
}

// get returns a copy of k's cached value.
func (rc *rowCache) get(k []byte) ([]byte, bool) {
	v, ok := rc.c.GetIfPresent(string(k))
	if !ok {
		rc.misses.Add(1)
		return nil, false
	}
	rc.hits.Add(1)
	return bytes.Clone(v), true
}

// fillTicket is what a Get that missed notes before it reads the engine.
type fillTicket struct {
	shard int
	begun uint64
	ok    bool // no write was in progress in the shard
}

func (rc *rowCache) ticket(k []byte) fillTicket {
	i := rc.shard(k)
	s := &rc.shards[i]
	s.mu.Lock()
	t := fillTicket{shard: i, begun: s.begun, ok: s.writing == 0}
	s.mu.Unlock()
	return t
}

// fill caches v, which a Get read under t, unless a write may have
// replaced it since.
func (rc *rowCache) fill(t fillTicket, k, v []byte) {
	if !t.ok || len(v) > rc.maxValue {
		return
	}
	s := &rc.shards[t.shard]
	s.mu.Lock()
	if s.begun == t.begun { // and none was in progress at the ticket (t.ok)
		rc.c.Set(string(k), bytes.Clone(v))
	}
	s.mu.Unlock()
}

// cacheWrite is a write's registration in the shards of its keys.
type cacheWrite struct {
	shards []int       // the shard of each key
	marks  []shardMark // one per distinct shard
	sbuf   [4]int
	mbuf   [4]shardMark
}

type shardMark struct {
	shard int
	alone bool   // no write was in progress in the shard when this one began
	mine  uint64 // the shard's begun count just after this one began
}

// begin registers in w a write of the encoded keys.
func (rc *rowCache) begin(w *cacheWrite, keys [][]byte) {
	w.shards, w.marks = w.sbuf[:0], w.mbuf[:0]
next:
	for _, k := range keys {
		i := rc.shard(k)
		w.shards = append(w.shards, i)
		for _, m := range w.marks {
			if m.shard == i {
				continue next
			}
		}
		s := &rc.shards[i]
		s.mu.Lock()
		m := shardMark{shard: i, alone: s.writing == 0}
		s.writing++
		s.begun++
		m.mine = s.begun
		s.mu.Unlock()
		w.marks = append(w.marks, m)
	}
}

// end closes the write w of batch, whose encoded keys are keys: applied
// says whether the engine took it. Each cached key takes its new value if
// the write had its shard to itself and succeeded, and leaves the cache
// otherwise.
func (rc *rowCache) end(w *cacheWrite, keys [][]byte, batch []Op, applied bool) {
	for _, m := range w.marks {
		s := &rc.shards[m.shard]
		s.mu.Lock()
		s.writing--
		keep := applied && m.alone && s.begun == m.mine
		for n, k := range keys {
			if w.shards[n] != m.shard {
				continue
			}
			op := &batch[n]
			ks := string(k)
			if _, cached := rc.c.GetEntryQuietly(ks); !cached {
				continue
			}
			if keep && !op.Delete && len(op.Value) <= rc.maxValue {
				rc.c.Set(ks, bytes.Clone(op.Value))
			} else {
				rc.c.Invalidate(ks)
			}
		}
		s.mu.Unlock()
	}
}

// dropPartition forgets partition p after the engine dropped it. The
// caller holds off every write (dropMu): counting a write in every shard
// stops the Gets that read before the drop from filling afterwards.
func (rc *rowCache) dropPartition(p Partition) {
	for i := range rc.shards {
		s := &rc.shards[i]
		s.mu.Lock()
		s.begun++
		s.mu.Unlock()
	}
	prefix := string(partitionPrefix(p))
	for k := range rc.c.Keys() {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			rc.c.Invalidate(k)
		}
	}
}

// CacheStats are the row cache's figures since the engine opened.
type CacheStats struct {
	// Hits and Misses count Gets answered from the cache and not.
	Hits, Misses uint64
	// Bytes is what the cache holds, bookkeeping included (at most
	// Config.CacheSize).
	Bytes int64
}

// CacheStats returns the row cache's figures (zero without one).
func (b *Badger) CacheStats() CacheStats {
	if b.cache == nil {
		return CacheStats{}
	}
	rc := b.cache
	return CacheStats{Hits: rc.hits.Load(), Misses: rc.misses.Load(), Bytes: int64(rc.c.WeightedSize())}
}
