package rpc

import (
	"context"
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

func benchmarkCall(b *testing.B, server, client Network, listen string) {
	_, addr := startServer(b, testConfig(), server, listen, echo)
	c := newTestClient(b, testConfig(), client)
	body := make([]byte, 128)
	ctx := context.Background()
	if _, err := c.Call(ctx, addr, "echo", body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(ctx, addr, "echo", body); err != nil {
				b.Error(err)
				return
			}
		}
	})
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
