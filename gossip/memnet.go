package gossip

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// MemNetwork is an in-process network for memberlist, for tests: its
// transports reach each other by address, without sockets. Pass one as
// Config.Transport.
//
// It exists because memberlist.MockNetwork hands a packet over on an
// unbuffered channel, and memberlist answers a ping from the goroutine
// that reads packets: two nodes that ping each other at the same moment
// each wait for the other to read, forever, and their UDP traffic stops.
// Here sending never blocks: a full receive queue drops the packet, as a
// full UDP socket buffer does. Besides:
//
//   - A transport that has been shut down (its memberlist closed) drops
//     packets and refuses streams, as a dead host does.
//   - A node that restarts under the same name gets its old address back.
//   - Partition cuts traffic between groups of nodes until Heal.
//
// The zero value is ready to use; methods are safe for concurrent use.
type MemNetwork struct {
	mu    sync.Mutex
	addrs map[string]string        // node name → address, kept across restarts
	open  map[string]*MemTransport // address → the transport listening there
	cut   map[[2]string]bool       // {from, to} node names whose traffic is dropped
}

// Receive queue lengths of a MemTransport.
const (
	memPacketQueue = 1024
	memStreamQueue = 64
)

// NewTransport returns a transport for node name, at a new loopback-style
// address, or at name's old one if name had a transport before. A
// transport of that name still open stops receiving.
func (n *MemNetwork) NewTransport(name string) *MemTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.addrs == nil {
		n.addrs = make(map[string]string)
		n.open = make(map[string]*MemTransport)
	}
	addr, ok := n.addrs[name]
	if !ok {
		addr = "127.0.0.1:" + strconv.Itoa(len(n.addrs)+1)
		n.addrs[name] = addr
	}
	t := &MemTransport{
		net:     n,
		name:    name,
		addr:    memAddr(addr),
		packets: make(chan *memberlist.Packet, memPacketQueue),
		streams: make(chan net.Conn, memStreamQueue),
		done:    make(chan struct{}),
	}
	n.open[addr] = t
	return t
}

// Partition drops all traffic, both ways, between every node in a and
// every node in b, until Heal.
func (n *MemNetwork) Partition(a, b []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut == nil {
		n.cut = make(map[[2]string]bool)
	}
	for _, x := range a {
		for _, y := range b {
			n.cut[[2]string{x, y}] = true
			n.cut[[2]string{y, x}] = true
		}
	}
}

// Heal undoes every Partition.
func (n *MemNetwork) Heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = nil
}

// route returns the open transport at addr if node from may reach it.
func (n *MemNetwork) route(from, addr string) *MemTransport {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.open[addr]
	if t == nil || n.cut[[2]string{from, t.name}] {
		return nil
	}
	return t
}

func (n *MemNetwork) remove(t *MemTransport) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.open[string(t.addr)] == t {
		delete(n.open, string(t.addr))
	}
}

// MemTransport is one node's memberlist.Transport on a MemNetwork.
type MemTransport struct {
	net     *MemNetwork
	name    string
	addr    memAddr
	packets chan *memberlist.Packet
	streams chan net.Conn
	done    chan struct{} // closed by Shutdown
	once    sync.Once
}

var _ memberlist.NodeAwareTransport = (*MemTransport)(nil)

// Addr is the transport's address.
func (t *MemTransport) Addr() string { return string(t.addr) }

// FinalAdvertiseAddr returns the transport's own address, whatever is asked.
func (t *MemTransport) FinalAdvertiseAddr(string, int) (net.IP, int, error) {
	host, port, _ := net.SplitHostPort(string(t.addr))
	p, _ := strconv.Atoi(port)
	return net.ParseIP(host), p, nil
}

// WriteTo sends a packet; see WriteToAddress.
func (t *MemTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

// WriteToAddress queues a copy of b at a.Addr without blocking. Like UDP,
// it reports no error when the packet is lost: nobody listening, a
// partition, a full queue.
func (t *MemTransport) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	now := time.Now()
	dest := t.net.route(t.name, a.Addr)
	if dest == nil {
		return now, nil
	}
	p := &memberlist.Packet{Buf: bytes.Clone(b), From: t.addr, Timestamp: now}
	select {
	case <-dest.done:
	case dest.packets <- p:
	default:
	}
	return now, nil
}

// PacketCh delivers packets sent to this transport.
func (t *MemTransport) PacketCh() <-chan *memberlist.Packet { return t.packets }

// DialTimeout opens a stream; see DialAddressTimeout.
func (t *MemTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return t.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout opens a stream (a net.Pipe) to a.Addr. It fails at
// once when nobody listens there or a partition is in the way, and after
// timeout when the listener does not take the stream.
func (t *MemTransport) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	dest := t.net.route(t.name, a.Addr)
	if dest == nil {
		return nil, fmt.Errorf("gossip: mem transport: dial %s: connection refused", a.Addr)
	}
	local, remote := net.Pipe()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case dest.streams <- memConn{Conn: remote, local: dest.addr, remote: t.addr}:
		return memConn{Conn: local, local: t.addr, remote: dest.addr}, nil
	case <-dest.done:
	case <-timer.C:
	}
	_ = local.Close()
	_ = remote.Close()
	return nil, fmt.Errorf("gossip: mem transport: dial %s: not accepted", a.Addr)
}

// StreamCh delivers streams opened to this transport.
func (t *MemTransport) StreamCh() <-chan net.Conn { return t.streams }

// Shutdown stops the transport receiving; its address is free for the
// node's next transport.
func (t *MemTransport) Shutdown() error {
	t.once.Do(func() {
		close(t.done)
		t.net.remove(t)
	})
	return nil
}

type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

// memConn is a pipe end that reports the transports' addresses.
type memConn struct {
	net.Conn
	local, remote memAddr
}

func (c memConn) LocalAddr() net.Addr  { return c.local }
func (c memConn) RemoteAddr() net.Addr { return c.remote }
