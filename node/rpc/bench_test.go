package rpc

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkCall measures a round trip of a 128-byte echo over TCP loopback
// with many callers sharing the default two connections, as a node's
// coordinator does.
func BenchmarkCall(b *testing.B) {
	benchmarkCall(b, TCP{}, TCP{}, "127.0.0.1:0")
}

// BenchmarkCallMem is the same over a MemNetwork: the cost of the protocol
// without the kernel.
func BenchmarkCallMem(b *testing.B) {
	m := NewMemNetwork()
	benchmarkCall(b, m.Host("srv"), m.Host("cli"), "srv:1")
}

// BenchmarkCallTLS is BenchmarkCall with and without mutual TLS (cluster
// certificates, TLS 1.3, AES-GCM or ChaCha20 as the CPU prefers), for a
// small and a larger body: the cost of securing the internal RPC.
func BenchmarkCallTLS(b *testing.B) {
	creds := tlsCreds(b, "srv", "cli")
	for _, size := range []int{100, 4 << 10} {
		b.Run(fmt.Sprintf("body=%d/net=tcp", size), func(b *testing.B) {
			benchmarkCallSize(b, TCP{}, TCP{}, "127.0.0.1:0", size)
		})
		b.Run(fmt.Sprintf("body=%d/net=tls", size), func(b *testing.B) {
			benchmarkCallSize(b, tlsNetwork(b, creds["srv"], nil, nil), tlsNetwork(b, creds["cli"], nil, nil), "127.0.0.1:0", size)
		})
	}
}

// BenchmarkCallConcurrent is BenchmarkCall with 16 callers per CPU, as a
// coordinator serving many HTTP clients has: frames queue up on the two
// connections, and cpu-ns/op shows what writing them together saves.
func BenchmarkCallConcurrent(b *testing.B) {
	b.SetParallelism(16)
	benchmarkCall(b, TCP{}, TCP{}, "127.0.0.1:0")
}

func benchmarkCall(b *testing.B, server, client Network, listen string) {
	benchmarkCallSize(b, server, client, listen, 128)
}

func benchmarkCallSize(b *testing.B, server, client Network, listen string, size int) {
	_, addr := startServer(b, testConfig(), server, listen, echo)
	c := newTestClient(b, testConfig(), client)
	body := make([]byte, size)
	ctx := context.Background()
	if _, err := c.Call(ctx, addr, "echo", body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(2 * size)) // there and back
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(ctx, addr, "echo", body); err != nil {
				b.Error(err)
				return
			}
		}
	})
	// Client and server share this process: this is the CPU one call
	// costs both ends, whatever else runs on the machine.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCallSerial is one caller, one call at a time over TCP loopback:
// ns/op is the latency of an internal round trip, not throughput.
func BenchmarkCallSerial(b *testing.B) {
	_, addr := startServer(b, testConfig(), TCP{}, "127.0.0.1:0", echo)
	c := newTestClient(b, testConfig(), TCP{})
	body := make([]byte, 128)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Call(ctx, addr, "echo", body); err != nil {
			b.Fatal(err)
		}
	}
}
