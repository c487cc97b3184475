package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"
)

// engineFactory opens a fresh, empty engine for one test.
type engineFactory func(t *testing.T) Engine

func openBadgerForTest(t *testing.T, policy SyncPolicy) Engine {
	t.Helper()
	cfg := DefaultLocalConfig()
	cfg.Sync = policy
	return openBadgerConfigForTest(t, cfg)
}

func openBadgerConfigForTest(t *testing.T, cfg Config) *Badger {
	t.Helper()
	cfg.Dir = t.TempDir()
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

var factories = map[string]engineFactory{
	"badger-always":   func(t *testing.T) Engine { return openBadgerForTest(t, SyncAlways) },
	"badger-interval": func(t *testing.T) Engine { return openBadgerForTest(t, SyncInterval) },
	"badger-none":     func(t *testing.T) Engine { return openBadgerForTest(t, SyncNone) },
	"badger-nocache": func(t *testing.T) Engine {
		cfg := DefaultLocalConfig()
		cfg.Sync, cfg.CacheSize = SyncNone, 0
		return openBadgerConfigForTest(t, cfg)
	},
	"mem": func(t *testing.T) Engine { return NewMem() },
	"mem-interval": func(t *testing.T) Engine {
		return NewMem(Config{Sync: SyncInterval, SyncInterval: time.Millisecond})
	},
	"mem-none":      func(t *testing.T) Engine { return NewMem(Config{Sync: SyncNone}) },
	"faulty-mem":    func(t *testing.T) Engine { return NewFaulty(NewMem()) },
	"faulty-badger": func(t *testing.T) Engine { return NewFaulty(openBadgerForTest(t, SyncNone)) },
}

func TestConformance(t *testing.T) {
	names := make([]string, 0, len(factories))
	for name := range factories {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		open := factories[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, c := range conformanceCases {
				t.Run(c.name, func(t *testing.T) { c.fn(t, open(t)) })
			}
		})
	}
}

var conformanceCases = []struct {
	name string
	fn   func(t *testing.T, e Engine)
}{
	{"GetPutDelete", testGetPutDelete},
	{"Batch", testBatch},
	{"BatchAtomicOnError", testBatchAtomicOnError},
	{"BatchAtomicForReaders", testBatchAtomicForReaders},
	{"IterateOrderAndPrefix", testIterateOrderAndPrefix},
	{"IterateFrom", testIterateFrom},
	{"PartitionIsolation", testPartitionIsolation},
	{"IterateStop", testIterateStop},
	{"IterateCallbackWrites", testIterateCallbackWrites},
	{"DropPartition", testDropPartition},
	{"NoAliasing", testNoAliasing},
	{"LargeValues", testLargeValues},
	{"InvalidKeys", testInvalidKeys},
	{"ConcurrentWriters", testConcurrentWriters},
	{"SyncAndWaitDurable", testSyncAndWaitDurable},
	{"Closed", testClosed},
}

func mustGet(t *testing.T, e Engine, p Partition, key string) []byte {
	t.Helper()
	v, err := e.Get(p, []byte(key))
	if err != nil {
		t.Fatalf("Get(%d, %q): %v", p, key, err)
	}
	return v
}

func mustPut(t *testing.T, e Engine, p Partition, key, value string) {
	t.Helper()
	if err := e.Put(p, []byte(key), []byte(value)); err != nil {
		t.Fatalf("Put(%d, %q): %v", p, key, err)
	}
}

func wantNotFound(t *testing.T, e Engine, p Partition, key string) {
	t.Helper()
	if v, err := e.Get(p, []byte(key)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%d, %q) = %q, %v; want ErrNotFound", p, key, v, err)
	}
}

// collect returns partition p's entries under prefix, in iteration order.
func collect(t *testing.T, e Engine, p Partition, prefix string) [][2]string {
	t.Helper()
	var out [][2]string
	err := e.Iterate(p, []byte(prefix), func(k, v []byte) error {
		out = append(out, [2]string{string(k), string(v)})
		return nil
	})
	if err != nil {
		t.Fatalf("Iterate(%d, %q): %v", p, prefix, err)
	}
	return out
}

