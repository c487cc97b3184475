package antientropy

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{DefaultConfig(), DefaultLocalConfig()} {
		if err := c.Validate(); err != nil {
			t.Fatalf("default config invalid: %v", err)
		}
	}
	if DefaultConfig().Branches() != 64 || DefaultLocalConfig().Branches() != 32 {
		t.Fatal("default branch counts")
	}
	for _, tc := range []struct {
		field string
		mod   func(*Config)
	}{
		{"Segments", func(c *Config) { c.Segments = 32 }},
		{"Segments", func(c *Config) { c.Segments = 1000 }},
		{"Segments", func(c *Config) { c.Segments = 1 << 21 }},
		{"ExchangeInterval", func(c *Config) { c.ExchangeInterval = 0 }},
		{"ExchangeJitter", func(c *Config) { c.ExchangeJitter = c.ExchangeInterval }},
		{"ExchangeJitter", func(c *Config) { c.ExchangeJitter = -1 }},
		{"MaxConcurrent", func(c *Config) { c.MaxConcurrent = 0 }},
		{"ExchangeTimeout", func(c *Config) { c.ExchangeTimeout = 0 }},
		{"RebuildInterval", func(c *Config) { c.RebuildInterval = -time.Hour }},
		{"RebuildJitter", func(c *Config) { c.RebuildJitter = 8 * 24 * time.Hour }},
		{"RebuildBytesPerSecond", func(c *Config) { c.RebuildBytesPerSecond = -1 }},
		{"RepairBatch", func(c *Config) { c.RepairBatch = 0 }},
		{"Window", func(c *Config) { c.Window = Window{Start: time.Hour, End: time.Hour} }},
		{"Window", func(c *Config) { c.Window = Window{Start: 25 * time.Hour} }},
		{"Window", func(c *Config) { c.Window = Window{Start: time.Second} }},
	} {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "antientropy: config: "+tc.field+" ") && !strings.HasPrefix(err.Error(), "antientropy: config: "+tc.field+":") {
			t.Errorf("%+v: err = %v, want one naming %s", c, err, tc.field)
		}
	}
	for _, mod := range []func(*Config){
		func(c *Config) { c.Segments = 64 },
		func(c *Config) { c.Segments = 1 << 20 },
		func(c *Config) { c.ExchangeJitter = 0; c.RebuildJitter = 0 },
		func(c *Config) { c.RebuildBytesPerSecond = 0 },
		func(c *Config) { c.Window = Window{Start: 22 * time.Hour, End: 4 * time.Hour} },
	} {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("valid config rejected: %v", err)
		}
	}
}
