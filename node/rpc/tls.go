package rpc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TLS is a Network that runs every connection of an inner Network through
// a TLS handshake: Dial returns only connections whose handshake
// completed, and Listen's listeners hand out only connections whose
// handshake completed. A connection that fails its handshake never reaches
// the RPC server or Raft: it is closed, logged at warn with the remote
// address and the reason, and counted.
//
// In TLS 1.3 a client finishes its handshake before the server has
// checked the client's certificate, so a client the server rejects learns
// it on its first read, as a broken connection; the server never reads a
// byte of its request.
type TLS struct {
	cfg      TLSConfig
	inner    Network
	rejected *prometheus.CounterVec

	mu   sync.Mutex
	logs map[string]*rejectLog // by listener name, and "dial"
}

var _ Network = (*TLS)(nil)

// rejectLog spaces the warnings of one listener.
type rejectLog struct {
	last       time.Time // zero until the first warning
	suppressed int
}

// NewTLS returns a Network that secures inner's connections with cfg.
func NewTLS(cfg TLSConfig, inner Network) (*TLS, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &TLS{cfg: cfg, inner: inner, logs: make(map[string]*rejectLog)}
	t.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cairn_cluster_tls_rejected_total",
		Help: "Cluster (RPC and Raft) TLS handshakes that failed, by listener (\"dial\" for connections this node made).",
	}, []string{"listener"})
	if cfg.Registry != nil {
		err := cfg.Registry.Register(t.rejected)
		var dup prometheus.AlreadyRegisteredError
		if errors.As(err, &dup) {
			if existing, ok := dup.ExistingCollector.(*prometheus.CounterVec); ok {
				t.rejected, err = existing, nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("rpc: tls metrics: %w", err)
		}
	}
	return t, nil
}

// Listen opens a listener on the inner network and wraps it as Wrap does,
// named by the address it is bound to.
func (t *TLS) Listen(addr string) (net.Listener, error) {
	ln, err := t.inner.Listen(addr)
	if err != nil {
		return nil, err
	}
	return t.Wrap(ln, ln.Addr().String()), nil
}

// Wrap returns a listener that accepts on ln and hands out only
// connections that completed a TLS handshake. Handshakes run in the
// background, each bounded by HandshakeTimeout, so a slow or silent peer
// delays nobody else. name labels its warnings and its metric ("rpc",
// "raft"). The returned listener owns ln.
func (t *TLS) Wrap(ln net.Listener, name string) net.Listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &tlsListener{
		Listener: ln,
		t:        t,
		name:     name,
		ready:    make(chan net.Conn),
		errs:     make(chan error),
		ctx:      ctx,
		cancel:   cancel,
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l
}

// Dial connects through the inner network and completes a TLS handshake
// within HandshakeTimeout and ctx. A failed handshake is logged and
// counted as the listeners' are, under "dial".
func (t *TLS) Dial(ctx context.Context, addr string) (net.Conn, error) {
	nc, err := t.inner.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, t.cfg.HandshakeTimeout)
	defer cancel()
	tc := tls.Client(nc, t.cfg.Client)
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = nc.Close()
		if ctx.Err() == nil {
			t.reject("dial", addr, err)
		}
		return nil, fmt.Errorf("rpc: tls handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// reject counts a failed handshake and logs it unless a warning for the
// same listener was logged less than LogInterval ago.
func (t *TLS) reject(name, remote string, err error) {
	t.rejected.WithLabelValues(name).Inc()
	now := t.cfg.Clock.Now()
	t.mu.Lock()
	rl := t.logs[name]
	if rl == nil {
		rl = &rejectLog{}
		t.logs[name] = rl
	}
	if !rl.last.IsZero() && now.Sub(rl.last) < t.cfg.LogInterval {
		rl.suppressed++
		t.mu.Unlock()
		return
	}
	suppressed := rl.suppressed
	rl.last, rl.suppressed = now, 0
	t.mu.Unlock()
	t.cfg.Logger.Warn("rpc: cluster tls handshake rejected", "listener", name, "remote", remote,
		"err", err, "not_logged_since_last", suppressed)
}

// tlsListener accepts on the inner listener in the background, runs each
// connection's handshake on its own goroutine and queues the ones that
// succeed for Accept.
type tlsListener struct {
	net.Listener // the inner one: Addr, and Close through close
	t            *TLS
	name         string
	ready        chan net.Conn // completed handshakes
	errs         chan error    // inner Accept failures
	ctx          context.Context
	cancel       context.CancelFunc
	once         sync.Once
	wg           sync.WaitGroup // acceptLoop and handshakes
}

// Accept returns the next connection whose handshake completed, an error
// from the inner listener, or net.ErrClosed after Close.
func (l *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.ctx.Done():
		return nil, fmt.Errorf("rpc: tls listener: %w", net.ErrClosed)
	}
}

// Close stops accepting, abandons handshakes in progress and waits for
// its goroutines to exit.
func (l *tlsListener) Close() error {
	var err error
	l.once.Do(func() {
		l.cancel()
		err = l.Listener.Close()
		l.wg.Wait()
	})
	return err
}

func (l *tlsListener) acceptLoop() {
	defer l.wg.Done()
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			// Transient failures (out of file descriptors) go to the
			// caller, who backs off; a closed listener ends the loop.
			select {
			case l.errs <- err:
			case <-l.ctx.Done():
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		// The loop holds a count of wg, so this Add cannot race with
		// Close's Wait reaching zero.
		l.wg.Add(1)
		go l.handshake(nc)
	}
}

func (l *tlsListener) handshake(nc net.Conn) {
	defer l.wg.Done()
	ctx, cancel := context.WithTimeout(l.ctx, l.t.cfg.HandshakeTimeout)
	defer cancel()
	tc := tls.Server(nc, l.t.cfg.Server)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		if l.ctx.Err() == nil {
			l.t.reject(l.name, nc.RemoteAddr().String(), err)
		}
		return
	}
	select {
	case l.ready <- tc:
	case <-l.ctx.Done():
		_ = tc.Close()
	}
}
