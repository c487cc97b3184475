package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
)

// errMemPeerClosed is what a write to a mem connection whose other end is
// closed returns, in place of a socket's EPIPE or ECONNRESET.
var errMemPeerClosed = errors.New("rpc: mem: connection closed by peer")

// MemNetwork is an in-memory network of named hosts for tests, including
// Raft's transport: connections are buffered full-duplex byte streams with
// deadlines, and the network can be cut between hosts.
//
// A symmetric cut (Partition, Isolate) refuses new dials at once and closes
// every connection across it, so both ends see errors; that is what a real
// partition becomes once TCP gives up, minus the wait. A one-way Block
// keeps established connections open but holds the bytes from one side
// (they pile up in the buffer) until Unblock or Heal delivers them, and
// refuses new dials in the blocked direction.
//
// Deadlines use real time, as the code that sets them (Raft's
// NetworkTransport, the rpc client) does. MemNetwork starts no goroutines.
type MemNetwork struct {
	mu        sync.Mutex
	listeners map[string]*memListener // by address
	cut       map[link]bool           // symmetric cuts, stored both ways
	isolated  map[string]bool
	blocked   map[link]bool // one-way holds
	pipes     map[*memPipe]struct{}
	seq       int // names dialer-side addresses
}

// link is a direction between two hosts.
type link struct{ from, to string }

// NewMemNetwork returns a network with no hosts and no faults.
func NewMemNetwork() *MemNetwork {
	return &MemNetwork{
		listeners: make(map[string]*memListener),
		cut:       make(map[link]bool),
		isolated:  make(map[string]bool),
		blocked:   make(map[link]bool),
		pipes:     make(map[*memPipe]struct{}),
	}
}

// Host returns the view of the network from host name. Addresses that
// host listens on belong to it for Partition, Block and Isolate.
func (m *MemNetwork) Host(name string) Network { return memHost{m: m, name: name} }

// Partition cuts every host in a off from every host in b, both ways, and
// closes the connections between them. Hosts in both lists are not cut
// from themselves.
func (m *MemNetwork) Partition(a, b []string) {
	m.mu.Lock()
	for _, x := range a {
		for _, y := range b {
			if x != y {
				m.cut[link{x, y}] = true
				m.cut[link{y, x}] = true
			}
		}
	}
	doomed := m.unreachablePipesLocked()
	m.mu.Unlock()
	killAll(doomed)
}

// Isolate cuts host off from every other host, including ones that appear
// later, and closes its connections to them.
func (m *MemNetwork) Isolate(host string) {
	m.mu.Lock()
	m.isolated[host] = true
	doomed := m.unreachablePipesLocked()
	m.mu.Unlock()
	killAll(doomed)
}

// Block holds the bytes that from writes to to on established connections
// until Unblock or Heal, and makes new dials from from to to fail. Bytes
// from to to from still flow, and to may still dial from.
func (m *MemNetwork) Block(from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.blocked[link{from, to}] = true
	m.setHeldLocked(from, to, true)
}

// Unblock undoes Block(from, to); held bytes are delivered.
func (m *MemNetwork) Unblock(from, to string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.blocked, link{from, to})
	m.setHeldLocked(from, to, false)
}

// Heal undoes every Partition, Isolate and Block. Connections closed by a
// cut stay closed; held bytes are delivered.
func (m *MemNetwork) Heal() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.cut)
	clear(m.isolated)
	clear(m.blocked)
	for p := range m.pipes {
		p.aToB.setHeld(false)
		p.bToA.setHeld(false)
	}
}

// Reset closes every connection to or from host, as the death of host's
// process does: both ends see errors at once. It cuts nothing, so a new
// process on host is reachable as before.
func (m *MemNetwork) Reset(host string) {
	m.mu.Lock()
	doomed := make(map[*memPipe]error)
	for p := range m.pipes {
		if p.hostA == host || p.hostB == host {
			doomed[p] = fmt.Errorf("rpc: mem: connection reset: %s went away", host)
		}
	}
	m.mu.Unlock()
	killAll(doomed)
}

