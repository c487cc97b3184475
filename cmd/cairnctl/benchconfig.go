package main

import (
	"fmt"
	"time"

	kv "github.com/cairnkv/cairn/client"
)

// The bounds of a bench run. Every run stops at its duration or its
// operation count, whichever comes first, and neither can be turned off:
// a benchmark left running by mistake must end by itself.
const (
	maxBenchDuration  = time.Hour
	maxBenchOps       = 1_000_000_000
	maxBenchRecords   = 100_000_000
	maxBenchClients   = 1024
	maxBenchValueSize = 8 << 20
)

// benchConfig is one bench run, filled from the flags.
type benchConfig struct {
	Workload string
	// Distribution picks the keys of reads, updates, read-modify-writes
	// and puts: uniform, zipfian or latest. Empty: the workload's own.
	Distribution string
	// Records is how many keys the load phase inserts and the run phase
	// chooses among (plus the run's own inserts).
	Records int64
	// Ops bounds the run phase's operations; Duration bounds each phase.
	Ops      int64
	Duration time.Duration
	Clients  int
	// ValueSize is the size of every value written, in bytes.
	ValueSize   int
	Type        string
	Bucket      string
	ReadQuorum  kv.Quorum
	WriteQuorum kv.Quorum
	// Rate is the target of operations per second, all clients together;
	// 0 runs each client as fast as it goes. With a rate, latency is
	// measured from when each operation was due, not from when it was
	// sent (coordinated-omission correction).
	Rate float64
	// Seed makes the operation mix, the keys and the values repeatable.
	Seed uint64
	// Load runs the load phase, SkipRun skips the run phase.
	Load, SkipRun bool
	// Nodes are the nodes the client spreads its requests over.
	Nodes []string
	// Timeout bounds each operation.
	Timeout time.Duration
	// CAFile and Token are --ca and --token.
	CAFile, Token string
}

// defaultBenchConfig is YCSB's workload A on 1,000 records, 16 clients
// and 100-byte values, for at most a minute or a million operations.
func defaultBenchConfig() benchConfig {
	return benchConfig{
		Workload:  "a",
		Records:   1000,
		Ops:       1_000_000,
		Duration:  time.Minute,
		Clients:   16,
		ValueSize: 100,
		Type:      kv.DefaultType,
		Bucket:    "ycsb",
		Seed:      1,
		Timeout:   10 * time.Second,
	}
}

// validate refuses what the run could not do and every unbounded run.
func (c benchConfig) validate() error {
	if _, ok := findWorkload(c.Workload); !ok {
		return fmt.Errorf("--workload %q: want one of %s", c.Workload, workloadNames())
	}
	if c.Distribution != "" && !validDistribution(c.Distribution) {
		return fmt.Errorf("--distribution %q: want uniform, zipfian or latest", c.Distribution)
	}
	switch {
	case c.Duration <= 0 || c.Duration > maxBenchDuration:
		return fmt.Errorf("--duration %s: want more than 0 and at most %s; every run is bounded in time", c.Duration, maxBenchDuration)
	case c.Ops <= 0 || c.Ops > maxBenchOps:
		return fmt.Errorf("--ops %d: want 1 to %d; every run is bounded in operations", c.Ops, maxBenchOps)
	case c.Records <= 0 || c.Records > maxBenchRecords:
		return fmt.Errorf("--records %d: want 1 to %d", c.Records, maxBenchRecords)
	case c.Clients <= 0 || c.Clients > maxBenchClients:
		return fmt.Errorf("--clients %d: want 1 to %d", c.Clients, maxBenchClients)
	case c.ValueSize < 0 || c.ValueSize > maxBenchValueSize:
		return fmt.Errorf("--value-size %d: want 0 to %d bytes", c.ValueSize, maxBenchValueSize)
	case c.Rate < 0:
		return fmt.Errorf("--rate %g: want a positive number of operations per second, or 0 for as fast as the clients go", c.Rate)
	case c.Rate > 0 && c.Rate < float64(c.Clients)/float64(maxBenchDuration/time.Second):
		return fmt.Errorf("--rate %g with %d clients: each client would wait longer than %s between operations", c.Rate, c.Clients, maxBenchDuration)
	case c.Bucket == "":
		return fmt.Errorf("--bucket is empty")
	case c.Type == "":
		return fmt.Errorf("--type is empty")
	case c.Timeout <= 0:
		return fmt.Errorf("--timeout %s: must be positive", c.Timeout)
	case c.SkipRun && !c.Load:
		return fmt.Errorf("--skip-run without --load: nothing to do")
	case len(c.Nodes) == 0:
		return fmt.Errorf("no node to benchmark")
	}
	return nil
}

// distribution is the key distribution the run uses.
func (c benchConfig) distribution() string {
	if c.Distribution != "" {
		return c.Distribution
	}
	wl, _ := findWorkload(c.Workload)
	return wl.keys
}
