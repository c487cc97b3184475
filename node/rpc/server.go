package rpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/cairnkv/cairn/internal/gopool"
)

// Handler serves one request. It runs on its own goroutine, concurrently
// with other requests from the same and other connections. ctx is
// cancelled when the caller's deadline passes, the caller gives up, the
// connection breaks or the server closes; whatever the handler returns
// after that is dropped, since nobody waits for it. body belongs to the
// handler. A returned error reaches the caller as a *RemoteError carrying
// its text; return ErrUnknownMethod (possibly wrapped) for a method it
// does not serve.
type Handler func(ctx context.Context, method string, body []byte) ([]byte, error)

// idleHandlers is how many handler goroutines a server keeps parked
// between requests: enough for the requests a busy node serves at once,
// at a few KiB of stack each.
const idleHandlers = 64

// Server accepts connections and runs a Handler for each request on them.
type Server struct {
	cfg Config
	h   Handler

	ctx    context.Context // parent of every handler's context
	cancel context.CancelFunc
	wg     sync.WaitGroup // Serve loops, connection loops, handlers
	// handlers runs each request's handler: on a goroutine whose stack a
	// handler before it has already grown (a replica read or write goes
	// as deep as Badger), not on a new one that must grow it again.
	handlers *gopool.Pool

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
}

// NewServer returns a server that answers requests with h. cfg must pass
// Validate.
func NewServer(cfg Config, h Handler) *Server {
	cfg.mustValidate()
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:       cfg,
		h:         h,
		ctx:       ctx,
		cancel:    cancel,
		handlers:  gopool.New(idleHandlers),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*serverConn]struct{}),
	}
}

// Serve accepts connections on ln until Close, then returns nil; it
// returns an error if ln fails for another reason, and ErrClosed if the
// server was already closed. It may be called for several listeners at
// once. The server owns ln and closes it.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		s.wg.Done()
	}()

	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err == nil {
			backoff = 0
			s.startConn(nc)
			continue
		}
		if s.isClosed() {
			return nil
		}
		if errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("rpc: serve: %w", err)
		}
		// Transient failures such as running out of file descriptors:
		// back off as net/http does rather than spin or give up.
		backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
		s.cfg.Logger.Warn("rpc: accept failed; retrying", "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return nil
		}
	}
}

// Close stops accepting, closes every connection, cancels the contexts of
// the handlers still running and waits for them (and every goroutine the
// server started) to return. Calls in flight see ErrConnection.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*serverConn, 0, len(s.conns))
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	s.mu.Unlock()
	s.cancel()
	for _, sc := range conns {
		sc.close(ErrClosed)
	}
	s.wg.Wait()
	s.handlers.Close()
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// startConn serves a new connection, or closes it if the server is closing.
func (s *Server) startConn(nc net.Conn) {
	sc := newServerConn(s, nc)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sc.close(ErrClosed)
		return
	}
	s.conns[sc] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		sc.writeLoop(s.cfg.WriteTimeout)
	}()
	go func() {
		defer s.wg.Done()
		sc.readLoop()
	}()
}
