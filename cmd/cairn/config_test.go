package main

import (
	"testing"

	"github.com/cairnkv/cairn/node/store"
)

// TestParseConfigStorage: the storage engine's memory flags reach the
// engine's configuration, their defaults are the engine's, and values the
// engine would refuse are refused at parse time.
func TestParseConfigStorage(t *testing.T) {
	env := func(string) string { return "" }
	cfg, err := parseConfig([]string{
		"--block-cache-size", "1048576", "--cache-size", "2097152", "--memtable-size", "33554432", "--memtables", "2", "--compactors", "3", "--table-size", "4194304",
	}, env)
	if err != nil {
		t.Fatal(err)
	}
	sc := cfg.storeConfig()
	if sc.BlockCacheSize != 1<<20 || sc.CacheSize != 2<<20 || sc.MemTableSize != 32<<20 || sc.NumMemtables != 2 || sc.NumCompactors != 3 || sc.TableSize != 4<<20 {
		t.Fatalf("flags not applied: %+v", sc)
	}
	def, want := DefaultConfig().storeConfig(), store.DefaultConfig()
	if def.BlockCacheSize != want.BlockCacheSize || def.CacheSize != want.CacheSize || def.MemTableSize != want.MemTableSize ||
		def.NumMemtables != want.NumMemtables || def.NumCompactors != want.NumCompactors || def.TableSize != want.TableSize {
		t.Fatalf("defaults %+v differ from the engine's %+v", def, want)
	}
	for _, args := range [][]string{
		{"--block-cache-size", "-1"},
		{"--cache-size", "-1"},
		{"--memtables", "0"},
		{"--compactors", "1"},
		{"--table-size", "1000"},
		{"--memtable-size", "1048576"}, // too small for the largest value kept in the tree
	} {
		if _, err := parseConfig(args, env); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
