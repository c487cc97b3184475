package store

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestSyncPolicyText(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		got, err := ParseSyncPolicy(p.String())
		if err != nil || got != p {
			t.Fatalf("ParseSyncPolicy(%q) = %v, %v", p.String(), got, err)
		}
	}
	if _, err := ParseSyncPolicy("sometimes"); err == nil {
		t.Fatal("parsed an unknown policy")
	}
	if s := SyncPolicy(9).String(); s != "SyncPolicy(9)" {
		t.Fatalf("String of an invalid policy = %q", s)
	}
	// flag.TextVar works, as cmd/cairn will use it.
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var p SyncPolicy
	fs.TextVar(&p, "sync", SyncInterval, "")
	if err := fs.Parse([]string{"-sync=none"}); err != nil || p != SyncNone {
		t.Fatalf("flag: %v, %v", p, err)
	}
	if err := fs.Parse([]string{"-sync=bogus"}); err == nil {
		t.Fatal("flag accepted a bogus policy")
	}
}

func TestConfigValidate(t *testing.T) {
	for name, cfg := range map[string]Config{"default": DefaultConfig(), "local": DefaultLocalConfig()} {
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s config invalid: %v", name, err)
		}
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"policy", func(c *Config) { c.Sync = 7 }, "sync policy"},
		{"interval", func(c *Config) { c.SyncInterval = 0 }, "SyncInterval"},
		{"memtables", func(c *Config) { c.NumMemtables = 0 }, "NumMemtables"},
		{"cache", func(c *Config) { c.BlockCacheSize = -1 }, "BlockCacheSize"},
		{"compactors", func(c *Config) { c.NumCompactors = 1 }, "NumCompactors"},
		{"table size", func(c *Config) { c.TableSize = 1 << 19 }, "TableSize"},
		{"vlog small", func(c *Config) { c.ValueLogFileSize = 1 << 19 }, "ValueLogFileSize"},
		{"vlog big", func(c *Config) { c.ValueLogFileSize = 2 << 30 }, "ValueLogFileSize"},
		{"threshold small", func(c *Config) { c.ValueThreshold = 63 }, "ValueThreshold"},
		{"threshold big", func(c *Config) { c.ValueThreshold = 1<<20 + 1 }, "ValueThreshold"},
		{"memtable vs threshold", func(c *Config) { c.MemTableSize = 4 << 20; c.ValueThreshold = 1 << 20 }, "MemTableSize"},
		{"logger", func(c *Config) { c.Logger = nil }, "Logger"},
		{"clock", func(c *Config) { c.Clock = nil }, "Clock"},
	} {
		cfg := DefaultConfig()
		tc.change(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error about %s", tc.name, err, tc.want)
		}
	}
	// The interval may be zero when it is not used.
	cfg := DefaultConfig()
	cfg.Sync, cfg.SyncInterval = SyncAlways, 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if DefaultConfig().SyncInterval != 5*time.Millisecond {
		t.Fatal("the documented default interval changed: update DefaultConfig's comment")
	}
}

func TestMaxBatchBytes(t *testing.T) {
	cfg := DefaultConfig()
	if got := cfg.MaxBatchBytes(); got != 15*cfg.MemTableSize/100 {
		t.Fatalf("MaxBatchBytes = %d", got)
	}
}
