package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// clusterLoad is one measured phase: how many operations succeeded, how
// long the phase took and the latency of each successful operation.
type clusterLoad struct {
	ops, errs int64
	elapsed   time.Duration
	hist      *hdrhistogram.Histogram // µs
}

func (l clusterLoad) opsPerSec() float64 { return float64(l.ops) / l.elapsed.Seconds() }

func (l clusterLoad) ms(q float64) float64 { return float64(l.hist.ValueAtQuantile(q)) / 1000 }

// runClusterLoad runs op(client, i) for i in [0, count) over clients
// goroutines, stopping early once maxTime has passed. op reports whether
// the operation succeeded; only successes are counted and timed.
func runClusterLoad(clients, count int, maxTime time.Duration, op func(client, i int) bool) clusterLoad {
	var (
		next, errs atomic.Int64
		wg         sync.WaitGroup
		mu         sync.Mutex
		total      = hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
	)
	start := time.Now()
	deadline := start.Add(maxTime)
	for cl := range clients {
		wg.Go(func() {
			h := hdrhistogram.New(1, int64(time.Minute/time.Microsecond), 3)
			for {
				i := int(next.Add(1) - 1)
				if i >= count || time.Now().After(deadline) {
					break
				}
				t0 := time.Now()
				if !op(cl, i) {
					errs.Add(1)
					continue
				}
				_ = h.RecordValue(time.Since(t0).Microseconds())
			}
			mu.Lock()
			total.Merge(h)
			mu.Unlock()
		})
	}
	wg.Wait()
	return clusterLoad{ops: total.TotalCount(), errs: errs.Load(), elapsed: time.Since(start), hist: total}
}

// BenchmarkCluster3 measures a three-process cluster on loopback: PUT then
// GET throughput and latency with 16 concurrent HTTP clients, 100-byte
// values, n_val 3, r=w=2; then the same with one node stopped (SIGTERM),
// the clients spread over the two left. The phases are bounded by an
// operation count and a duration, not by b.N: run it with -benchtime 1x
// (make bench-cluster).
func BenchmarkCluster3(b *testing.B) {
	if testing.Short() {
		b.Skip("starts a cluster of three cairn processes")
	}
	const (
		clients = 16
		ops     = 20000
		maxTime = 10 * time.Second
	)
	c := startProcCluster(b, 3, "--log-level", "warn")
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: clients}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	putOp, getOp := benchOps(b, hc)

	b.ResetTimer()
	all := c.nodes
	written := make([]atomic.Bool, ops)
	puts := runClusterLoad(clients, ops, maxTime, putOp(all, "up-", written))
	gets := runClusterLoad(clients, ops, maxTime, getOp(all, "up-", written))

	// SIGTERM: the node leaves gossip on its way out, so the others route
	// around it at once rather than after failure detection.
	stopped := c.nodes[2]
	if err := stopped.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	select {
	case <-stopped.done:
	case <-time.After(60 * time.Second):
		b.Fatal("node 3 did not exit within 60s of SIGTERM")
	}
	two := c.nodes[:2]
	writtenDown := make([]atomic.Bool, ops)
	putsDown := runClusterLoad(clients, ops, maxTime, putOp(two, "down-", writtenDown))
	getsDown := runClusterLoad(clients, ops, maxTime, getOp(two, "down-", writtenDown))
	b.StopTimer()

	reportLoads(b, []namedLoad{{"put", puts}, {"get", gets}, {"put_down", putsDown}, {"get_down", getsDown}})
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "3 nodes, %d clients, 100-byte values, n_val 3, r=w=2:\n", clients)
	fmt.Fprintf(&tbl, "%-22s %8s %7s %9s %8s %8s %8s\n", "phase", "ops", "errors", "ops/s", "p50 ms", "p99 ms", "max ms")
	for _, m := range []struct {
		name string
		l    clusterLoad
	}{{"PUT, 3 up", puts}, {"GET, 3 up", gets}, {"PUT, node 3 stopped", putsDown}, {"GET, node 3 stopped", getsDown}} {
		fmt.Fprintf(&tbl, "%-22s %8d %7d %9.0f %8.2f %8.2f %8.2f\n", m.name, m.l.ops, m.l.errs, m.l.opsPerSec(),
			m.l.ms(50), m.l.ms(99), float64(m.l.hist.Max())/1000)
	}
	b.Log("\n" + tbl.String())
}

// benchValue is what the cluster benchmarks write: 100 bytes.
var benchValue = strings.Repeat("x", 100)

// benchOps returns the cluster benchmarks' operations. putOp writes key
// prefix<i> through a node picked by client and marks it in written on
// success; getOp reads, with a stride, keys the PUT phase wrote.
func benchOps(b *testing.B, hc *http.Client) (
	putOp func(nodes []*child, prefix string, written []atomic.Bool) func(client, i int) bool,
	getOp func(nodes []*child, prefix string, written []atomic.Bool) func(client, i int) bool,
) {
	putOp = func(nodes []*child, prefix string, written []atomic.Bool) func(client, i int) bool {
		return func(client, i int) bool {
			req, _ := http.NewRequest(http.MethodPut, keyURL(nodes[client%len(nodes)], "bench", fmt.Sprintf("%s%d", prefix, i), "?w=2"),
				strings.NewReader(benchValue))
			req.Header.Set("Content-Type", "application/octet-stream")
			resp, err := hc.Do(req)
			if err != nil {
				return false
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return false
			}
			written[i].Store(true)
			return true
		}
	}
	getOp = func(nodes []*child, prefix string, written []atomic.Bool) func(client, i int) bool {
		var keys []int
		for i := range written {
			if written[i].Load() {
				keys = append(keys, i)
			}
		}
		if len(keys) == 0 {
			b.Fatal("no PUT succeeded")
		}
		return func(client, i int) bool {
			// A stride, so that the clients do not walk the keys in the
			// order they were written.
			k := keys[(i*7919)%len(keys)]
			resp, err := hc.Get(keyURL(nodes[client%len(nodes)], "bench", fmt.Sprintf("%s%d", prefix, k), "?r=2"))
			if err != nil {
				return false
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK && bytes.Equal(body, []byte(benchValue))
		}
	}
	return putOp, getOp
}

// namedLoad is one phase of a cluster benchmark, for reportLoads.
type namedLoad struct {
	name string
	l    clusterLoad
}

// reportLoads reports each phase's throughput, p50, p99 and errors as
// metrics; b.N drives none of these benchmarks, so ns/op is zero.
func reportLoads(b *testing.B, loads []namedLoad) {
	for _, m := range loads {
		b.ReportMetric(m.l.opsPerSec(), m.name+"_ops/s")
		b.ReportMetric(m.l.ms(50), m.name+"_p50_ms")
		b.ReportMetric(m.l.ms(99), m.name+"_p99_ms")
		if m.l.errs > 0 {
			b.ReportMetric(float64(m.l.errs), m.name+"_errors")
		}
	}
	b.ReportMetric(0, "ns/op")
}
