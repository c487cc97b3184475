package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
)

func openCachedForTest(t *testing.T, size int64) *Badger {
	t.Helper()
	cfg := DefaultLocalConfig()
	cfg.Sync = SyncNone
	cfg.CacheSize = size
	return openBadgerConfigForTest(t, cfg)
}

// cached reports whether (p, key) is in b's row cache, and its value.
func cached(b *Badger, p Partition, key []byte) ([]byte, bool) {
	return b.cache.c.GetIfPresent(string(encodeKey(p, key)))
}

func TestRowCacheFollowsWrites(t *testing.T) {
	b := openCachedForTest(t, 1<<20)
	k := []byte("k")
	if err := b.Put(1, k, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if _, ok := cached(b, 1, k); ok {
		t.Fatal("a write added a key nobody read to the cache")
	}
	if v := mustGet(t, b, 1, string(k)); string(v) != "v1" {
		t.Fatalf("get: %q", v)
	}
	if v, ok := cached(b, 1, k); !ok || string(v) != "v1" {
		t.Fatalf("after a read the cache holds %q, %v; want v1", v, ok)
	}
	// What Get returns is the caller's: scribbling on it changes nothing.
	v := mustGet(t, b, 1, string(k))
	v[0] = 'X'
	if v := mustGet(t, b, 1, string(k)); string(v) != "v1" {
		t.Fatalf("a caller's scribble reached the cache: %q", v)
	}
	// So is what Write was given.
	buf := []byte("v2")
	if err := b.Put(1, k, buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X'
	if v, ok := cached(b, 1, k); !ok || string(v) != "v2" {
		t.Fatalf("after a write of a cached key the cache holds %q, %v; want v2", v, ok)
	}
	if v := mustGet(t, b, 1, string(k)); string(v) != "v2" {
		t.Fatalf("get after write: %q", v)
	}
	// A batch that writes the key twice leaves the later value.
	if err := b.Write([]Op{{Partition: 1, Key: k, Value: []byte("v3")}, {Partition: 1, Key: k, Value: []byte("v4")}}); err != nil {
		t.Fatal(err)
	}
	if v := mustGet(t, b, 1, string(k)); string(v) != "v4" {
		t.Fatalf("get after a batch: %q", v)
	}
	if err := b.Delete(1, k); err != nil {
		t.Fatal(err)
	}
	if _, ok := cached(b, 1, k); ok {
		t.Fatal("a deleted key stayed in the cache")
	}
	if _, err := b.Get(1, k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	// An empty value is cached and comes back empty, not nil.
	if err := b.Put(1, k, []byte{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v := mustGet(t, b, 1, string(k)); v == nil || len(v) != 0 {
			t.Fatalf("empty value came back as %#v", v)
		}
	}
}

func TestRowCacheSkipsLargeValues(t *testing.T) {
	b := openCachedForTest(t, 64<<10) // values above 1 KiB are not cached
	small, large := []byte("small"), []byte("large")
	if err := b.Write([]Op{
		{Partition: 1, Key: small, Value: make([]byte, 1<<10)},
		{Partition: 1, Key: large, Value: make([]byte, 1<<10+1)},
	}); err != nil {
		t.Fatal(err)
	}
	mustGet(t, b, 1, string(small))
	mustGet(t, b, 1, string(large))
	if _, ok := cached(b, 1, small); !ok {
		t.Fatal("a value of a 64th of the cache was not cached")
	}
	if _, ok := cached(b, 1, large); ok {
		t.Fatal("a value above a 64th of the cache was cached")
	}
	// A cached key that grows past the limit leaves the cache.
	if err := b.Put(1, small, make([]byte, 2<<10)); err != nil {
		t.Fatal(err)
	}
	if _, ok := cached(b, 1, small); ok {
		t.Fatal("a value grown past the limit stayed cached")
	}
	if v := mustGet(t, b, 1, string(small)); len(v) != 2<<10 {
		t.Fatalf("get: %d bytes", len(v))
	}
}

func TestRowCacheDropPartition(t *testing.T) {
	b := openCachedForTest(t, 1<<20)
	for p := Partition(1); p <= 2; p++ {
		if err := b.Put(p, []byte("k"), []byte("v")); err != nil {
			t.Fatal(err)
		}
		mustGet(t, b, p, "k")
	}
	if err := b.DropPartition(1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(1, []byte("k")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get from a dropped partition: %v", err)
	}
	if _, ok := cached(b, 2, []byte("k")); !ok {
		t.Fatal("dropping partition 1 emptied partition 2's cache entries")
	}
}

// The two races the cache settles, played out step by step on the cache
// alone.
func TestRowCacheRaces(t *testing.T) {
	rc := newRowCache(1 << 20)
	k := []byte("k")
	set := func(v string) []Op { return []Op{{Key: k, Value: []byte(v)}} }

	// A Get missed and read "old"; a write of "new" began and ended before
	// the Get filled: the fill must not bring "old" back.
	tk := rc.ticket(k)
	var w cacheWrite
	rc.begin(&w, [][]byte{k})
	rc.end(&w, [][]byte{k}, set("new"), true)
	rc.fill(tk, k, []byte("old"))
	if v, ok := rc.c.GetIfPresent(string(k)); ok {
		t.Fatalf("a stale read filled the cache with %q", v)
	}
	// Nor while the write is still in progress.
	tk = rc.ticket(k)
	rc.begin(&w, [][]byte{k})
	rc.fill(tk, k, []byte("old"))
	rc.end(&w, [][]byte{k}, set("new"), true)
	if v, ok := rc.c.GetIfPresent(string(k)); ok {
		t.Fatalf("a read during a write filled the cache with %q", v)
	}
	// A Get that began during a write does not fill either.
	rc.begin(&w, [][]byte{k})
	tk = rc.ticket(k)
	rc.end(&w, [][]byte{k}, set("new"), true)
	rc.fill(tk, k, []byte("new"))
	if _, ok := rc.c.GetIfPresent(string(k)); ok {
		t.Fatal("a read that began during a write filled the cache")
	}
	// Undisturbed, a fill sticks.
	tk = rc.ticket(k)
	rc.fill(tk, k, []byte("v0"))
	if v, ok := rc.c.GetIfPresent(string(k)); !ok || string(v) != "v0" {
		t.Fatalf("an undisturbed fill: %q, %v", v, ok)
	}

	// Two overlapping writes, A then B, commit in an order the cache does
	// not see: whichever ends last, the key leaves the cache.
	for _, aEndsFirst := range []bool{true, false} {
		rc.fill(rc.ticket(k), k, []byte("v0"))
		var a, b cacheWrite
		rc.begin(&a, [][]byte{k})
		rc.begin(&b, [][]byte{k})
		if aEndsFirst {
			rc.end(&a, [][]byte{k}, set("a"), true)
			rc.end(&b, [][]byte{k}, set("b"), true)
		} else {
			rc.end(&b, [][]byte{k}, set("b"), true)
			rc.end(&a, [][]byte{k}, set("a"), true)
		}
		if v, ok := rc.c.GetIfPresent(string(k)); ok {
			t.Fatalf("overlapping writes (a ends first: %v) left %q cached", aEndsFirst, v)
		}
	}

	// A failed write drops the key.
	rc.fill(rc.ticket(k), k, []byte("v0"))
	rc.begin(&w, [][]byte{k})
	rc.end(&w, [][]byte{k}, set("lost"), false)
	if v, ok := rc.c.GetIfPresent(string(k)); ok {
		t.Fatalf("a failed write left %q cached", v)
	}
}

// Readers and writers at full speed on a few keys of a small cache: no
// read returns a value older than one whose write returned before the read
// began, and once writers stop, the cache agrees with the engine.
func TestRowCacheConcurrent(t *testing.T) {
	b := openCachedForTest(t, 64<<10)
	const (
		keys    = 64
		writers = 4  // each owns keys i with i%writers == its number
		raced   = 16 // more keys, written by
		racers  = 2  // goroutines that race each other
		readers = 4
		rounds  = 400
	)
	key := func(i int) []byte { return fmt.Appendf(nil, "key%03d", i) }
	// Values are "w<writer>:<seq>" padded; owners write rising seqs, so
	// a reader can tell old from new. published[i] is the last seq whose
	// write by key i's owner returned.
	var published [keys]atomic.Int64
	seqOf := func(v []byte) int64 {
		var w, s int64
		if _, err := fmt.Sscanf(string(bytes.TrimRight(v, ".")), "w%d:%d", &w, &s); err != nil {
			t.Errorf("bad value %q", v)
		}
		return s
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewSource(int64(w)))
			for seq := int64(1); seq <= rounds; seq++ {
				for i := w; i < keys; i += writers {
					v := fmt.Appendf(nil, "w%d:%d", w, seq)
					v = append(v, bytes.Repeat([]byte("."), rng.Intn(2000))...)
					if err := b.Put(Partition(i%3), key(i), v); err != nil {
						t.Error(err)
						return
					}
					published[i].Store(seq)
				}
			}
		})
	}
	var racing sync.WaitGroup
	for r := range racers {
		racing.Go(func() {
			// Racers share keys keys..keys+raced-1 with each other, writing
			// and deleting them without order.
			rng := rand.New(rand.NewSource(int64(100 + r)))
			for n := 0; !stop.Load(); n++ {
				i := keys + rng.Intn(raced)
				var err error
				switch rng.Intn(4) {
				case 0:
					err = b.Delete(Partition(i%3), key(i))
				case 1:
					_, err = b.Get(Partition(i%3), key(i))
					if errors.Is(err, ErrNotFound) {
						err = nil
					}
				default:
					err = b.Put(Partition(i%3), key(i), fmt.Appendf(nil, "r%d:%d", r, n))
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for r := range readers {
		racing.Go(func() {
			rng := rand.New(rand.NewSource(int64(200 + r)))
			for !stop.Load() {
				i := rng.Intn(keys)
				before := published[i].Load()
				v, err := b.Get(Partition(i%3), key(i))
				if errors.Is(err, ErrNotFound) && before == 0 {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				if got := seqOf(v); got < before {
					t.Errorf("key %d: read seq %d after seq %d's write returned", i, got, before)
					return
				}
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	racing.Wait()
	if s := b.CacheStats(); s.Hits == 0 {
		t.Fatalf("the cache never hit (%d misses): the test did not exercise it", s.Misses)
	}
	for i := range keys + raced {
		want, err := readUncached(b, Partition(i%3), key(i))
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.Get(Partition(i%3), key(i))
		if errors.Is(err, ErrNotFound) && want == nil {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("key %d: the cache gives %.12q, the engine holds %.12q", i, got, want)
		}
	}
}

// readUncached reads (p, key) from Badger itself.
func readUncached(b *Badger, p Partition, key []byte) ([]byte, error) {
	var v []byte
	err := b.Iterate(p, key, func(k, val []byte) error {
		if bytes.Equal(k, key) {
			v = bytes.Clone(val)
			return ErrStop
		}
		return nil
	})
	return v, err
}
