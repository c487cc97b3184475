package node

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// BenchmarkMemoryPerKey measures what a node holds in memory per stored
// key. It loads keys through Node.Put (coordination, the replica's
// read-merge-write, the anti-entropy index entry and tree update: every
// structure a write touches) into one node (N=1, production ring size and
// anti-entropy trees) on a Badger engine with the production default
// configuration, in steps of CAIRN_MEM_KEYS total keys (default
// 1000000,2000000,5000000,10000000). After each step it reports the Go
// live heap after a GC, the process RSS (anonymous and file-backed), what
// Badger holds (block cache, table indexes and bloom filters, which Badger
// reads in place from its memory-mapped tables) and the bytes per key
// beyond the configured block cache, overall and as the slope since the
// previous step.
//
// Keys are ~21 bytes (bucket "bktNN", key 16 hex digits, in a scrambled
// order so that each vnode receives them unsorted); values are 100 random
// bytes. With CAIRN_MEM_PROFILE=dir it writes a heap profile there after
// each step. The benchmark runs once whatever b.N (run it with -benchtime
// 1x, as `make bench-memory` does) and is skipped under -short (make
// bench-micro).
func BenchmarkMemoryPerKey(b *testing.B) {
	if testing.Short() {
		b.Skip("loads millions of keys: run it with make bench-memory")
	}
	steps, err := memSteps(os.Getenv("CAIRN_MEM_KEYS"))
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.NodeID = "mem"
	cfg.Props.NVal = 1
	cfg.Props.R, cfg.Props.W = QuorumOne, QuorumOne
	cfg.Logger = slog.New(slog.DiscardHandler)
	n, eng := benchBadgerNode(b, cfg)

	base := sampleMemory(b, n, eng)
	sc := store.DefaultConfig() // the engine's, as benchBadgerNode opens it
	b.Logf("store: memtables %d × %d MiB, block cache %d MiB; ring %d, aae segments %d, GOMAXPROCS %d",
		sc.NumMemtables, sc.MemTableSize>>20, sc.BlockCacheSize>>20, cfg.RingSize, cfg.AAE.Segments, runtime.GOMAXPROCS(0))
	b.Logf("%10s %8s %9s %9s %9s %9s %9s %9s %8s %8s %9s %9s %9s",
		"keys", "load", "heap MiB", "rss MiB", "anon MiB", "file MiB", "bcache", "index", "bloom", "trees", "heap B/k", "rss B/k", "slope B/k")
	b.Logf("%10d %8s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %8.1f %8.1f", 0, "-",
		mib(base.heap), mib(base.rss), mib(base.anon), mib(base.file), mib(base.bcache), mib(base.index), mib(base.bloom), mib(base.trees))

	var loaded int
	prev := base
	start := time.Now()
	for _, total := range steps {
		t0 := time.Now()
		loadKeys(b, n, loaded, total)
		took := time.Since(t0)
		loaded = total
		m := sampleMemory(b, n, eng)
		beyond := float64(m.rss - sc.BlockCacheSize)
		slope := float64(m.rss-prev.rss) / float64(m.keys-prev.keys)
		b.Logf("%10d %8s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %8.1f %8.1f %9.1f %9.1f %9.1f",
			total, took.Round(time.Second), mib(m.heap), mib(m.rss), mib(m.anon), mib(m.file), mib(m.bcache),
			mib(m.index), mib(m.bloom), mib(m.trees),
			float64(m.heap-m.bcache)/float64(total), beyond/float64(total), slope)
		prev = m
		if dir := os.Getenv("CAIRN_MEM_PROFILE"); dir != "" {
			writeHeapProfile(b, fmt.Sprintf("%s/heap-%d.pprof", dir, total))
		}
		if total == steps[len(steps)-1] {
			b.ReportMetric(beyond/float64(total), "rss-B/key")
			b.ReportMetric(float64(m.heap-m.bcache)/float64(total), "heap-B/key")
			b.ReportMetric(slope, "slope-B/key")
			b.ReportMetric(float64(m.rss), "rss-B")
			b.ReportMetric(float64(m.tableBytes)/float64(total), "disk-B/key")
		}
	}
	b.Logf("total load time %v", time.Since(start).Round(time.Second))
}

// memSteps parses a comma-separated list of increasing key counts.
func memSteps(s string) ([]int, error) {
	if s == "" {
		return []int{1_000_000, 2_000_000, 5_000_000, 10_000_000}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 || (len(out) > 0 && v <= out[len(out)-1]) {
			return nil, fmt.Errorf("CAIRN_MEM_KEYS: %q is not a list of increasing key counts", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// memKey returns the i-th key: a bijective scramble of i, so that keys
// arrive in no order, under one of 16 buckets.
func memKey(i int) Location {
	x := uint64(i)
	// splitmix64's finaliser: a bijection on uint64.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return Location{Type: DefaultType, Bucket: fmt.Sprintf("bkt%02d", x%16), Key: fmt.Sprintf("%016x", x)}
}

// loadKeys puts keys [from, to) with 100-byte values from parallel writers.
func loadKeys(b *testing.B, n *Node, from, to int) {
	const writers = 32
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(from)))
			value := make([]byte, 100)
			ctx := context.Background()
			for {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				for j := 0; j < len(value); j += 8 {
					v := rng.Uint64()
					for k := 0; k < 8 && j+k < len(value); k++ {
						value[j+k] = byte(v >> (8 * k))
					}
				}
				if _, err := n.Put(ctx, memKey(i), object.Content{Value: value, ContentType: "application/octet-stream"}, PutOptions{}); err != nil {
					errs <- fmt.Errorf("put %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// memSample is one measurement.
type memSample struct {
	keys                             int64
	heap, rss, anon, file            int64
	bcache, index, bloom, tableBytes int64
	trees                            int64
}

func sampleMemory(b *testing.B, n *Node, eng *store.Badger) memSample {
	runtime.GC()
	ms := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(ms)
	bm, err := eng.Memory()
	if err != nil {
		b.Fatal(err)
	}
	s := memSample{
		heap:       int64(ms[0].Value.Uint64()),
		bcache:     bm.BlockCache,
		index:      bm.TableIndex,
		bloom:      bm.Bloom,
		tableBytes: bm.TableBytes,
		trees:      int64(n.local.trees.memory()),
	}
	for p := range n.cfg.RingSize {
		s.keys += n.local.trees.keys(p)
	}
	s.rss, s.anon, s.file = procRSS(b)
	return s
}

// procRSS reads VmRSS, RssAnon and RssFile (+ RssShmem) from
// /proc/self/status, in bytes.
func procRSS(b *testing.B) (rss, anon, file int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			rss = kb << 10
		case "RssAnon:":
			anon = kb << 10
		case "RssFile:", "RssShmem:":
			file += kb << 10
		}
	}
	return rss, anon, file
}

// writeHeapProfile writes the heap profile (as of the last GC) to path.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

func mib(v int64) float64 { return float64(v) / (1 << 20) }
