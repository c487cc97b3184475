package store

import (
	"errors"
	"fmt"
	"testing"
)

// TestBadgerMemorySettings: the settings that bound an engine's memory reach
// Badger. The table size is the same at every level, so that compactions
// (which build their tables whole in memory) do not use more memory as the
// data grows.
func TestBadgerMemorySettings(t *testing.T) {
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	cfg.BlockCacheSize = 3 << 20
	cfg.NumCompactors = 3
	cfg.TableSize = 5 << 20
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := b.db.Opts()
	if o.BlockCacheSize != cfg.BlockCacheSize || o.NumCompactors != 3 || o.BaseTableSize != 5<<20 ||
		o.TableSizeMultiplier != 1 || o.MemTableSize != cfg.MemTableSize || o.NumMemtables != cfg.NumMemtables {
		t.Fatalf("badger options %+v do not follow the config %+v", o, cfg)
	}
}

// TestBadgerMemoryReport: Memory reports the configured bounds and, once
// data is flushed to tables, their indexes and bloom filters.
func TestBadgerMemoryReport(t *testing.T) {
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if err := b.Put(Partition(i%4), fmt.Appendf(nil, "key%06d", i), make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
	}
	// Close flushes the memtable into a table.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if b, err = OpenBadger(cfg); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := b.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if m.BlockCacheLimit != cfg.BlockCacheSize || m.MemTableLimit != int64(cfg.NumMemtables)*cfg.MemTableSize {
		t.Fatalf("limits %+v, want the config's", m)
	}
	if m.Tables == 0 || m.TableIndex <= 0 || m.Bloom <= 0 || m.Bloom > m.TableIndex || m.TableBytes <= m.TableIndex {
		t.Fatalf("implausible table figures %+v", m)
	}
	mustGet(t, b, 1, "key000001")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Memory(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Memory after Close: %v, want ErrClosed", err)
	}
}
