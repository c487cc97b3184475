package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// MemTransport is an in-memory, message-level network for whole-cluster
// tests. Where MemNetwork carries byte streams, MemTransport hands each
// request straight to the Handler listening at its address and the answer
// straight back, and can lose, delay and reorder either message under a
// seed. A node's identity is its address: the address it Listens on is the
// one it sends from (Host), and the one Partition and Block name.
//
// What a fault looks like to the caller:
//
//   - No host at the address, a Stop, or a symmetric Partition between
//     sender and receiver: the call fails at once with an error wrapping
//     ErrDial, as a refused or unroutable connection does. The node's
//     sloppy quorum relies on that quick failure to pick fallbacks.
//   - Calls in flight when their host Stops (or is replaced by Listen) or a
//     Partition comes between the two ends fail at once with an error
//     wrapping ErrConnection (not ErrDial), as a reset connection does;
//     their handler's context is cancelled.
//   - A message lost to DropRate or to a one-way Block is silent: the
//     caller hears nothing and returns its context's error when ctx is
//     done. A lost request never reaches the handler; a lost reply comes
//     after the handler has run.
//   - A delayed message waits for a timer of the injected clock, so with a
//     clock.Fake it moves only when the test advances the clock; messages
//     with different delays overtake one another.
//
// A message's fate is settled when it is sent: a request's when Call is
// made, a reply's when its handler returns. Faults that change later (a
// Block, SetFaults, Heal) do not reach messages already on their way, but a
// Partition or Stop breaks the calls it cuts, as above. All random draws
// for a call (request drop and delay, reply drop and delay) are made
// together, under a lock, when the call is made, so a seed gives the same
// decisions for the same sequence of calls whatever the goroutine
// scheduling.
//
// Handlers run on their own goroutines with a context that carries the
// caller's deadline and is cancelled when the call ends early (caller gave
// up, host stopped, partition, Close). Bodies are copied both ways, so
// neither side aliases the other's buffers. A handler that panics is not
// recovered (unlike Server): in a test the panic should fail the run.
// Stopping a host does not stop it from sending; a test that crashes a node
// stops the node as well.
//
// MemTransport is safe for concurrent use.
type MemTransport struct {
	clk    clock.Clock
	ctx    context.Context // parent of every host's context; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // delivery and handler goroutines

	mu      sync.Mutex
	rng     *rand.Rand
	closed  bool
	hosts   map[string]*memServer // by address
	cut     map[link]bool         // symmetric partitions, stored both ways
	blocked map[link]bool         // one-way losses
	faults  Faults
	calls   map[*memCall]struct{} // calls not yet ended
	stats   MemStats
}

// Faults are the random faults MemTransport applies to every message,
// requests and replies alike.
type Faults struct {
	// DropRate is the probability, in [0, 1], that a message is lost.
	DropRate float64
	// MinDelay and MaxDelay bound the delay of each message, drawn
	// uniformly from [MinDelay, MaxDelay] and timed on the transport's
	// clock. Zero delivers at once. Messages with different delays arrive
	// out of order.
	MinDelay, MaxDelay time.Duration
}

// Validate reports whether f is usable.
func (f Faults) Validate() error {
	switch {
	case !(f.DropRate >= 0 && f.DropRate <= 1):
		return fmt.Errorf("rpc: mem: drop rate %v not in [0, 1]", f.DropRate)
	case f.MinDelay < 0 || f.MaxDelay < f.MinDelay:
		return fmt.Errorf("rpc: mem: delays [%v, %v] are not a range of non-negative durations", f.MinDelay, f.MaxDelay)
	}
	return nil
}

// MemStats counts messages (requests and replies) since the transport was
// made.
type MemStats struct {
	// Sent counts messages put on the network: requests that got past the
	// fail-fast checks, and replies of handlers whose call was still
	// waiting.
	Sent int
	// Delivered counts requests handed to a handler and replies handed to
	// their caller.
	Delivered int
	// Dropped counts messages lost to DropRate or a Block.
	Dropped int
	// Delayed counts messages given a non-zero delay.
	Delayed int
	// Refused counts calls that failed fast because no host listened at
	// the address or a Partition was in the way; they were never sent.
	Refused int
}

// memServer is one incarnation of a host: a Listen, until its Stop.
type memServer struct {
	addr   string
	h      Handler
	ctx    context.Context // cancelled when this incarnation stops
	cancel context.CancelFunc
}

