package rpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// StepNetwork is an in-memory network whose messages move only when its
// driver moves them: the deterministic simulator's network. A Call puts its
// request in a queue and blocks; the driver lists the queue (Pending) and
// delivers or drops one message at a time, in an order it chooses (from a
// seed). Delivering a request runs the destination's handler on a goroutine
// of its own; when the handler returns, its reply joins the queue, to be
// delivered or dropped in turn. Nothing moves on its own, so with every
// goroutine waiting, the queue is the whole state of the network.
//
// What a fault looks like to the caller:
//
//   - Dropped request or reply, or a cut link: silence; the call ends at
//     its context's deadline (as on a partitioned TCP connection).
//   - A request delivered to a host that is down (Stop): the call fails
//     with an error wrapping ErrDial, as a refused connection does.
//   - A host that is down sends nothing: its calls fail at once with
//     ErrDial, and replies to it are discarded.
//
// A request whose caller has stopped waiting stays in the queue: a peer
// may still run a request whose sender timed out, and a simulation must
// see that happen. A reply nobody waits for leaves the queue.
//
// StepNetwork is safe for concurrent use.
type StepNetwork struct {
	mu     sync.Mutex
	hosts  map[string]*stepHost
	queue  []*StepMessage
	seq    uint64
	closed bool
	wg     sync.WaitGroup // handlers running
}

var _ Transport = stepSender{}

type stepHost struct {
	h      Handler
	ctx    context.Context
	cancel context.CancelFunc
}

// StepMessage is a request or a reply waiting in a StepNetwork's queue.
// Its fields are the driver's to read, never to change.
type StepMessage struct {
	From, To, Method string
	// Body is the request's body, or the reply's (nil when Err is set).
	Body []byte
	// Reply marks a reply: its From is the host that answered, its To
	// the host whose caller waits.
	Reply bool
	// Err is the handler's error, for a reply.
	Err error
	// Request is, for a reply, the body of the request it answers: two
	// identical replies to different requests can be told apart.
	Request []byte
	// Seq numbers messages in the order they were queued, and Origin is
	// the Seq of the request a message is or answers. Concurrent senders
	// queue in a scheduling order, so a deterministic driver relies on
	// them only for messages queued at different times.
	Seq, Origin uint64
	call        *stepCall
}

type stepCall struct {
	deadline    time.Time
	hasDeadline bool
	done        chan struct{}
	ended       bool
	out         []byte
	err         error
}

// NewStepNetwork returns a network with no hosts.
func NewStepNetwork() *StepNetwork {
	return &StepNetwork{hosts: map[string]*stepHost{}}
}

// Listen makes addr an up host served by h (again, after a Stop).
func (n *StepNetwork) Listen(addr string, h Handler) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if old := n.hosts[addr]; old != nil {
		old.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.hosts[addr] = &stepHost{h: h, ctx: ctx, cancel: cancel}
}

// Stop takes the host at addr down, as a crash does: the contexts of its
// running handlers are cancelled and their replies discarded, requests
// delivered to it from now on are refused, and its own calls fail.
func (n *StepNetwork) Stop(addr string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if h := n.hosts[addr]; h != nil {
		h.cancel()
		delete(n.hosts, addr)
	}
}

// Up reports whether addr is a listening host.
func (n *StepNetwork) Up(addr string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.hosts[addr] != nil
}

// Host returns the Transport the node at addr sends through.
func (n *StepNetwork) Host(addr string) Transport { return stepSender{n: n, from: addr} }

// Pending returns the queued messages, oldest first. It leaves out, and
// forgets, replies whose caller stopped waiting.
func (n *StepNetwork) Pending() []*StepMessage {
	n.mu.Lock()
	defer n.mu.Unlock()
	kept := n.queue[:0]
	for _, m := range n.queue {
		if m.Reply && m.call.ended {
			continue
		}
		kept = append(kept, m)
	}
	clear(n.queue[len(kept):])
	n.queue = kept
	return append([]*StepMessage(nil), kept...)
}

// Drop takes m out of the queue: it is lost.
func (n *StepNetwork) Drop(m *StepMessage) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removeLocked(m)
}

// Deliver takes m out of the queue and delivers it: a request to its
// host's handler, which runs on a goroutine of its own, a reply to its
// waiting caller. A request to a host that is down fails its call with
// ErrDial.
func (n *StepNetwork) Deliver(m *StepMessage) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.removeLocked(m) {
		return
	}
	if m.Reply {
		endStepCall(m.call, m.Body, m.Err)
		return
	}
	host := n.hosts[m.To]
	if host == nil {
		endStepCall(m.call, nil, fmt.Errorf("%w: %s: rpc: step: connection refused", ErrDial, m.To))
		return
	}
	ctx, cancel := context.WithCancel(host.ctx)
	if m.call.hasDeadline {
		ctx, cancel = context.WithDeadline(host.ctx, m.call.deadline)
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer cancel()
		out, err := handled(host.h(ctx, m.Method, m.Body))
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.closed || host.ctx.Err() != nil || m.call.ended {
			return // the answering host crashed, or nobody waits
		}
		n.seq++
		n.queue = append(n.queue, &StepMessage{
			From: m.To, To: m.From, Method: m.Method, Body: out, Reply: true, Err: err, Request: m.Body, Seq: n.seq, Origin: m.Origin, call: m.call,
		})
	}()
}

// Close fails every waiting call with ErrClosed and waits for running
// handlers, whose contexts it cancels.
func (n *StepNetwork) Close() error {
	n.mu.Lock()
	n.closed = true
	for _, h := range n.hosts {
		h.cancel()
	}
	for _, m := range n.queue {
		endStepCall(m.call, nil, ErrClosed)
	}
	n.queue = nil
	n.mu.Unlock()
	n.wg.Wait()
	return nil
}

func (n *StepNetwork) removeLocked(m *StepMessage) bool {
	for i, q := range n.queue {
		if q == m {
			n.queue = append(n.queue[:i], n.queue[i+1:]...)
			return true
		}
	}
	return false
}

// endStepCall ends c unless it has ended; the caller holds the network's lock.
func endStepCall(c *stepCall, out []byte, err error) {
	if c.ended {
		return
	}
	c.ended = true
	c.out, c.err = out, err
	close(c.done)
}

type stepSender struct {
	n    *StepNetwork
	from string
}

// Call queues the request and waits for its reply or for ctx to end.
func (s stepSender) Call(ctx context.Context, addr, method string, body []byte) ([]byte, error) {
	if method == "" {
		return nil, callError(addr, method, errors.New("rpc: empty method name"))
	}
	if err := ctx.Err(); err != nil {
		return nil, callError(addr, method, err)
	}
	c := &stepCall{done: make(chan struct{})}
	c.deadline, c.hasDeadline = ctx.Deadline()
	n := s.n
	n.mu.Lock()
	switch {
	case n.closed:
		n.mu.Unlock()
		return nil, callError(addr, method, ErrClosed)
	case n.hosts[s.from] == nil:
		n.mu.Unlock()
		return nil, callError(addr, method, fmt.Errorf("%w: rpc: step: sender %s is down", ErrDial, s.from))
	}
	n.seq++
	n.queue = append(n.queue, &StepMessage{From: s.from, To: addr, Method: method, Body: bytes.Clone(body), Seq: n.seq, Origin: n.seq, call: c})
	n.mu.Unlock()

	select {
	case <-c.done:
	case <-ctx.Done():
		n.mu.Lock()
		endStepCall(c, nil, ctx.Err())
		n.mu.Unlock()
	}
	if c.err != nil {
		return nil, callError(addr, method, c.err)
	}
	return c.out, nil
}