func testGetPutDelete(t *testing.T, e Engine) {
	wantNotFound(t, e, 7, "k")
	mustPut(t, e, 7, "k", "v1")
	if got := mustGet(t, e, 7, "k"); string(got) != "v1" {
		t.Fatalf("got %q, want v1", got)
	}
	mustPut(t, e, 7, "k", "v2")
	if got := mustGet(t, e, 7, "k"); string(got) != "v2" {
		t.Fatalf("after overwrite got %q, want v2", got)
	}
	if err := e.Delete(7, []byte("k")); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, e, 7, "k")
	if err := e.Delete(7, []byte("never-there")); err != nil {
		t.Fatalf("deleting a missing key: %v", err)
	}

	// Empty values are stored and come back non-nil; empty keys work.
	mustPut(t, e, 7, "empty", "")
	if got := mustGet(t, e, 7, "empty"); got == nil || len(got) != 0 {
		t.Fatalf("empty value came back as %#v", got)
	}
	mustPut(t, e, 7, "", "empty key")
	if got := mustGet(t, e, 7, ""); string(got) != "empty key" {
		t.Fatalf("empty key: got %q", got)
	}
	if err := e.Put(7, []byte("nil"), nil); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, e, 7, "nil"); got == nil || len(got) != 0 {
		t.Fatalf("nil value came back as %#v", got)
	}
}

