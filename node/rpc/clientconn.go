package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// clientConn is one client connection and the calls in flight on it.
type clientConn struct {
	wire
	client *Client
	addr   string

	mu      sync.Mutex
	pending map[uint64]chan result // by request id; nil once broken
	broken  error                  // why the connection is unusable
	// retired: broken while idle, so no request can have been sent on
	// it since; a call that finds it so may safely try another.
	retired   bool
	idleSince time.Time   // when pending last became empty
	idle      *time.Timer // nil without IdleTimeout; guarded by mu
	dead      atomic.Bool // broken != nil, readable without mu
}

// result is what a call waits for: the response or why there is none.
type result struct {
	body []byte
	err  error
}

// startConn wraps a dialled connection and starts its loops.
func (c *Client) startConn(nc net.Conn, addr string) (*clientConn, error) {
	cc := &clientConn{
		wire:      newWire(nc),
		client:    c,
		addr:      addr,
		pending:   make(map[uint64]chan result),
		idleSince: time.Now(),
	}
	if c.cfg.IdleTimeout > 0 {
		cc.mu.Lock() // the timer may fire before the assignment is done
		cc.idle = time.AfterFunc(c.cfg.IdleTimeout, cc.checkIdle)
		cc.mu.Unlock()
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		cc.teardown(ErrClosed, nil)
		return nil, ErrClosed
	}
	c.conns[cc] = struct{}{}
	c.wg.Add(2)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		cc.writeLoop(c.cfg.WriteTimeout)
	}()
	go func() {
		defer c.wg.Done()
		cc.readLoop()
	}()
	return cc, nil
}

// usable reports whether new calls may be sent on the connection.
func (cc *clientConn) usable() bool { return !cc.dead.Load() }

// roundTrip sends the encoded request b (whose id is id) and waits for its
// answer. retry is true when the connection had been retired before the
// request could be sent, so the caller should pick another.
func (cc *clientConn) roundTrip(ctx context.Context, id uint64, b []byte) (body []byte, retry bool, err error) {
	ch := make(chan result, 1)
	cc.mu.Lock()
	if cc.broken != nil {
		err, retry := cc.broken, cc.retired
		cc.mu.Unlock()
		return nil, retry, err
	}
	cc.pending[id] = ch
	cc.mu.Unlock()

	if err := cc.send(ctx, b); err != nil && ctx.Err() != nil {
		cc.forget(id)
		return nil, false, ctx.Err()
	}
	// Had send failed because the connection broke, the breaking has
	// answered ch.
	select {
	case r := <-ch:
		return r.body, false, r.err
	case <-ctx.Done():
		// The server enforces a deadline by itself (it came with the
		// request); only an early cancel needs telling.
		if cc.forget(id) && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			if cancel, err := encodeFrame(&frame{ID: id, Kind: kindCancel}, cc.client.cfg.MaxFrameSize); err == nil {
				cc.trySend(cancel)
			}
		}
		return nil, false, ctx.Err()
	}
}

// forget drops a call that gave up; it reports whether the call was still
// waiting (that is, no answer had been delivered).
func (cc *clientConn) forget(id uint64) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	_, ok := cc.pending[id]
	cc.removeLocked(id)
	return ok
}

func (cc *clientConn) removeLocked(id uint64) {
	delete(cc.pending, id)
	if len(cc.pending) == 0 {
		cc.idleSince = time.Now()
	}
}

// readLoop routes responses to their calls until the connection breaks.
func (cc *clientConn) readLoop() {
	br := bufio.NewReaderSize(cc.conn, ioBufferSize)
	for {
		f, err := readFrame(br, cc.client.cfg.MaxFrameSize)
		if err == nil && f.Kind != kindResponse {
			err = fmt.Errorf("%w: kind %d from a server", ErrMalformedFrame, f.Kind)
		}
		if err != nil {
			if isClosed(cc.done) {
				err = cc.err // the reason it was shut, not the read that noticed
			} else {
				err = cc.readError(err)
			}
			cc.fail(err)
			return
		}
		cc.deliver(f)
	}
}

func (cc *clientConn) readError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %s closed the connection", ErrConnection, cc.addr)
	case errors.Is(err, ErrMalformedFrame) || errors.Is(err, ErrFrameTooLarge):
		cc.client.cfg.Logger.Warn("rpc: closing connection after bad frame",
			"addr", cc.addr, "err", err)
	}
	return fmt.Errorf("%w: read: %w", ErrConnection, err)
}

func (cc *clientConn) deliver(f *frame) {
	cc.mu.Lock()
	ch, ok := cc.pending[f.ID]
	cc.removeLocked(f.ID)
	cc.mu.Unlock()
	if !ok {
		return // the caller gave up
	}
	if f.Code == codeOK {
		ch <- result{body: f.Body}
		return
	}
	ch <- result{err: &RemoteError{Msg: f.Msg, code: f.Code}}
}

// fail breaks the connection, failing every call in flight with err.
func (cc *clientConn) fail(err error) {
	cc.mu.Lock()
	if cc.broken != nil {
		cc.mu.Unlock()
		return
	}
	pending := cc.breakLocked(err, false)
	cc.mu.Unlock()
	cc.teardown(err, pending)
}

// checkIdle runs on the idle timer: it retires the connection if no call
// has used it for IdleTimeout, and otherwise re-arms the timer.
func (cc *clientConn) checkIdle() {
	timeout := cc.client.cfg.IdleTimeout
	cc.mu.Lock()
	if cc.broken != nil {
		cc.mu.Unlock()
		return
	}
	if len(cc.pending) > 0 {
		cc.idle.Reset(timeout)
		cc.mu.Unlock()
		return
	}
	if wait := timeout - time.Since(cc.idleSince); wait > 0 {
		cc.idle.Reset(wait)
		cc.mu.Unlock()
		return
	}
	err := fmt.Errorf("%w: idle for %v", ErrConnection, timeout)
	pending := cc.breakLocked(err, true)
	cc.mu.Unlock()
	cc.teardown(err, pending)
}

// breakLocked marks the connection broken and hands back the calls to
// fail. Called with mu held and broken nil.
func (cc *clientConn) breakLocked(err error, retired bool) map[uint64]chan result {
	pending := cc.pending
	cc.pending = nil
	cc.broken = err
	cc.retired = retired
	cc.dead.Store(true)
	return pending
}

// teardown closes the connection and answers the calls that were in
// flight.
func (cc *clientConn) teardown(err error, pending map[uint64]chan result) {
	cc.mu.Lock()
	if cc.idle != nil {
		cc.idle.Stop()
	}
	cc.mu.Unlock()
	cc.shutdown(err)
	cc.client.mu.Lock()
	delete(cc.client.conns, cc)
	cc.client.mu.Unlock()
	for _, ch := range pending {
		ch <- result{err: err}
	}
}
