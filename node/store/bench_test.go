package store

import (
	"context"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Benchmarks run on DefaultConfig (a node's sizes) with 16 concurrent
// writers, as a loaded node would have.
//
//	go test -run '^$' -bench . -benchtime 2s ./node/store/

const benchWriters = 16

func benchParallelism() int {
	return max(1, benchWriters/runtime.GOMAXPROCS(0))
}

func openBenchBadger(b *testing.B, policy SyncPolicy) *Badger {
	b.Helper()
	cfg := DefaultConfig()
	cfg.Sync = policy
	return openBenchBadgerConfig(b, cfg)
}

func openBenchBadgerConfig(b *testing.B, cfg Config) *Badger {
	b.Helper()
	cfg.Dir = b.TempDir()
	e, err := OpenBadger(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.Close() })
	return e
}

// benchKey writes the i-th key, spread over 64 partitions.
func benchKey(buf []byte, i uint64) (Partition, []byte) {
	buf = binary.BigEndian.AppendUint64(buf[:0], i*0x9E3779B97F4A7C15)
	return Partition(i % 64), buf
}

func benchPut(b *testing.B, e Engine, durable bool) {
	value := make([]byte, 100)
	var next atomic.Uint64
	ctx := context.Background()
	b.SetParallelism(benchParallelism())
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var kb []byte
		for pb.Next() {
			p, k := benchKey(kb, next.Add(1))
			if err := e.Put(p, k, value); err != nil {
				b.Error(err)
				return
			}
			if durable {
				if err := e.WaitDurable(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		}
	})
}

// BenchmarkBadgerPut: 100-byte values, 16 writers, per policy. Under
// interval and none the write returns before any fsync; under always after
// a group commit shared with the writers that returned meanwhile.
func BenchmarkBadgerPut(b *testing.B) {
	for _, policy := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		b.Run(policy.String(), func(b *testing.B) {
			benchPut(b, openBenchBadger(b, policy), false)
		})
	}
}

// BenchmarkBadgerPutDurable: each writer waits for its write to be durable
// before the next, as a DW request does. Under always that is the Put
// itself; under interval it is a group commit the wait starts at once, so
// the interval should not matter.
func BenchmarkBadgerPutDurable(b *testing.B) {
	b.Run("always", func(b *testing.B) {
		benchPut(b, openBenchBadger(b, SyncAlways), true)
	})
	for _, d := range []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond} {
		b.Run("interval-"+d.String(), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.SyncInterval = d
			benchPut(b, openBenchBadgerConfig(b, cfg), true)
		})
	}
}

// BenchmarkBadgerPutWhileCommitting: writes that do not wait, with group
// commits running underneath at a given interval: what frequent fsyncs cost
// the rest of the write path.
func BenchmarkBadgerPutWhileCommitting(b *testing.B) {
	for _, d := range []time.Duration{time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond} {
		b.Run("interval-"+d.String(), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.SyncInterval = d
			benchPut(b, openBenchBadgerConfig(b, cfg), false)
		})
	}
}

func BenchmarkBadgerGet(b *testing.B) {
	for _, bc := range []struct {
		name      string
		cacheSize int64
	}{{"rowcache", DefaultConfig().CacheSize}, {"nocache", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Sync = SyncNone
			cfg.CacheSize = bc.cacheSize
			benchGet(b, openBenchBadgerConfig(b, cfg))
		})
	}
}

// benchGet reads random keys of 100k (100-byte values) from e, which with
// a row cache of the default size holds most of them after a while.
func benchGet(b *testing.B, e *Badger) {
	const keys = 100_000
	value := make([]byte, 100)
	batch := make([]Op, 0, 1000)
	for i := range uint64(keys) {
		p, k := benchKey(nil, i)
		batch = append(batch, Op{Partition: p, Key: k, Value: value})
		if len(batch) == cap(batch) {
			if err := e.Write(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.SetParallelism(benchParallelism())
	b.ResetTimer()
	var seed atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		rng := rand.New(rand.NewSource(seed.Add(1)))
		var kb []byte
		for pb.Next() {
			p, k := benchKey(kb, uint64(rng.Intn(keys)))
			if _, err := e.Get(p, k); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if s := e.CacheStats(); s.Hits+s.Misses > 0 {
		b.ReportMetric(float64(s.Hits)/float64(s.Hits+s.Misses), "hit-ratio")
	}
}

// BenchmarkFsync prices one fsync, serially, three ways: a bare write+fsync
// of a file, a Badger Put under SyncAlways (a lone writer: one group commit
// per Put), and a Badger Put under SyncNone followed by Sync.
func BenchmarkFsync(b *testing.B) {
	value := make([]byte, 100)
	b.Run("file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "f"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		for b.Loop() {
			if _, err := f.Write(value); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("badger-always", func(b *testing.B) {
		e := openBenchBadger(b, SyncAlways)
		var i uint64
		for b.Loop() {
			i++
			p, k := benchKey(nil, i)
			if err := e.Put(p, k, value); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("badger-put-then-sync", func(b *testing.B) {
		putThenSync(b, openBenchBadger(b, SyncNone), value)
	})
}

func BenchmarkMemPut(b *testing.B) {
	benchPut(b, NewMem(), false)
}

// BenchmarkSyncCPU prices the CPU (user and system, of the whole process)
// that one put-then-sync costs, the work a group commit does 200 times a
// second under the default interval policy. Unlike ns/op, which the
// disk's fsync latency dominates, cpu-ns/op is what the node pays.
func BenchmarkSyncCPU(b *testing.B) {
	value := make([]byte, 100)
	e := openBenchBadger(b, SyncNone)
	start := processCPU(b)
	putThenSync(b, e, value)
	b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
}

// putThenSync is the benchmark loop of a put of a new key followed by a
// sync.
func putThenSync(b *testing.B, e *Badger, value []byte) {
	var i uint64
	for b.Loop() {
		i++
		p, k := benchKey(nil, i)
		if err := e.Put(p, k, value); err != nil {
			b.Fatal(err)
		}
		if err := e.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// processCPU is the process's user plus system time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