// memCall is one call from the moment it is sent until it ends. The
// fields from ended on are guarded by MemTransport.mu; out and err are
// written once, before done is closed, and read after.
type memCall struct {
	from, to, method string
	body             []byte // the transport's own copy
	deadline         time.Time
	hasDeadline      bool
	srv              *memServer
	replyLost        bool // drawn when the call is made
	replyDelay       time.Duration

	ended         bool
	cancelHandler context.CancelFunc // set once the request is delivered
	done          chan struct{}
	out           []byte
	err           error
}

// NewMemTransport returns a transport with no hosts and no faults whose
// random faults are drawn from seed and whose delays are timed on clk (the
// real clock if clk is nil).
func NewMemTransport(seed int64, clk clock.Clock) *MemTransport {
	if clk == nil {
		clk = clock.Real{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &MemTransport{
		clk:     clk,
		ctx:     ctx,
		cancel:  cancel,
		rng:     rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15)),
		hosts:   make(map[string]*memServer),
		cut:     make(map[link]bool),
		blocked: make(map[link]bool),
		calls:   make(map[*memCall]struct{}),
	}
}

// Listen makes addr a host served by h. If a host already served addr, it
// is stopped first, as if it had restarted: its calls in flight fail.
func (t *MemTransport) Listen(addr string, h Handler) {
	ctx, cancel := context.WithCancel(t.ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopLocked(addr)
	t.hosts[addr] = &memServer{addr: addr, h: h, ctx: ctx, cancel: cancel}
}

// Stop takes the host at addr down: new calls to it fail at once with an
// error wrapping ErrDial, and calls to it that have not been answered fail
// with one wrapping ErrConnection, their handlers' contexts cancelled. It
// does nothing if no host serves addr.
func (t *MemTransport) Stop(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopLocked(addr)
}

func (t *MemTransport) stopLocked(addr string) {
	srv := t.hosts[addr]
	if srv == nil {
		return
	}
	delete(t.hosts, addr)
	err := fmt.Errorf("%w: rpc: mem: connection reset: %s stopped", ErrConnection, addr)
	for c := range t.calls {
		if c.srv == srv {
			t.endLocked(c, nil, err)
		}
	}
	srv.cancel()
}

// Host returns the Transport that the node at addr sends through. Calls
// through it come from addr for Partition and Block; addr need not be
// listening.
func (t *MemTransport) Host(addr string) Transport { return memSender{t: t, from: addr} }

// Partition cuts every host in a off from every host in b, both ways: new
// calls between them fail at once with ErrDial, calls in flight between
// them with ErrConnection. A host in both lists is not cut from itself.
func (t *MemTransport) Partition(a, b []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			if x != y {
				t.cut[link{x, y}] = true
				t.cut[link{y, x}] = true
			}
		}
	}
	for c := range t.calls {
		if t.cut[link{c.from, c.to}] {
			t.endLocked(c, nil, fmt.Errorf("%w: rpc: mem: connection reset: %s cannot reach %s", ErrConnection, c.from, c.to))
		}
	}
}

// Block loses every message sent from from to to from now on: requests
// from sends to to, and replies from sends to requests that to made. The
// losses are silent; the callers wait out their contexts. Messages the
// other way still flow.
func (t *MemTransport) Block(from, to string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.blocked[link{from, to}] = true
}

// Unblock undoes Block(from, to) for messages sent from now on.
func (t *MemTransport) Unblock(from, to string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.blocked, link{from, to})
}

// Heal removes every Partition and Block and sets Faults to none. Messages
// already lost stay lost; delayed ones still wait for their timers.
func (t *MemTransport) Heal() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.cut)
	clear(t.blocked)
	t.faults = Faults{}
}

