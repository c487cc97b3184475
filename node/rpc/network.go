package rpc

import (
	"context"
	"net"
)

// Network opens listeners and dials connections for one host. It is the
// seam between the RPC layer (and anything else that speaks a byte stream,
// such as the Raft transport) and real sockets: production uses TCP, tests
// use a MemNetwork host, which can be partitioned.
//
// Implementations are safe for concurrent use. Dial honours ctx for the
// whole of connection setup and fails promptly for an address nobody
// listens on. Returned connections are full-duplex, support deadlines and
// belong to the caller, who must Close them.
type Network interface {
	Listen(addr string) (net.Listener, error)
	Dial(ctx context.Context, addr string) (net.Conn, error)
}

// WithListener returns nw with Listen answering ln, a listener opened
// earlier: a caller that binds port 0 learns the real address before it
// starts what listens (Raft must advertise the address it is dialled on).
func WithListener(nw Network, ln net.Listener) Network {
	return &preListened{Network: nw, ln: ln}
}

type preListened struct {
	Network
	ln net.Listener
}

func (p *preListened) Listen(string) (net.Listener, error) { return p.ln, nil }
