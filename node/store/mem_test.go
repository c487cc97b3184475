package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/cairnkv/cairn/clock"
)

func newFakeMem(policy SyncPolicy, interval time.Duration) (*Mem, *clock.Fake) {
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	return NewMem(Config{Sync: policy, SyncInterval: interval, Clock: clk}), clk
}

func TestMemCrashSyncNone(t *testing.T) {
	m, clk := newFakeMem(SyncNone, 0)
	mustPut(t, m, 1, "synced", "v1")
	mustPut(t, m, 1, "overwritten", "old")
	mustPut(t, m, 1, "deleted", "here")
	mustPut(t, m, 2, "dropped", "here")
	if err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour) // time alone makes nothing durable
	mustPut(t, m, 1, "unsynced", "lost")
	mustPut(t, m, 1, "overwritten", "new")
	if err := m.Delete(1, []byte("deleted")); err != nil {
		t.Fatal(err)
	}
	if err := m.DropPartition(2); err != nil {
		t.Fatal(err)
	}
	if err := m.Write([]Op{
		{Partition: 3, Key: []byte("batch-a"), Value: []byte("x")},
		{Partition: 1, Key: []byte("synced"), Value: []byte("v2")},
	}); err != nil {
		t.Fatal(err)
	}

	m.Crash()

	wantNotFound(t, m, 1, "unsynced")
	wantNotFound(t, m, 3, "batch-a")
	for _, kv := range [][3]string{{"1", "synced", "v1"}, {"1", "overwritten", "old"}, {"1", "deleted", "here"}, {"2", "dropped", "here"}} {
		var p Partition
		fmt.Sscan(kv[0], &p)
		if got := mustGet(t, m, p, kv[1]); string(got) != kv[2] {
			t.Fatalf("after crash %s/%s = %q, want %q", kv[0], kv[1], got, kv[2])
		}
	}
	if got := collect(t, m, 1, ""); len(got) != 3 {
		t.Fatalf("partition 1 after crash: %q", got)
	}
	s, err := m.Stats()
	if err != nil || s.Keys != 4 {
		t.Fatalf("Stats after crash = %+v, %v; want 4 keys", s, err)
	}
	// The engine works after the crash.
	mustPut(t, m, 1, "after", "crash")
	mustGet(t, m, 1, "after")
}

func TestMemCrashSyncAlways(t *testing.T) {
	m, _ := newFakeMem(SyncAlways, 0)
	mustPut(t, m, 1, "a", "1")
	mustPut(t, m, 1, "a", "2")
	mustPut(t, m, 1, "b", "1")
	if err := m.Delete(1, []byte("b")); err != nil {
		t.Fatal(err)
	}
	m.Crash()
	if got := mustGet(t, m, 1, "a"); string(got) != "2" {
		t.Fatalf("a = %q after crash, want 2", got)
	}
	wantNotFound(t, m, 1, "b")
}

func TestMemCrashSyncInterval(t *testing.T) {
	const d = 10 * time.Millisecond
	m, clk := newFakeMem(SyncInterval, d)
	mustPut(t, m, 1, "early", "v")        // t0: covered by the commit at t0+d
	mustPut(t, m, 1, "overwritten", "v1") // t0
	clk.Advance(d - time.Nanosecond)
	mustPut(t, m, 1, "just-before", "v") // t0+d-1ns: covered too
	clk.Advance(time.Nanosecond)         // the commit at t0+d
	mustPut(t, m, 1, "at-commit", "v")   // t0+d: not covered by it
	mustPut(t, m, 1, "overwritten", "v2")
	clk.Advance(d / 2)
	mustPut(t, m, 1, "late", "v")

	m.Crash() // at t0+1.5d: the last commit was t0+d

	mustGet(t, m, 1, "early")
	mustGet(t, m, 1, "just-before")
	wantNotFound(t, m, 1, "at-commit")
	wantNotFound(t, m, 1, "late")
	if got := mustGet(t, m, 1, "overwritten"); string(got) != "v1" {
		t.Fatalf("overwritten = %q, want the committed v1", got)
	}

	// After the crash the schedule restarts from the crash time.
	mustPut(t, m, 1, "second-life", "v")
	clk.Advance(d)
	m.Crash()
	mustGet(t, m, 1, "second-life")
}

// TestMemCrashClosed: Close is a clean shutdown, and Crash on a closed Mem
// a restart that keeps everything.
func TestMemCrashClosed(t *testing.T) {
	m, _ := newFakeMem(SyncNone, 0)
	mustPut(t, m, 1, "k", "v")
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m.Crash()
	mustGet(t, m, 1, "k")
}

// TestMemWaitDurableInterval: under SyncInterval a WaitDurable commits at
// once, as Badger's kicked group commit does, so what it promised survives a
// crash; a later write that nobody waited for and no tick covered does not.
func TestMemWaitDurableInterval(t *testing.T) {
	const d = 10 * time.Millisecond
	m, clk := newFakeMem(SyncInterval, d)
	clk.Advance(3 * time.Millisecond)
	mustPut(t, m, 1, "k", "v")
	if err := m.WaitDurable(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustPut(t, m, 1, "unwaited", "v")
	m.Crash()
	mustGet(t, m, 1, "k")
	if _, err := m.Get(1, []byte("unwaited")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a write no commit covered survived the crash: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.WaitDurable(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestMemUndoLogBounded: under SyncInterval the record of undurable writes
// is trimmed as commits pass.
func TestMemUndoLogBounded(t *testing.T) {
	const d = time.Millisecond
	m, clk := newFakeMem(SyncInterval, d)
	for i := range 10000 {
		mustPut(t, m, 1, fmt.Sprintf("k%d", i%100), "v")
		if i%10 == 9 {
			clk.Advance(d)
		}
	}
	m.mu.Lock()
	n := len(m.undo)
	m.mu.Unlock()
	if n > 10 {
		t.Fatalf("%d undo records kept; want at most one interval's worth (10)", n)
	}
}

func TestMemManyKeys(t *testing.T) {
	const n = 100_000
	m := NewMem()
	rng := rand.New(rand.NewSource(7))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%08d", rng.Int63n(1<<40))
	}
	start := time.Now()
	for _, k := range keys {
		mustPut(t, m, 5, k, k)
	}
	var got []string
	err := m.Iterate(5, nil, func(k, v []byte) error {
		got = append(got, string(k))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	keys = uniq(keys)
	if len(got) != len(keys) {
		t.Fatalf("iterated %d keys, want %d", len(got), len(keys))
	}
	for i := range keys {
		if got[i] != keys[i] {
			t.Fatalf("key %d = %q, want %q", i, got[i], keys[i])
		}
	}
	// A later small change and a prefix scan stay cheap.
	mustPut(t, m, 5, "key-0", "v")
	if got := collect(t, m, 5, "key-0"); len(got) == 0 {
		t.Fatal("prefix scan found nothing")
	}
	t.Logf("100k puts and two scans in %v", time.Since(start))
}

func uniq(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func TestNewMemDefaultsAndPanics(t *testing.T) {
	m := NewMem()
	if m.cfg.Sync != SyncAlways {
		t.Fatalf("NewMem() policy %v, want always", m.cfg.Sync)
	}
	m = NewMem(Config{Sync: SyncInterval})
	if m.cfg.SyncInterval <= 0 || m.cfg.Clock == nil || m.cfg.Logger == nil {
		t.Fatalf("zero fields not defaulted: %+v", m.cfg)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("NewMem accepted an invalid policy")
		}
	}()
	NewMem(Config{Sync: SyncPolicy(42)})
}
