package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Client calls methods on remote Servers. It keeps up to ConnsPerPeer
// long-lived connections per address, dialled lazily and used round-robin;
// each carries many calls at once. A connection that breaks fails every
// call in flight on it with ErrConnection and is replaced by a fresh dial on
// a later call, so a restarted peer is reached again. Safe for concurrent
// use.
type Client struct {
	cfg    Config
	nw     Network
	nextID atomic.Uint64 // request ids, unique across the client's connections

	ctx    context.Context // cancelled by Close: aborts dials
	cancel context.CancelFunc
	wg     sync.WaitGroup // dials and connection loops

	mu     sync.Mutex
	closed bool
	peers  map[string]*peer
	conns  map[*clientConn]struct{}
}

// NewClient returns a client that dials through nw. cfg must pass Validate.
func NewClient(cfg Config, nw Network) *Client {
	cfg.mustValidate()
	ctx, cancel := context.WithCancel(context.Background())
	return &Client{
		cfg:    cfg,
		nw:     nw,
		ctx:    ctx,
		cancel: cancel,
		peers:  make(map[string]*peer),
		conns:  make(map[*clientConn]struct{}),
	}
}

// Call sends method and body to the server at addr and returns its answer.
// The returned slice belongs to the caller; body is not retained after Call
// returns. ctx bounds the whole call: its deadline travels to the server,
// which cancels the handler's context when it passes, and Call returns as
// soon as ctx is done, wrapping ctx.Err(). Other errors wrap ErrConnection
// (as ErrDial if the request was never sent), ErrFrameTooLarge or
// ErrClosed, or are a *RemoteError from the handler.
func (c *Client) Call(ctx context.Context, addr, method string, body []byte) ([]byte, error) {
	if method == "" {
		return nil, callError(addr, method, errors.New("rpc: empty method name"))
	}
	f := &frame{ID: c.nextID.Add(1), Kind: kindRequest, Method: method, Body: body}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return nil, callError(addr, method, context.DeadlineExceeded)
		}
		f.Timeout = int64(left)
	}
	if err := ctx.Err(); err != nil {
		return nil, callError(addr, method, err)
	}
	b, err := encodeFrame(f, c.cfg.MaxFrameSize)
	if err != nil {
		return nil, callError(addr, method, err)
	}
	for {
		cc, err := c.conn(ctx, addr)
		if err != nil {
			return nil, callError(addr, method, err)
		}
		out, retry, err := cc.roundTrip(ctx, f.ID, b)
		if retry {
			continue // the connection was retired before the request left
		}
		if err != nil {
			return nil, callError(addr, method, err)
		}
		return out, nil
	}
}

// Close fails the calls in flight with ErrClosed, closes every connection
// and waits for the client's goroutines to exit. Later calls fail with
// ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	conns := make([]*clientConn, 0, len(c.conns))
	for cc := range c.conns {
		conns = append(conns, cc)
	}
	c.mu.Unlock()
	c.cancel()
	for _, cc := range conns {
		cc.fail(ErrClosed)
	}
	c.wg.Wait()
	return nil
}

// peer is the set of connection slots for one address.
type peer struct {
	next  atomic.Uint32
	slots []slot
}

// slot holds at most one live connection and at most one dial in
// progress, which every call that lands on the slot meanwhile waits for,
// so a burst of calls to a new peer makes ConnsPerPeer dials, not one per
// call.
type slot struct {
	mu   sync.Mutex
	conn *clientConn
	dial *dialAttempt
}

type dialAttempt struct {
	done chan struct{}
	conn *clientConn // set before done is closed, if err is nil
	err  error
}

// conn returns a live connection to addr, dialling if the chosen slot has
// none.
func (c *Client) conn(ctx context.Context, addr string) (*clientConn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	p := c.peers[addr]
	if p == nil {
		p = &peer{slots: make([]slot, c.cfg.ConnsPerPeer)}
		c.peers[addr] = p
	}
	c.mu.Unlock()
	s := &p.slots[int(p.next.Add(1)%uint32(len(p.slots)))]

	s.mu.Lock()
	if s.conn != nil && s.conn.usable() {
		cc := s.conn
		s.mu.Unlock()
		return cc, nil
	}
	a := s.dial
	if a == nil {
		a = &dialAttempt{done: make(chan struct{})}
		if !c.track() {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		s.dial = a
		// The dial runs on its own so that a caller whose context ends
		// early does not abort it for the others waiting on the slot.
		go c.dialSlot(s, a, addr)
	}
	s.mu.Unlock()
	select {
	case <-a.done:
		return a.conn, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// track counts a new goroutine in wg unless the client is closed.
func (c *Client) track() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	return true
}

func (c *Client) dialSlot(s *slot, a *dialAttempt, addr string) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
	nc, err := c.nw.Dial(ctx, addr)
	cancel()
	switch {
	case err != nil && c.ctx.Err() != nil:
		a.err = ErrClosed
	case err != nil:
		a.err = fmt.Errorf("%w: %s: %w", ErrDial, addr, err)
	default:
		a.conn, a.err = c.startConn(nc, addr)
	}
	s.mu.Lock()
	s.dial = nil
	if a.conn != nil {
		s.conn = a.conn
	}
	s.mu.Unlock()
	close(a.done)
}
