package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
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
			putOp, getOp := benchOps(b, hc)

			b.ResetTimer()
			written := make([]atomic.Bool, ops)
			puts := runClusterLoad(clients, ops, maxTime, putOp(c.nodes, "k", written))
			gets := runClusterLoad(clients, ops, maxTime, getOp(c.nodes, "k", written))
			b.StopTimer()
			reportLoads(b, []namedLoad{{"put", puts}, {"get", gets}})
		})
	}
}
