package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn/antientropy"
)

// BenchmarkAAE measures what active anti-entropy costs and does on a
// three-process cluster on loopback: it loads CAIRN_BENCH_AAE_KEYS keys
// (default 1,000,000; 100-byte values, n_val 3, w=2), runs a mixed
// PUT/GET workload (50/50, 16 clients) with anti-entropy on and off,
// alternating, then stops node 3, writes 1,000 keys it misses, restarts it
// and times how long anti-entropy takes to repair them. It ends with the
// trees' memory. Run it with -benchtime 1x (make bench-aae); it takes
// several minutes.
func BenchmarkAAE(b *testing.B) {
	if testing.Short() {
		b.Skip("starts a cluster of three cairn processes")
	}
	keys := 1_000_000
	if s := os.Getenv("CAIRN_BENCH_AAE_KEYS"); s != "" {
		var err error
		if keys, err = strconv.Atoi(s); err != nil || keys < 1000 {
			b.Fatalf("CAIRN_BENCH_AAE_KEYS=%q: want a number of at least 1000", s)
		}
	}
	const (
		clients   = 16
		phaseTime = 20 * time.Second
		missing   = 1000
	)
	c := startProcCluster(b, 3, "--log-level", "warn")
	tr := &http.Transport{MaxIdleConns: 4 * clients, MaxIdleConnsPerHost: 2 * clients}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	value := strings.Repeat("x", 100)
	put := func(client, i int) bool {
		req, _ := http.NewRequest(http.MethodPut, keyURL(c.nodes[client%3], "bench", "k"+strconv.Itoa(i), "?w=2"), strings.NewReader(value))
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusNoContent
	}
	get := func(client, i int) bool {
		resp, err := hc.Get(keyURL(c.nodes[client%3], "bench", "k"+strconv.Itoa(i), "?r=2"))
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && bytes.Equal(body, []byte(value))
	}
	b.ResetTimer()
	load := runClusterLoad(2*clients, keys, 30*time.Minute, put)
	b.Logf("loaded %d keys in %v (%.0f PUT/s, %d errors)", load.ops, load.elapsed.Round(time.Second), load.opsPerSec(), load.errs)

	var seq atomic.Int64
	mixed := func(client, _ int) bool {
		i := int(seq.Add(7919) % int64(keys))
		if i%2 == 0 {
			return put(client, i)
		}
		return get(client, i)
	}
	setAAE := func(on bool) {
		for _, nd := range c.nodes {
			body, _ := json.Marshal(antientropy.Control{Enabled: &on})
			resp, err := hc.Post("http://"+nd.addr+"/admin/aae", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("POST /admin/aae: %s", resp.Status)
			}
		}
	}
	type phase struct {
		name string
		l    clusterLoad
	}
	var phases []phase
	for round := range 2 {
		for _, on := range []bool{true, false} {
			setAAE(on)
			before, _ := c.keysCompared()
			l := runClusterLoad(clients, 1<<30, phaseTime, mixed)
			after, _ := c.keysCompared()
			name := fmt.Sprintf("mixed, aae off (%d)", round+1)
			if on {
				name = fmt.Sprintf("mixed, aae on (%d)", round+1)
				b.Logf("aae on: %d key entries compared during the phase", after-before)
			}
			phases = append(phases, phase{name, l})
		}
	}
	setAAE(true)

	// Node 3's counters start again from zero when it restarts: count
	// from the other two only.
	var repairedBefore uint64
	for _, nd := range c.nodes[:2] {
		st, err := c.aaeStatus(nd)
		if err != nil {
			b.Fatal(err)
		}
		repairedBefore += st.KeysRepaired
	}
	_, start := c.writeMissing(missing, "missing-")
	ready := time.Since(start)
	c.eventually(10*time.Minute, "anti-entropy repairs node 3", func() (bool, string) {
		n, err := c.keysRepaired()
		if err != nil {
			return false, err.Error()
		}
		return n >= repairedBefore+missing, fmt.Sprintf("%d of %d keys repaired", n-min(n, repairedBefore), missing)
	})
	repairTime := time.Since(start)
	b.StopTimer()

	var treeBytes, entries int64
	for _, nd := range c.nodes {
		st, err := c.aaeStatus(nd)
		if err != nil {
			b.Fatal(err)
		}
		treeBytes += st.TreeBytes
		for _, p := range st.Partitions {
			entries += p.Keys
		}
	}
	var tbl strings.Builder
	fmt.Fprintf(&tbl, "3 nodes, %d keys loaded, %d clients, 100-byte values, n_val 3, r=w=2:\n", keys, clients)
	fmt.Fprintf(&tbl, "%-22s %8s %7s %9s %8s %8s\n", "phase", "ops", "errors", "ops/s", "p50 ms", "p99 ms")
	for _, p := range phases {
		fmt.Fprintf(&tbl, "%-22s %8d %7d %9.0f %8.2f %8.2f\n", p.name, p.l.ops, p.l.errs, p.l.opsPerSec(), p.l.ms(50), p.l.ms(99))
		b.ReportMetric(p.l.opsPerSec(), strings.NewReplacer(" ", "_", ",", "", "(", "", ")", "").Replace(p.name)+"_ops/s")
	}
	fmt.Fprintf(&tbl, "repair of %d keys missing on one replica: %v from its restart (it served after %v)\n",
		missing, repairTime.Round(10*time.Millisecond), ready.Round(10*time.Millisecond))
	fmt.Fprintf(&tbl, "trees: %d bytes on 3 nodes for %d index entries (%.0f bytes per million entries)\n",
		treeBytes, entries, float64(treeBytes)/float64(max(entries, 1))*1e6)
	b.ReportMetric(repairTime.Seconds(), "repair_s")
	b.ReportMetric(float64(treeBytes), "tree_bytes")
	b.ReportMetric(0, "ns/op")
	b.Log("\n" + tbl.String())
}

// keysCompared sums the key entries every running node's exchanges read.
func (c *procCluster) keysCompared() (uint64, error) {
	return c.aaeTotal(func(st *antientropy.Status) uint64 { return st.KeysCompared })
}
