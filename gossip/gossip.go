package gossip

import (
	"fmt"
	"log"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Gossip is this node's membership in the cluster's memberlist. Its
// methods are safe for concurrent use.
type Gossip struct {
	cfg    Config
	logger *slog.Logger
	ml     *memberlist.Memberlist
	addr   string
	events *eventQueue

	// stopReconnect and reconnectDone bound the reconnect goroutine; nil
	// when Config.ReconnectInterval is 0.
	stopReconnect chan struct{}
	reconnectDone chan struct{}

	// opMu serialises SetMeta, Leave and Close: memberlist's Leave panics
	// after Shutdown, and a metadata update must not race a leave.
	opMu sync.Mutex

	// mu guards what follows. It is never held while calling into
	// memberlist: memberlist calls back into hooks with its own locks held.
	mu      sync.Mutex
	meta    Meta
	leaving bool
	encoded []byte // encodeMeta(meta, leaving), what NodeMeta returns
	members map[string]*member
	closed  bool

	closeDone chan struct{} // closed when Close has finished
	closeErr  error         // written before closeDone is closed
}

// New starts memberlist for this node, listening but not yet joined to
// anyone (see Join). d receives membership events, starting with this
// node's own Alive; it may be nil.
func New(cfg Config, d Delegate) (*Gossip, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	encoded, err := encodeMeta(cfg.Meta, false)
	if err != nil {
		return nil, err
	}
	g := &Gossip{
		cfg:       cfg,
		logger:    cfg.Logger,
		events:    newEventQueue(d, cfg.Logger),
		meta:      cfg.Meta,
		encoded:   encoded,
		members:   make(map[string]*member),
		closeDone: make(chan struct{}),
	}
	mc := cfg.memberlistConfig()
	h := hooks{g: g}
	mc.Delegate, mc.Events, mc.Ping = h, h, h
	mc.Logger = log.New(&logWriter{logger: cfg.Logger, onSuspect: g.suspected}, "", 0)
	ml, err := memberlist.Create(mc)
	if err != nil {
		g.mu.Lock()
		g.closed = true
		g.mu.Unlock()
		g.events.close()
		return nil, fmt.Errorf("gossip: start %s: %w", cfg.NodeID, err)
	}
	g.ml = ml
	g.addr = ml.LocalNode().Address()
	if cfg.ReconnectInterval > 0 {
		g.stopReconnect, g.reconnectDone = make(chan struct{}), make(chan struct{})
		go g.reconnect(g.stopReconnect, g.reconnectDone)
	}
	return g, nil
}

// Join contacts the given seeds (host:port gossip addresses) and merges
// state with each that answers; the rest of the cluster follows by
// gossip. It returns how many seeds answered, and an error wrapping
// ErrJoin if none did. Joining no seeds is a no-op.
func (g *Gossip) Join(addrs []string) (int, error) {
	if g.isClosed() {
		return 0, ErrClosed
	}
	if len(addrs) == 0 {
		return 0, nil
	}
	n, err := g.ml.Join(addrs)
	if err != nil {
		return n, fmt.Errorf("%w: seeds %s: %w", ErrJoin, strings.Join(addrs, ","), err)
	}
	return n, nil
}

// Addr is the gossip host:port this node advertises, with the real port
// when it was bound to port 0.
func (g *Gossip) Addr() string { return g.addr }

// SetMeta changes what this node advertises and waits, at most
// Config.BroadcastTimeout, for the change to be broadcast. On
// ErrBroadcastTimeout the new Meta is in effect and still spreads.
func (g *Gossip) SetMeta(m Meta) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	return g.changeMeta(func(Meta) Meta { return m })
}

// SetRingEpoch is SetMeta with only the ring epoch changed.
func (g *Gossip) SetRingEpoch(epoch uint64) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	return g.changeMeta(func(m Meta) Meta {
		m.RingEpoch = epoch
		return m
	})
}

