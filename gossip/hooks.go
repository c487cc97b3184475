package gossip

import (
	"time"

	"github.com/hashicorp/memberlist"
)

// member is this node's view of one member.
type member struct {
	addr  string
	state State
	meta  Meta
}

// hooks receives memberlist's callbacks and keeps the Gossip's view of
// the members, queueing an Event for each change. EventDelegate calls come
// with memberlist's node lock held, one at a time; the probe hooks
// (suspected, acked) come from memberlist's prober without it. Each takes
// g.mu, so the view changes, and events are queued, in one order.
type hooks struct{ g *Gossip }

var (
	_ memberlist.Delegate      = hooks{}
	_ memberlist.EventDelegate = hooks{}
	_ memberlist.PingDelegate  = hooks{}
)

// NodeMeta returns this node's encoded Meta; its size was checked when it
// was set, so it is within limit (memberlist.MetaMaxSize).
func (h hooks) NodeMeta(limit int) []byte {
	h.g.mu.Lock()
	defer h.g.mu.Unlock()
	return h.g.encoded
}

// cairn sends no user messages and no user state over gossip.
func (hooks) NotifyMsg([]byte)                           {}
func (hooks) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (hooks) LocalState(join bool) []byte                { return nil }
func (hooks) MergeRemoteState(buf []byte, join bool)     {}

// NotifyJoin: a member memberlist did not know, or knew as dead or left,
// is alive.
func (h hooks) NotifyJoin(n *memberlist.Node) {
	meta, _ := h.g.readMeta(n)
	h.g.update(n.Name, func(m *member, known bool) (Event, bool) {
		m.addr, m.state, m.meta = n.Address(), Alive, meta
		return Event{Kind: Alive, Node: n.Name, Meta: meta}, true
	})
}

// NotifyUpdate: an alive or suspect member announced new metadata (with a
// new incarnation, so memberlist counts it alive again).
func (h hooks) NotifyUpdate(n *memberlist.Node) {
	meta, _ := h.g.readMeta(n)
	h.g.update(n.Name, func(m *member, known bool) (Event, bool) {
		changed := !known || m.meta != meta
		wasAlive := known && m.state == Alive
		m.addr, m.state, m.meta = n.Address(), Alive, meta
		// Only the leaving flag changed: nothing the Delegate can see.
		return Event{Kind: Alive, Updated: changed, Node: n.Name, Meta: meta}, changed || !wasAlive
	})
}

// NotifyLeave: a member is dead or has left. memberlist does not say which
// (the Node's State is never set); a member that leaves through
// Gossip.Leave first announces the leaving flag in its metadata.
func (h hooks) NotifyLeave(n *memberlist.Node) {
	meta, leaving := h.g.readMeta(n)
	kind := Dead
	if leaving {
		kind = Left
	}
	h.g.update(n.Name, func(m *member, known bool) (Event, bool) {
		if known && m.state == kind {
			return Event{}, false
		}
		m.addr, m.state, m.meta = n.Address(), kind, meta
		return Event{Kind: kind, Node: n.Name, Meta: meta}, true
	})
}

func (hooks) AckPayload() []byte { return nil }

// NotifyPingComplete: this node's direct probe of a member was answered.
func (h hooks) NotifyPingComplete(n *memberlist.Node, rtt time.Duration, payload []byte) {
	h.g.acked(n.Name)
}

// suspected is called when this node's probe of node got no ack and
// memberlist is about to suspect it.
func (g *Gossip) suspected(node string) {
	g.update(node, func(m *member, known bool) (Event, bool) {
		if !known || m.state != Alive {
			return Event{}, false
		}
		m.state = Suspect
		return Event{Kind: Suspect, Node: node, Meta: m.meta}, true
	})
}

// acked is called when this node's probe of node succeeded: a suspect
// member refuted, or was never down.
func (g *Gossip) acked(node string) {
	g.update(node, func(m *member, known bool) (Event, bool) {
		if !known || m.state != Suspect {
			return Event{}, false
		}
		m.state = Alive
		return Event{Kind: Alive, Node: node, Meta: m.meta}, true
	})
}

// update applies change to node's entry (a new one if !known, kept only if
// change emits an event) and queues the event. Nothing changes once the
// Gossip is closed.
func (g *Gossip) update(node string, change func(m *member, known bool) (Event, bool)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	m, known := g.members[node]
	if !known {
		m = &member{}
	}
	e, emit := change(m, known)
	if !known && emit {
		g.members[node] = m
	}
	if emit {
		g.events.push(e)
	}
}

// readMeta decodes a member's metadata; unreadable metadata (not a cairn
// node, or a bug) is logged and read as the zero Meta.
func (g *Gossip) readMeta(n *memberlist.Node) (Meta, bool) {
	meta, leaving, err := decodeMeta(n.Meta)
	if err != nil {
		g.logger.Warn("gossip: unreadable member metadata", "node", n.Name, "addr", n.Address(), "err", err)
	}
	return meta, leaving
}
