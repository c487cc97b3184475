// Package rpc is cairn's internal request/response transport between
// nodes: msgpack frames over long-lived, multiplexed connections, on a
// pluggable Network so that whole clusters can run in one test process.
//
// A Client keeps a few connections per peer and sends many requests on
// each at once; every request carries a client-chosen id, and the Server
// runs each request's Handler on a goroutine of its own (one of a pool of
// parked goroutines, whose stacks earlier handlers have grown) and answers
// as soon as it is done, so answers come back in any order. Invariants:
//
//   - A call ends exactly once: with the handler's answer, a *RemoteError,
//     the caller's context error, or an error wrapping ErrConnection when
//     the connection broke or could not be made. After ErrConnection or a
//     context error the request may or may not have run.
//   - The caller's deadline travels with the request (as time remaining,
//     so host clocks need not agree) and bounds the handler's context.
//   - A connection that carries bad bytes (oversized length, bad checksum,
//     truncated or undecodable frame) is closed and logged; other
//     connections are unaffected.
//   - Close on Client or Server returns only after every goroutine it
//     started has exited.
//
// Usage:
//
//	srv := rpc.NewServer(cfg, func(ctx context.Context, method string, body []byte) ([]byte, error) {
//		switch method {
//		case "ping":
//			return body, nil
//		}
//		return nil, rpc.ErrUnknownMethod
//	})
//	ln, _ := rpc.TCP{}.Listen(":8099")
//	go srv.Serve(ln)
//
//	cl := rpc.NewClient(cfg, rpc.TCP{})
//	out, err := cl.Call(ctx, "10.0.0.2:8099", "ping", []byte("hi"))
//
// TLS wraps any Network (TCP in production) in TLS: cairn runs the
// internal RPC and Raft over it with mutual TLS under a cluster CA
// (clustertls builds the configurations). Its listeners complete each
// handshake before handing a connection to the Server or to Raft, so a
// peer without valid credentials never gets a byte read; rejections are
// logged (spaced) and counted.
//
//	nw, _ := rpc.NewTLS(tlsCfg, rpc.TCP{}) // tlsCfg.Server, .Client from clustertls
//	ln, _ := nw.Listen(":8099")
//	go srv.Serve(ln)
//	cl := rpc.NewClient(cfg, nw)
//
// The node sends through the Transport interface, which *Client
// implements; its contract (errors, deadlines, who owns slices) is
// documented on the type.
//
// Two fakes stand in for the network in tests:
//
//   - MemNetwork replaces TCP under a real Client and Server, with
//     Partition, Isolate and Block to inject faults; its connections are
//     plain net.Conns, so Raft's NetworkTransport can run over it too.
//   - MemTransport replaces Client and Server altogether for whole-cluster
//     simulations: Host(addr) is the Transport a node sends through, and
//     Listen(addr, h) hands requests straight to its Handler. Under a seed
//     it drops, delays (on an injected clock.Clock) and so reorders
//     messages. A Partition or a Stop fails calls fast with ErrDial, as a
//     refused connection does; a drop or a one-way Block is silent and the
//     caller waits out its context.
//
// A simulation sketch:
//
//	clk := clock.NewFake(time.Unix(0, 0))
//	tr := rpc.NewMemTransport(seed, clk)
//	defer tr.Close()
//	tr.Listen("n1", h1) // h1, h2: the nodes' Handlers
//	tr.Listen("n2", h2)
//	t1 := tr.Host("n1") // the Transport node n1 sends through
//	out, err := t1.Call(ctx, "n2", "ping", nil)
//	tr.SetFaults(rpc.Faults{DropRate: 0.05, MaxDelay: 20 * time.Millisecond})
//	tr.Partition([]string{"n1"}, []string{"n2"})
//	// ... drive the cluster, advancing clk ...
//	tr.Heal()
package rpc
