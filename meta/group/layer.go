package group

import (
	"context"
	"net"
	"time"

	"github.com/cairnkv/cairn/node/rpc"
	"github.com/hashicorp/raft"
)

// streamLayer carries Raft's connections over an rpc.Network, so that the
// in-memory network's partitions apply to Raft traffic as they do to the
// rest.
type streamLayer struct {
	net.Listener
	nw        rpc.Network
	advertise net.Addr
}

var _ raft.StreamLayer = (*streamLayer)(nil)

func (l *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return l.nw.Dial(ctx, string(addr))
}

func (l *streamLayer) Addr() net.Addr {
	if l.advertise != nil {
		return l.advertise
	}
	return l.Listener.Addr()
}

// strAddr is a net.Addr for an advertised host:port.
type strAddr string

func (a strAddr) Network() string { return "tcp" }
func (a strAddr) String() string  { return string(a) }
