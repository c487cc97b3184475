package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/clustertls"
)

// BenchmarkTLSCluster3 measures what mutual TLS on the internal RPC and
// Raft costs a three-process cluster on loopback: PUT then GET
// throughput and latency with 16 HTTP clients spread over the nodes,
// 100-byte values, n_val 3, r=w=2, each on a fresh cluster with cluster
// TLS off and on. Like BenchmarkCluster3, the phases are bounded by an
// operation count and a duration: run it with -benchtime 1x.
func BenchmarkTLSCluster3(b *testing.B) {
	if testing.Short() {
		b.Skip("starts clusters of three cairn processes")
	}
	const (
		clients = 16
		ops     = 20000
		maxTime = 10 * time.Second
	)
	certs := b.TempDir()
	if err := clustertls.Generate(certs, "node1", "node2", "node3"); err != nil {
		b.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("tls=%v", on), func(b *testing.B) {
			var nodeArgs func(string) []string
			if on {
				nodeArgs = func(name string) []string {
					f := clustertls.Paths(certs, name)
					return []string{"--cluster-tls-ca", f.CA, "--cluster-tls-cert", f.Cert, "--cluster-tls-key", f.Key}
				}
			}
			c := startProcClusterWith(b, 3, nodeArgs, "--log-level", "warn")
			tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: clients}
			b.Cleanup(tr.CloseIdleConnections)
			hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			value := strings.Repeat("x", 100)
			key := func(i int) string { return fmt.Sprintf("k%d", i) }

			b.ResetTimer()
			puts := runClusterLoad(clients, ops, maxTime, func(client, i int) bool {
				code, _, err := put(hc, keyURL(c.nodes[client%3], "bench", key(i), "?w=2"), value)
				return err == nil && code == http.StatusNoContent
			})
			written := int(puts.ops)
			if written == 0 {
				b.Fatal("no PUT succeeded")
			}
			gets := runClusterLoad(clients, ops, maxTime, func(client, i int) bool {
				resp, err := hc.Get(keyURL(c.nodes[client%3], "bench", key((i*7919)%written), "?r=2"))
				if err != nil {
					return false
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				return resp.StatusCode == http.StatusOK && bytes.Equal(body, []byte(value))
			})
			b.StopTimer()
			for _, m := range []struct {
				name string
				l    clusterLoad
			}{{"put", puts}, {"get", gets}} {
				b.ReportMetric(m.l.opsPerSec(), m.name+"_ops/s")
				b.ReportMetric(m.l.ms(50), m.name+"_p50_ms")
				b.ReportMetric(m.l.ms(99), m.name+"_p99_ms")
				if m.l.errs > 0 {
					b.ReportMetric(float64(m.l.errs), m.name+"_errors")
				}
			}
			b.ReportMetric(0, "ns/op") // b.N does not drive this benchmark
		})
	}
}
