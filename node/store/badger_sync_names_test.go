package store

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestSyncerNamesFollowTheDirectory checks that the syncer's listing,
// reused while its watch reports no change, still shows every file created,
// removed or renamed since the previous listing.
func TestSyncerNamesFollowTheDirectory(t *testing.T) {
	dir := t.TempDir()
	touch := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newBadgerSyncer(dir)
	t.Cleanup(func() { _ = s.close() })
	want := func(names ...string) {
		t.Helper()
		s.mu.Lock()
		got, err := s.names()
		s.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		got = slices.Clone(got)
		slices.Sort(got)
		slices.Sort(names)
		if !slices.Equal(got, names) {
			t.Fatalf("names %v, want %v", got, names)
		}
	}
	touch("00001.mem")
	want("00001.mem")
	if runtime.GOOS == "linux" && s.watch == nil {
		t.Fatal("no directory watch on linux")
	}
	want("00001.mem") // unchanged: the reused listing
	touch("00002.mem")
	want("00001.mem", "00002.mem")
	if err := os.Remove(filepath.Join(dir, "00001.mem")); err != nil {
		t.Fatal(err)
	}
	want("00002.mem")
	if err := os.Rename(filepath.Join(dir, "00002.mem"), filepath.Join(dir, "000001.vlog")); err != nil {
		t.Fatal(err)
	}
	want("000001.vlog")
	// Writing to a file changes no entry; the listing stays right.
	if err := os.WriteFile(filepath.Join(dir, "000001.vlog"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	want("000001.vlog")
	// After close the syncer starts over and lists again.
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	touch("00003.mem")
	want("000001.vlog", "00003.mem")
}
