package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"
)

// serverConn is one accepted connection and the requests running for it.
type serverConn struct {
	wire
	s      *Server
	ctx    context.Context // cancelled when the connection ends
	cancel context.CancelFunc
	sem    chan struct{} // bounds running handlers

	mu     sync.Mutex
	active map[uint64]context.CancelFunc // running requests by id
}

func newServerConn(s *Server, nc net.Conn) *serverConn {
	ctx, cancel := context.WithCancel(s.ctx)
	return &serverConn{
		wire:   newWire(nc),
		s:      s,
		ctx:    ctx,
		cancel: cancel,
		sem:    make(chan struct{}, s.cfg.MaxInFlight),
		active: make(map[uint64]context.CancelFunc),
	}
}

// close ends the connection and cancels its handlers. Bad input is logged:
// it means a buggy or hostile peer, and only this connection pays for it.
func (sc *serverConn) close(err error) {
	switch {
	case errors.Is(err, ErrMalformedFrame) || errors.Is(err, ErrFrameTooLarge):
		sc.s.cfg.Logger.Warn("rpc: closing connection after bad frame",
			"remote", sc.conn.RemoteAddr().String(), "err", err)
	case errors.Is(err, io.EOF) || errors.Is(err, ErrClosed) || errors.Is(err, net.ErrClosed):
	default:
		sc.s.cfg.Logger.Debug("rpc: connection ended",
			"remote", sc.conn.RemoteAddr().String(), "err", err)
	}
	sc.shutdown(err)
	sc.cancel()
	sc.s.mu.Lock()
	delete(sc.s.conns, sc)
	sc.s.mu.Unlock()
}

// readLoop serves the connection until it ends, then cleans up.
func (sc *serverConn) readLoop() {
	err := sc.readFrames()
	if isClosed(sc.done) {
		err = sc.err // the reason it was shut, not the read that noticed
	}
	sc.close(err)
}

// readFrames reads frames and starts a handler for each request, waiting
// for a free slot when MaxInFlight are running (which leaves the rest in
// the socket, pushing back on the client). It returns what ended it.
func (sc *serverConn) readFrames() error {
	br := bufio.NewReaderSize(sc.conn, ioBufferSize)
	for {
		f, err := readFrame(br, sc.s.cfg.MaxFrameSize)
		if err != nil {
			return err
		}
		switch f.Kind {
		case kindRequest:
			select {
			case sc.sem <- struct{}{}:
			case <-sc.done:
				return sc.err
			}
			if err := sc.start(f); err != nil {
				<-sc.sem
				return err
			}
		case kindCancel:
			sc.mu.Lock()
			cancel := sc.active[f.ID]
			sc.mu.Unlock()
			if cancel != nil {
				cancel()
			}
		default:
			return fmt.Errorf("%w: kind %d from a client", ErrMalformedFrame, f.Kind)
		}
	}
}

// start runs the handler for request f on a goroutine of the server's pool.
func (sc *serverConn) start(f *frame) error {
	var ctx context.Context
	var cancel context.CancelFunc
	if f.Timeout > 0 {
		ctx, cancel = context.WithTimeout(sc.ctx, time.Duration(f.Timeout))
	} else {
		ctx, cancel = context.WithCancel(sc.ctx)
	}
	sc.mu.Lock()
	if _, dup := sc.active[f.ID]; dup {
		sc.mu.Unlock()
		cancel()
		return fmt.Errorf("%w: request id %d already in flight", ErrMalformedFrame, f.ID)
	}
	sc.active[f.ID] = cancel
	sc.mu.Unlock()
	// The read loop is itself counted in wg, so this Add cannot race with
	// Close's Wait reaching zero.
	sc.s.wg.Add(1)
	sc.s.handlers.Go(func() { sc.handle(ctx, cancel, f) })
	return nil
}

func (sc *serverConn) handle(ctx context.Context, cancel context.CancelFunc, f *frame) {
	defer func() {
		sc.mu.Lock()
		delete(sc.active, f.ID)
		sc.mu.Unlock()
		cancel()
		<-sc.sem
		sc.s.wg.Done()
	}()
	resp := &frame{ID: f.ID, Kind: kindResponse}
	body, err := sc.call(ctx, f.Method, f.Body)
	if ctx.Err() != nil {
		// The caller has stopped waiting: its deadline passed (ours is no
		// earlier than its) or it cancelled, or the connection is gone.
		// An answer now would only race with its own context error.
		return
	}
	switch {
	case errors.Is(err, ErrUnknownMethod):
		resp.Code, resp.Msg = codeUnknownMethod, err.Error()
	case err != nil:
		resp.Code, resp.Msg = codeHandlerError, err.Error()
	default:
		resp.Body = body
	}
	b, err := encodeFrame(resp, sc.s.cfg.MaxFrameSize)
	if errors.Is(err, ErrFrameTooLarge) {
		resp = &frame{ID: f.ID, Kind: kindResponse, Code: codeTooLarge, Msg: err.Error()}
		b, err = encodeFrame(resp, sc.s.cfg.MaxFrameSize)
	}
	if err != nil {
		sc.close(fmt.Errorf("rpc: respond to %s: %w", f.Method, err))
		return
	}
	sc.send(context.Background(), b) // waits only while the socket is full
}

// call runs the handler, turning a panic into an error so that one bad
// request cannot bring the node down (as net/http does).
func (sc *serverConn) call(ctx context.Context, method string, body []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			sc.s.cfg.Logger.Error("rpc: handler panicked",
				"method", method, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("rpc: handler for %s panicked: %v", method, p)
		}
	}()
	return sc.s.h(ctx, method, body)
}