// changeMeta applies change to this node's Meta and broadcasts the
// result. The caller holds opMu.
func (g *Gossip) changeMeta(change func(Meta) Meta) error {
	g.mu.Lock()
	switch {
	case g.closed:
		g.mu.Unlock()
		return ErrClosed
	case g.leaving:
		g.mu.Unlock()
		return ErrLeft
	}
	m := change(g.meta)
	if m == g.meta {
		g.mu.Unlock()
		return nil
	}
	encoded, err := encodeMeta(m, false)
	if err != nil {
		g.mu.Unlock()
		return err
	}
	g.meta, g.encoded = m, encoded
	g.mu.Unlock()

	// UpdateNode fails only when the broadcast does not finish in time.
	if err := g.ml.UpdateNode(g.cfg.BroadcastTimeout); err != nil {
		return fmt.Errorf("%w: meta update, after %v", ErrBroadcastTimeout, g.cfg.BroadcastTimeout)
	}
	return nil
}

// Up reports whether node should be treated as reachable: true when it is
// alive or suspect, false when it is dead or has left. A node gossip has
// never heard of is up: callers learn of down nodes from gossip, and a
// request to an unknown node fails fast on its own.
func (g *Gossip) Up(node string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, ok := g.members[node]
	return !ok || m.state == Alive || m.state == Suspect
}

// Members returns every member this node has seen since New, this node
// included, dead and left ones too, sorted by Node. The slice is the
// caller's.
func (g *Gossip) Members() []Member {
	g.mu.Lock()
	out := make([]Member, 0, len(g.members))
	for name, m := range g.members {
		out = append(out, Member{Node: name, Addr: m.addr, State: m.state, Meta: m.meta})
	}
	g.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Node, b.Node) })
	return out
}

// Leave tells the cluster that this node is leaving, so that the others
// record it as Left rather than Dead, and waits at most timeout (zero or
// less: Config.BroadcastTimeout) for that to be broadcast. The node keeps
// answering gossip until Close. After Leave, SetMeta fails with ErrLeft;
// calling Leave again does nothing.
//
// Leaving is two broadcasts: metadata with the leaving flag, then
// memberlist's leave. If the first is cut short by the timeout, some
// members may record the node as Dead.
func (g *Gossip) Leave(timeout time.Duration) error {
	g.opMu.Lock()
	defer g.opMu.Unlock()
	if timeout <= 0 {
		timeout = g.cfg.BroadcastTimeout
	}
	deadline := time.Now().Add(timeout)

	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return ErrClosed
	}
	if g.leaving {
		g.mu.Unlock()
		return nil
	}
	encoded, err := encodeMeta(g.meta, true)
	if err != nil { // cannot happen: the size was checked with the flag set
		g.mu.Unlock()
		return err
	}
	g.leaving, g.encoded = true, encoded
	g.mu.Unlock()

	// memberlist waits forever on a zero timeout: keep both above it.
	if err := g.ml.UpdateNode(max(timeout/2, time.Millisecond)); err != nil {
		g.logger.Warn("gossip: leave intent not fully broadcast; some members may record this node as dead", "err", err)
	}
	rest := max(time.Until(deadline), time.Millisecond)
	if err := g.ml.Leave(rest); err != nil {
		return fmt.Errorf("%w: leave, after %v", ErrBroadcastTimeout, timeout)
	}
	return nil
}

// Close stops memberlist without a leave (a crash, as others see it;
// call Leave first to leave gracefully) and stops event delivery: the
// Delegate is not called once Close returns. The Gossip's own goroutines
// have stopped when it returns (a reconnect attempt in progress is waited
// for: at most Config.TCPTimeout), and so have memberlist's listeners; a
// probe memberlist had in flight may finish later, but whatever it
// reports is ignored. Close is idempotent; a second call waits for the
// first to finish.
func (g *Gossip) Close() error {
	g.opMu.Lock()
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		g.opMu.Unlock()
		<-g.closeDone
		return g.closeErr
	}
	g.closed = true
	g.mu.Unlock()

	// Stop reconnecting first: a join after Shutdown would still send this
	// node's state, alive, to the member it reached.
	if g.stopReconnect != nil {
		close(g.stopReconnect)
		<-g.reconnectDone
	}
	if err := g.ml.Shutdown(); err != nil {
		g.closeErr = fmt.Errorf("gossip: shutdown: %w", err)
	}
	// Release opMu before waiting for the Delegate, which may be blocked
	// in SetMeta or Leave (they fail with ErrClosed now).
	g.opMu.Unlock()
	g.events.close()
	close(g.closeDone)
	return g.closeErr
}

func (g *Gossip) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}