// reachableLocked reports whether a may talk to b, ignoring Blocks.
func (m *MemNetwork) reachableLocked(a, b string) bool {
	return a == b || !(m.isolated[a] || m.isolated[b] || m.cut[link{a, b}])
}

func (m *MemNetwork) unreachablePipesLocked() map[*memPipe]error {
	doomed := make(map[*memPipe]error)
	for p := range m.pipes {
		if !m.reachableLocked(p.hostA, p.hostB) {
			doomed[p] = fmt.Errorf("rpc: mem: connection reset: %s cannot reach %s", p.hostA, p.hostB)
		}
	}
	return doomed
}

// killAll closes pipes; it must be called without m.mu, as closing the
// last end of a pipe takes it to forget the pipe.
func killAll(doomed map[*memPipe]error) {
	for p, err := range doomed {
		p.kill(err)
	}
}

func (m *MemNetwork) setHeldLocked(from, to string, held bool) {
	for p := range m.pipes {
		if p.hostA == from && p.hostB == to {
			p.aToB.setHeld(held)
		}
		if p.hostB == from && p.hostA == to {
			p.bToA.setHeld(held)
		}
	}
}

func (m *MemNetwork) forget(p *memPipe) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.pipes, p)
}

// memHost is one host's Network.
type memHost struct {
	m    *MemNetwork
	name string
}

var _ Network = memHost{}

// Listen registers addr, which must not be in use, as this host's.
func (h memHost) Listen(addr string) (net.Listener, error) {
	m := h.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.listeners[addr]; ok {
		return nil, fmt.Errorf("rpc: mem: listen %s: address in use", addr)
	}
	l := &memListener{m: m, host: h.name, addr: memAddr(addr), conns: make(chan net.Conn), done: make(chan struct{})}
	m.listeners[addr] = l
	return l, nil
}

// Dial connects to addr. It fails at once if nobody listens there or the
// listening host cannot be reached; otherwise it waits for Accept or ctx.
func (h memHost) Dial(ctx context.Context, addr string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rpc: mem: dial %s: %w", addr, err)
	}
	m := h.m
	m.mu.Lock()
	l := m.listeners[addr]
	if l == nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("rpc: mem: dial %s: connection refused", addr)
	}
	if !m.reachableLocked(h.name, l.host) || m.blocked[link{h.name, l.host}] {
		m.mu.Unlock()
		return nil, fmt.Errorf("rpc: mem: dial %s: %s cannot reach %s", addr, h.name, l.host)
	}
	m.seq++
	local := memAddr(fmt.Sprintf("%s#%d", h.name, m.seq))
	p := newMemPipe(m, h.name, l.host, local, l.addr, false, m.blocked[link{l.host, h.name}])
	m.pipes[p] = struct{}{}
	m.mu.Unlock()

	select {
	case l.conns <- p.b:
		return p.a, nil
	case <-l.done:
		p.kill(net.ErrClosed)
		return nil, fmt.Errorf("rpc: mem: dial %s: connection refused", addr)
	case <-ctx.Done():
		p.kill(net.ErrClosed)
		return nil, fmt.Errorf("rpc: mem: dial %s: %w", addr, ctx.Err())
	}
}

// memListener hands dialled connections to Accept.
type memListener struct {
	m     *MemNetwork
	host  string
	addr  memAddr
	conns chan net.Conn // unbuffered: a dial completes when Accept takes it
	once  sync.Once
	done  chan struct{}
}

var _ net.Listener = (*memListener)(nil)

// Accept waits for a dial; after Close it returns net.ErrClosed.
func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close frees the address; established connections stay open, as with TCP.
func (l *memListener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.m.mu.Lock()
		if l.m.listeners[string(l.addr)] == l {
			delete(l.m.listeners, string(l.addr))
		}
		l.m.mu.Unlock()
	})
	return nil
}

func (l *memListener) Addr() net.Addr { return l.addr }
