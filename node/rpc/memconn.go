package rpc

import (
	"bytes"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// memBufferSize is how many bytes one direction of a mem connection holds
// before the writer blocks, standing in for a socket's send and receive
// buffers. It is generous so that a peer that is slow to read (or a Block)
// does not stall the writer in ordinary tests.
const memBufferSize = 4 << 20

// memAddr is the address of a mem listener or connection end.
type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

// stream is one direction of a mem connection: a bounded byte queue with
// the flags the network flips. Waiters take the changed channel under mu
// and block on it; every change closes it and makes a new one.
type stream struct {
	mu      sync.Mutex
	buf     bytes.Buffer // written, not yet read
	held    bool         // a Block is in force: the reader sees nothing
	eof     bool         // the writing end closed: EOF once buf is drained
	gone    bool         // the reading end closed: writes fail
	reset   error        // the network cut the connection: everything fails
	changed chan struct{}
}

func newStream(held bool) *stream {
	return &stream{held: held, changed: make(chan struct{})}
}

// notify wakes every waiter. Called with mu held.
func (s *stream) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *stream) setHeld(held bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = held
	s.notify()
}

func (s *stream) closeWrite() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.eof = true
	s.notify()
}

// cut fails both ends' use of the stream with err at once, dropping what
// it holds, as a connection reset does.
func (s *stream) cut(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reset = err
	s.buf = bytes.Buffer{}
	s.notify()
}

func (s *stream) closeRead() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = true
	s.buf = bytes.Buffer{}
	s.notify()
}

// read copies available bytes into p. When there are none yet it returns
// a channel to wait on before trying again.
func (s *stream) read(p []byte) (n int, wait <-chan struct{}, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.reset != nil:
		return 0, nil, s.reset
	case s.held:
		// A held stream shows nothing, not even the writer's close: in a
		// real network the FIN is stuck behind the data.
	case s.buf.Len() > 0:
		n, _ = s.buf.Read(p)
		s.notify() // room for a blocked writer
		return n, nil, nil
	case s.eof:
		return 0, nil, io.EOF
	}
	return 0, s.changed, nil
}

// write queues as much of p as fits. It returns how much it took and, when
// that was not all of p, the channel to wait on before trying again.
func (s *stream) write(p []byte) (n int, wait <-chan struct{}, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reset != nil {
		return 0, nil, s.reset
	}
	if s.gone {
		return 0, nil, errMemPeerClosed
	}
	n = min(memBufferSize-s.buf.Len(), len(p))
	if n > 0 {
		s.buf.Write(p[:n])
		s.notify()
	}
	if n == len(p) {
		return n, nil, nil
	}
	return n, s.changed, nil
}

// deadline is a resettable deadline whose expiry closes a channel, so that
// a blocked Read or Write can select on it (the scheme net.Pipe uses).
type deadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	expired chan struct{}
}

func (d *deadline) init() { d.expired = make(chan struct{}) }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.expired // the timer fired: wait until it has closed the channel
	}
	d.timer = nil
	closed := isClosed(d.expired)
	if t.IsZero() {
		if closed {
			d.expired = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.expired = make(chan struct{})
		}
		c := d.expired
		d.timer = time.AfterFunc(dur, func() { close(c) })
		return
	}
	if !closed {
		close(d.expired)
	}
}

func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// memConn is one end of a mem connection.
type memConn struct {
	pipe          *memPipe
	local, remote memAddr
	rx, tx        *stream
	readDL        deadline
	writeDL       deadline

	once sync.Once
	done chan struct{}
	err  error // why the end was shut; read only after done is closed
}

var _ net.Conn = (*memConn)(nil)

// memPipe is a connection between a dialer on hostA and a listener on
// hostB; the network keeps it to cut or hold it later.
type memPipe struct {
	nw           *MemNetwork
	hostA, hostB string
	a, b         *memConn
	aToB, bToA   *stream
	ends         atomic.Int32 // ends shut so far
}

func newMemPipe(nw *MemNetwork, hostA, hostB string, addrA, addrB memAddr, holdAToB, holdBToA bool) *memPipe {
	p := &memPipe{nw: nw, hostA: hostA, hostB: hostB, aToB: newStream(holdAToB), bToA: newStream(holdBToA)}
	p.a = &memConn{pipe: p, local: addrA, remote: addrB, rx: p.bToA, tx: p.aToB, done: make(chan struct{})}
	p.b = &memConn{pipe: p, local: addrB, remote: addrA, rx: p.aToB, tx: p.bToA, done: make(chan struct{})}
	for _, c := range []*memConn{p.a, p.b} {
		c.readDL.init()
		c.writeDL.init()
	}
	return p
}

// kill shuts both ends with err, as a network failure does.
func (p *memPipe) kill(err error) {
	// Cut the streams first, so no reader sees a plain EOF on the way.
	p.aToB.cut(err)
	p.bToA.cut(err)
	p.a.shut(err)
	p.b.shut(err)
}

// shut ends this side: its own blocked calls return err, the peer reads
// EOF after what was already sent, and the peer's writes fail.
func (c *memConn) shut(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
		c.tx.closeWrite()
		c.rx.closeRead()
		c.readDL.set(time.Time{})
		c.writeDL.set(time.Time{})
		if c.pipe.ends.Add(1) == 2 {
			c.pipe.nw.forget(c.pipe)
		}
	})
}

// Read reads bytes the peer wrote, waiting for them if need be.
func (c *memConn) Read(p []byte) (int, error) {
	for {
		if err := c.check(&c.readDL); err != nil {
			return 0, err
		}
		if len(p) == 0 {
			return 0, nil
		}
		n, wait, err := c.rx.read(p)
		if wait == nil {
			return n, err
		}
		if err := c.block(wait, &c.readDL); err != nil {
			return 0, err
		}
	}
}

// Write queues p for the peer, waiting while the buffer is full.
func (c *memConn) Write(p []byte) (int, error) {
	total := 0
	for {
		if err := c.check(&c.writeDL); err != nil {
			return total, err
		}
		n, wait, err := c.tx.write(p[total:])
		total += n
		if wait == nil {
			return total, err
		}
		if err := c.block(wait, &c.writeDL); err != nil {
			return total, err
		}
	}
}

// check fails fast when the end is shut or the deadline has passed.
func (c *memConn) check(d *deadline) error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	if isClosed(d.wait()) {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// block waits for the stream to change, the end to be shut or the
// deadline to pass.
func (c *memConn) block(wait <-chan struct{}, d *deadline) error {
	select {
	case <-wait:
		return nil
	case <-c.done:
		return c.err
	case <-d.wait():
		return os.ErrDeadlineExceeded
	}
}

// Close shuts this end; the peer reads EOF after the bytes already sent.
func (c *memConn) Close() error {
	c.shut(net.ErrClosed)
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }

func (c *memConn) SetDeadline(t time.Time) error {
	c.readDL.set(t)
	c.writeDL.set(t)
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.readDL.set(t)
	return nil
}

func (c *memConn) SetWriteDeadline(t time.Time) error {
	c.writeDL.set(t)
	return nil
}