func testBatch(t *testing.T, e Engine) {
	mustPut(t, e, 1, "gone", "x")
	err := e.Write([]Op{
		{Partition: 1, Key: []byte("a"), Value: []byte("1")},
		{Partition: 2, Key: []byte("a"), Value: []byte("2")},
		{Partition: 1, Key: []byte("gone"), Delete: true},
		{Partition: 1, Key: []byte("twice"), Value: []byte("first")},
		{Partition: 1, Key: []byte("twice"), Value: []byte("second")},
		{Partition: 1, Key: []byte("put-then-delete"), Value: []byte("x")},
		{Partition: 1, Key: []byte("put-then-delete"), Delete: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, e, 1, "a"); string(got) != "1" {
		t.Fatalf("p1 a = %q", got)
	}
	if got := mustGet(t, e, 2, "a"); string(got) != "2" {
		t.Fatalf("p2 a = %q", got)
	}
	wantNotFound(t, e, 1, "gone")
	if got := mustGet(t, e, 1, "twice"); string(got) != "second" {
		t.Fatalf("later op must win: got %q", got)
	}
	wantNotFound(t, e, 1, "put-then-delete")
	if err := e.Write(nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

func testBatchAtomicOnError(t *testing.T, e Engine) {
	mustPut(t, e, 3, "keep", "old")
	// A bad key at the end fails the whole batch.
	err := e.Write([]Op{
		{Partition: 3, Key: []byte("new"), Value: []byte("v")},
		{Partition: 3, Key: []byte("keep"), Delete: true},
		{Partition: 3, Key: make([]byte, MaxKeySize+1), Value: []byte("v")},
	})
	if !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("got %v, want ErrInvalidKey", err)
	}
	wantNotFound(t, e, 3, "new")
	mustGet(t, e, 3, "keep")

	// So does a batch too large for one transaction.
	big := make([]Op, 0, 20000)
	for i := range cap(big) {
		big = append(big, Op{Partition: 3, Key: fmt.Appendf(nil, "big%06d", i), Value: make([]byte, 100)})
	}
	if err := e.Write(big); !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("got %v, want ErrBatchTooLarge", err)
	}
	wantNotFound(t, e, 3, "big000000")
}

// testBatchAtomicForReaders: readers never see half a batch.
func testBatchAtomicForReaders(t *testing.T, e Engine) {
	const rounds = 200
	write := func(i int) error {
		v := fmt.Appendf(nil, "%d", i)
		return e.Write([]Op{
			{Partition: 4, Key: []byte("a"), Value: v},
			{Partition: 4, Key: []byte("b"), Value: v},
			{Partition: 4, Key: []byte("c"), Value: v},
		})
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		for {
			select {
			case <-done:
				return
			default:
			}
			var vals []string
			err := e.Iterate(4, nil, func(k, v []byte) error {
				vals = append(vals, string(v))
				return nil
			})
			if err != nil {
				errc <- err
				return
			}
			if len(vals) != 3 || vals[0] != vals[1] || vals[1] != vals[2] {
				errc <- fmt.Errorf("torn batch seen: %q", vals)
				return
			}
		}
	}()
	for i := 1; i <= rounds; i++ {
		if err := write(i); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func testIterateOrderAndPrefix(t *testing.T, e Engine) {
	keys := []string{"", "\x00", "\x00\x00", "a", "ab", "abc", "abd", "ac", "b", "z", "\xff", "\xff\xff"}
	rng := rand.New(rand.NewSource(1))
	shuffled := append([]string(nil), keys...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, k := range shuffled {
		mustPut(t, e, 9, k, "v"+k)
	}
	// Neighbours on both sides must not leak in.
	mustPut(t, e, 8, "\xff\xff\xff", "p8")
	mustPut(t, e, 10, "", "p10")

	got := collect(t, e, 9, "")
	if len(got) != len(keys) {
		t.Fatalf("got %d entries, want %d: %q", len(got), len(keys), got)
	}
	for i, kv := range got {
		if kv[0] != keys[i] || kv[1] != "v"+keys[i] {
			t.Fatalf("entry %d = %q, want key %q", i, kv, keys[i])
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a", "ab", "abc", "abd", "ac"}},
		{"ab", []string{"ab", "abc", "abd"}},
		{"abc", []string{"abc"}},
		{"abz", nil},
		{"\x00", []string{"\x00", "\x00\x00"}},
		{"\xff", []string{"\xff", "\xff\xff"}},
		{"\xff\xff\xff", nil},
	} {
		var gotKeys []string
		for _, kv := range collect(t, e, 9, tc.prefix) {
			gotKeys = append(gotKeys, kv[0])
		}
		if fmt.Sprint(gotKeys) != fmt.Sprint(tc.want) {
			t.Errorf("prefix %q: got %q, want %q", tc.prefix, gotKeys, tc.want)
		}
	}
	if got := collect(t, e, 11, ""); len(got) != 0 {
		t.Fatalf("empty partition yielded %q", got)
	}
}

func testPartitionIsolation(t *testing.T, e Engine) {
	parts := []Partition{0, 1, 2, 0x00FFFFFF, 0x01000000, 0xFFFFFFFE, 0xFFFFFFFF}
	for _, p := range parts {
		for _, k := range []string{"", "k", "\xff\xff\xff\xff"} {
			mustPut(t, e, p, k, fmt.Sprintf("%d/%q", p, k))
		}
		// Keys that spell the next partition's encoding.
		mustPut(t, e, p, "\x00\x00\x00\x02", fmt.Sprintf("%d/spelled", p))
	}
	for _, p := range parts {
		got := collect(t, e, p, "")
		if len(got) != 4 {
			t.Fatalf("partition %#x: %d entries, want 4: %q", p, len(got), got)
		}
		for _, kv := range got {
			if !bytes.HasPrefix([]byte(kv[1]), fmt.Appendf(nil, "%d/", p)) {
				t.Fatalf("partition %#x yielded %q from another partition", p, kv)
			}
		}
		if v := mustGet(t, e, p, "k"); string(v) != fmt.Sprintf("%d/%q", p, "k") {
			t.Fatalf("partition %#x Get = %q", p, v)
		}
	}
	wantNotFound(t, e, 3, "k")
	if err := e.DropPartition(0xFFFFFFFF); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, e, 0xFFFFFFFF, ""); len(got) != 0 {
		t.Fatalf("dropped partition still yields %q", got)
	}
	for _, p := range parts[:len(parts)-1] {
		if got := collect(t, e, p, ""); len(got) != 4 {
			t.Fatalf("dropping 0xFFFFFFFF changed partition %#x: %q", p, got)
		}
	}
}

func testIterateStop(t *testing.T, e Engine) {
	for i := range 10 {
		mustPut(t, e, 5, fmt.Sprintf("k%d", i), "v")
	}
	n := 0
	err := e.Iterate(5, nil, func(k, v []byte) error {
		n++
		if n == 3 {
			return ErrStop
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("ErrStop: err %v after %d calls, want nil after 3", err, n)
	}
	n = 0
	err = e.Iterate(5, nil, func(k, v []byte) error {
		n++
		return fmt.Errorf("wrapped: %w", ErrStop)
	})
	if err != nil || n != 1 {
		t.Fatalf("wrapped ErrStop: err %v after %d calls", err, n)
	}
	boom := errors.New("boom")
	n = 0
	err = e.Iterate(5, nil, func(k, v []byte) error {
		n++
		if n == 2 {
			return boom
		}
		return nil
	})
	if err != boom || n != 2 {
		t.Fatalf("callback error: got %v after %d calls, want boom after 2", err, n)
	}
}

func testIterateCallbackWrites(t *testing.T, e Engine) {
	for i := range 20 {
		mustPut(t, e, 6, fmt.Sprintf("k%02d", i), "v")
	}
	err := e.Iterate(6, nil, func(k, v []byte) error {
		if _, err := e.Get(6, k); err != nil {
			return err
		}
		return e.Delete(6, k)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, e, 6, ""); len(got) != 0 {
		t.Fatalf("left after deleting during iteration: %q", got)
	}
}

func testDropPartition(t *testing.T, e Engine) {
	for i := range 100 {
		mustPut(t, e, 12, fmt.Sprintf("k%03d", i), "v")
		mustPut(t, e, 13, fmt.Sprintf("k%03d", i), "w")
	}
	if err := e.DropPartition(12); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, e, 12, "k000")
	if got := collect(t, e, 12, ""); len(got) != 0 {
		t.Fatalf("dropped partition yields %d entries", len(got))
	}
	if got := collect(t, e, 13, ""); len(got) != 100 {
		t.Fatalf("neighbour lost entries: %d left", len(got))
	}
	mustPut(t, e, 12, "again", "v")
	if got := mustGet(t, e, 12, "again"); string(got) != "v" {
		t.Fatalf("write after drop: %q", got)
	}
	if err := e.DropPartition(99); err != nil {
		t.Fatalf("dropping an empty partition: %v", err)
	}
}

func testNoAliasing(t *testing.T, e Engine) {
	key := []byte("key")
	val := []byte("value")
	if err := e.Put(14, key, val); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X'
	key[0] = 'X'
	got := mustGet(t, e, 14, "key")
	if string(got) != "value" {
		t.Fatalf("mutating Put's input changed the store: %q", got)
	}
	got[0] = 'Y'
	if again := mustGet(t, e, 14, "key"); string(again) != "value" {
		t.Fatalf("mutating Get's result changed the store: %q", again)
	}
	wantNotFound(t, e, 14, "Xey")

	batch := []Op{{Partition: 14, Key: []byte("b"), Value: []byte("batch")}}
	if err := e.Write(batch); err != nil {
		t.Fatal(err)
	}
	batch[0].Key[0], batch[0].Value[0] = 'Z', 'Z'
	if got := mustGet(t, e, 14, "b"); string(got) != "batch" {
		t.Fatalf("mutating a batch changed the store: %q", got)
	}

	// Two Gets never share memory.
	a, b := mustGet(t, e, 14, "key"), mustGet(t, e, 14, "key")
	a[1] = '!'
	if string(b) != "value" {
		t.Fatalf("Get results alias each other: %q", b)
	}
}

func testLargeValues(t *testing.T, e Engine) {
	// Above DefaultLocalConfig's ValueThreshold: Badger keeps these in its
	// value log.
	sizes := []int{64<<10 - 1, 64 << 10, 300 << 10}
	for i, n := range sizes {
		v := bytes.Repeat([]byte{byte(i + 1)}, n)
		v[n/2] = 0xAB
		if err := e.Put(15, fmt.Appendf(nil, "v%d", i), v); err != nil {
			t.Fatalf("Put %d bytes: %v", n, err)
		}
	}
	for i, n := range sizes {
		got := mustGet(t, e, 15, fmt.Sprintf("v%d", i))
		if len(got) != n || got[0] != byte(i+1) || got[n/2] != 0xAB {
			t.Fatalf("value %d (%d bytes) came back wrong (%d bytes)", i, n, len(got))
		}
	}
	i := 0
	err := e.Iterate(15, nil, func(k, v []byte) error {
		if len(v) != sizes[i] || v[len(v)/2] != 0xAB {
			return fmt.Errorf("iterated value %d wrong", i)
		}
		i++
		return nil
	})
	if err != nil || i != len(sizes) {
		t.Fatalf("iterate: %v after %d", err, i)
	}
}

func testInvalidKeys(t *testing.T, e Engine) {
	long := make([]byte, MaxKeySize+1)
	if err := e.Put(1, long, []byte("v")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Put long key: %v", err)
	}
	if _, err := e.Get(1, long); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Get long key: %v", err)
	}
	if err := e.Put(1, long[:MaxKeySize], []byte("v")); err != nil {
		t.Fatalf("Put key of MaxKeySize: %v", err)
	}
	if err := e.Put(reservedPartition, []byte("ger!x"), []byte("v")); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Put on badger's reserved range: %v", err)
	}
	if err := e.Put(reservedPartition, []byte("ger"), []byte("v")); err != nil {
		t.Fatalf("Put next to the reserved range: %v", err)
	}
}

func testConcurrentWriters(t *testing.T, e Engine) {
	const writers, perWriter = 8, 100
	var wg sync.WaitGroup
	errc := make(chan error, writers*2)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				p := Partition(w % 3)
				k := fmt.Appendf(nil, "w%d-%03d", w, i)
				if err := e.Put(p, k, k); err != nil {
					errc <- err
					return
				}
			}
		}()
		go func() { // readers alongside
			defer wg.Done()
			for i := range perWriter {
				_, err := e.Get(Partition(w%3), fmt.Appendf(nil, "w%d-%03d", w, i))
				if err != nil && !errors.Is(err, ErrNotFound) {
					errc <- err
					return
				}
				if i%20 == 0 {
					if err := e.Iterate(Partition(w%3), nil, func(k, v []byte) error {
						if !bytes.Equal(k, v) {
							return fmt.Errorf("key %q holds %q", k, v)
						}
						return nil
					}); err != nil {
						errc <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	total := 0
	for p := range Partition(3) {
		total += len(collect(t, e, p, "w"))
	}
	if total != writers*perWriter {
		t.Fatalf("found %d keys, want %d", total, writers*perWriter)
	}
}

func testSyncAndWaitDurable(t *testing.T, e Engine) {
	mustPut(t, e, 1, "k", "v")
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.WaitDurable(ctx); err != nil {
		t.Fatal(err)
	}
}

func testClosed(t *testing.T, e Engine) {
	mustPut(t, e, 1, "k", "v")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]error{
		"Close":         e.Close(),
		"Put":           e.Put(1, []byte("k"), []byte("v")),
		"Delete":        e.Delete(1, []byte("k")),
		"Write":         e.Write([]Op{{Partition: 1, Key: []byte("k")}}),
		"Iterate":       e.Iterate(1, nil, func(k, v []byte) error { return nil }),
		"DropPartition": e.DropPartition(1),
		"Sync":          e.Sync(),
		"WaitDurable":   e.WaitDurable(context.Background()),
	}
	_, calls["Get"] = e.Get(1, []byte("k"))
	for name, err := range calls {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
}

// IterateFrom visits the keys of one partition from start on, in order,
// and nothing of the neighbouring partitions.
func testIterateFrom(t *testing.T, e Engine) {
	keys := []string{"", "\x00", "a", "ab", "abc", "b", "z", "\xff", "\xff\xff"}
	for _, k := range keys {
		mustPut(t, e, 9, k, "v"+k)
	}
	mustPut(t, e, 8, "\xff\xff\xff", "p8")
	mustPut(t, e, 10, "", "p10")
	for _, tc := range []struct {
		start string
		want  []string
	}{
		{"", keys},
		{"a", []string{"a", "ab", "abc", "b", "z", "\xff", "\xff\xff"}},
		{"aa", []string{"ab", "abc", "b", "z", "\xff", "\xff\xff"}},
		{"abc\x00", []string{"b", "z", "\xff", "\xff\xff"}},
		{"\xff\xff\x00", nil},
	} {
		var got []string
		err := e.IterateFrom(9, []byte(tc.start), func(k, v []byte) error {
			if string(v) != "v"+string(k) {
				t.Errorf("start %q: %q holds %q", tc.start, k, v)
			}
			got = append(got, string(k))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("start %q: got %q, want %q", tc.start, got, tc.want)
		}
	}
	var n int
	if err := e.IterateFrom(9, []byte("a"), func(_, _ []byte) error { n++; return ErrStop }); err != nil || n != 1 {
		t.Fatalf("ErrStop: %d visits, %v", n, err)
	}
}
