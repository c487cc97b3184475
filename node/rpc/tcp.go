package rpc

import (
	"context"
	"net"
	"time"
)

// tcpKeepAlive is the probe interval on both ends. It is what notices a
// peer that disappeared while the connection was idle; WriteTimeout covers
// the case of unacknowledged data.
const tcpKeepAlive = 15 * time.Second

// TCP is the real network. Connections have TCP_NODELAY set (Go's default),
// which matters for small request/response frames, and keepalive on.
type TCP struct{}

var _ Network = TCP{}

// Listen opens a TCP listener on addr ("host:port"; port 0 picks one).
func (TCP) Listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: tcpKeepAlive}
	return lc.Listen(context.Background(), "tcp", addr)
}

// Dial connects to addr, giving up when ctx is done.
func (TCP) Dial(ctx context.Context, addr string) (net.Conn, error) {
	d := net.Dialer{KeepAlive: tcpKeepAlive}
	return d.DialContext(ctx, "tcp", addr)
}
