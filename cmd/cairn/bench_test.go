package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// startInProcess runs the server wiring in this process on an ephemeral
// port and returns its address; the server stops when the test ends.
func startInProcess(tb testing.TB, sync string) string {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = tb.TempDir()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.RaftAddr = "127.0.0.1:0"
	cfg.RPCAddr = "127.0.0.1:0"
	cfg.GossipAddr = "127.0.0.1:0" // the sync policies' servers overlap
	cfg.Bootstrap = true
	cfg.Sync = sync
	_, addr := startConfigured(tb, cfg)
	return addr
}

// BenchmarkHTTP measures single-node PUT and GET throughput over HTTP with
// 16 concurrent clients, 100-byte values and the default quorums (n_val 3,
// w=dw=r=quorum), for each sync policy, and PUT with dw=0 (acknowledged
// before any fsync except under always).
func BenchmarkHTTP(b *testing.B) {
	value := bytes.Repeat([]byte("x"), 100)
	for _, sync := range []string{"always", "interval", "none"} {
		addr := startInProcess(b, sync)
		tr := &http.Transport{MaxIdleConnsPerHost: 64}
		hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		put := func(i int64, query string) error {
			req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("http://%s/buckets/bench/keys/k%d%s", addr, i, query), bytes.NewReader(value))
			req.Header.Set("Content-Type", "application/octet-stream")
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				return fmt.Errorf("put: %s", resp.Status)
			}
			return nil
		}
		for _, dw := range []string{"", "0"} {
			name, query := "PUT/sync="+sync, ""
			if dw != "" {
				name, query = name+"/dw="+dw, "?dw="+dw
			}
			b.Run(name, func(b *testing.B) {
				var i atomic.Int64
				b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 clients on this machine
				b.SetBytes(int64(len(value)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						// A fresh key per iteration: blind rewrites of one
						// key would measure sibling growth, not throughput.
						if err := put(i.Add(1), query); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
		b.Run("GET/sync="+sync, func(b *testing.B) {
			for i := range int64(1000) {
				if err := put(-1-i, ""); err != nil {
					b.Fatal(err)
				}
			}
			var i atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := hc.Get(fmt.Sprintf("http://%s/buckets/bench/keys/k%d", addr, -1-i.Add(1)%1000))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMultipleChoices {
						b.Errorf("get: %s", resp.Status)
						return
					}
				}
			})
		})
		tr.CloseIdleConnections()
	}
}