// SetFaults applies f to every message sent from now on. It panics if f
// fails Validate, as that is a bug in the test.
func (t *MemTransport) SetFaults(f Faults) {
	if err := f.Validate(); err != nil {
		panic(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.faults = f
}

// Stats returns the message counts so far.
func (t *MemTransport) Stats() MemStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Close ends every call that has not been answered with ErrClosed, cancels
// the handlers' contexts and waits for the goroutines the transport
// started, handlers included, to return. Later calls fail with ErrClosed.
func (t *MemTransport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	for c := range t.calls {
		t.endLocked(c, nil, ErrClosed)
	}
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
	return nil
}

// memSender is one host's Transport.
type memSender struct {
	t    *MemTransport
	from string
}

var _ Transport = memSender{}

// Call sends a request from the sender's address to addr; see
// MemTransport for how faults show.
func (s memSender) Call(ctx context.Context, addr, method string, body []byte) ([]byte, error) {
	if method == "" {
		return nil, callError(addr, method, errors.New("rpc: empty method name"))
	}
	if err := ctx.Err(); err != nil {
		return nil, callError(addr, method, err)
	}
	dl, hasDL := ctx.Deadline()
	c, err := s.t.send(s.from, addr, method, body, dl, hasDL)
	if err != nil {
		return nil, callError(addr, method, err)
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		s.t.mu.Lock()
		s.t.endLocked(c, nil, ctx.Err())
		s.t.mu.Unlock()
		<-c.done // closed by now, by us or by whoever ended it first
	}
	if c.err != nil {
		return nil, callError(addr, method, c.err)
	}
	return c.out, nil
}

// send settles the fate of a new call's request and reply and puts the
// request on its way. It returns an error if the call fails fast.
func (t *MemTransport) send(from, to, method string, body []byte, deadline time.Time, hasDeadline bool) (*memCall, error) {
	c := &memCall{
		from: from, to: to, method: method, body: bytes.Clone(body),
		deadline: deadline, hasDeadline: hasDeadline,
		done: make(chan struct{}),
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	c.srv = t.hosts[to]
	switch {
	case c.srv == nil:
		t.stats.Refused++
		return nil, fmt.Errorf("%w: %s: rpc: mem: connection refused", ErrDial, to)
	case t.cut[link{from, to}]:
		t.stats.Refused++
		return nil, fmt.Errorf("%w: %s: rpc: mem: %s cannot reach %s", ErrDial, to, from, to)
	}
	lost, delay := t.drawLocked()
	c.replyLost, c.replyDelay = t.drawLocked()
	t.calls[c] = struct{}{}
	t.stats.Sent++
	switch {
	case lost || t.blocked[link{from, to}]:
		t.stats.Dropped++
	case delay > 0:
		t.stats.Delayed++
		// Armed now, under the lock, so that timers are created in call
		// order and a test may advance the clock as soon as Call blocks.
		timer := t.clk.NewTimer(delay)
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			select {
			case <-timer.C():
				t.serve(c)
			case <-c.done:
				timer.Stop()
			}
		}()
	default:
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.serve(c)
		}()
	}
	return c, nil
}

// drawLocked decides one message's random fate under the current faults.
func (t *MemTransport) drawLocked() (lost bool, delay time.Duration) {
	f := t.faults
	if f.DropRate > 0 {
		lost = t.rng.Float64() < f.DropRate
	}
	delay = f.MinDelay
	if f.MaxDelay > f.MinDelay {
		delay += time.Duration(t.rng.Int64N(int64(f.MaxDelay-f.MinDelay) + 1))
	}
	return lost, delay
}

// serve delivers c's request to its handler, runs it and sends the reply.
func (t *MemTransport) serve(c *memCall) {
	t.mu.Lock()
	if c.ended {
		t.mu.Unlock()
		return
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if c.hasDeadline {
		ctx, cancel = context.WithDeadline(c.srv.ctx, c.deadline)
	} else {
		ctx, cancel = context.WithCancel(c.srv.ctx)
	}
	defer cancel()
	c.cancelHandler = cancel
	t.stats.Delivered++
	t.mu.Unlock()

	reply, err := handled(c.srv.h(ctx, c.method, c.body))

	t.mu.Lock()
	if c.ended || ctx.Err() != nil {
		// Nobody waits for the answer, or the caller's deadline has passed
		// and it is about to stop waiting: Server drops these too.
		t.mu.Unlock()
		return
	}
	t.stats.Sent++
	switch {
	case c.replyLost || t.blocked[link{c.to, c.from}]:
		t.stats.Dropped++
		t.mu.Unlock()
		return
	case c.replyDelay > 0:
		t.stats.Delayed++
		timer := t.clk.NewTimer(c.replyDelay)
		t.mu.Unlock()
		select {
		case <-timer.C():
		case <-c.done:
			timer.Stop()
			return
		}
		t.mu.Lock()
	}
	if !c.ended {
		t.stats.Delivered++
		t.endLocked(c, reply, err)
	}
	t.mu.Unlock()
}

// endLocked ends c with (out, err) unless it has ended already, and
// cancels its handler's context.
func (t *MemTransport) endLocked(c *memCall, out []byte, err error) {
	if c.ended {
		return
	}
	c.ended = true
	c.out, c.err = out, err
	delete(t.calls, c)
	if c.cancelHandler != nil {
		c.cancelHandler()
	}
	close(c.done)
}

// handled is a handler's answer as an in-memory network hands it back: a
// copy of the body, or the error as the peer's RemoteError, as a Server
// would send it.
func handled(body []byte, err error) ([]byte, error) {
	switch {
	case errors.Is(err, ErrUnknownMethod):
		return nil, &RemoteError{Msg: err.Error(), code: codeUnknownMethod}
	case err != nil:
		return nil, &RemoteError{Msg: err.Error(), code: codeHandlerError}
	}
	return bytes.Clone(body), nil
}
