package node

import (
	"fmt"
	"maps"

	"github.com/cairnkv/cairn/ring"
)

// Topology is the committed layout of the cluster that a node routes by:
// the ring (from the metadata plane), the moves still in progress, and
// where each member's internal RPC listens.
type Topology struct {
	// Ring is the committed ring: who owns each partition now.
	Ring *ring.Ring
	// Pending are committed ownership moves whose data has not arrived
	// yet: the current owner serves, and writes also reach the receiver so
	// that none is lost when ownership passes.
	Pending []Transfer
	// Addrs maps member ids to their internal RPC addresses.
	Addrs map[string]string
}

// Transfer is one partition moving from one owner to the next.
type Transfer struct {
	Partition int
	From, To  string
}

// Liveness says which nodes are up: gossip in a cluster. Up is called on
// the request path, so it must be cheap and must not block; it is safe
// for concurrent use. A node Up reports down is replaced by a fallback
// (sloppy quorum); an up node that fails a request is replaced too, for
// that request.
type Liveness interface {
	Up(node string) bool
}

// AllUp is the Liveness of a node that knows no better: every node is up.
type AllUp struct{}

// Up implements Liveness.
func (AllUp) Up(string) bool { return true }

// routing is an immutable snapshot of a Topology with the lookups the
// request path needs.
type routing struct {
	ring    *ring.Ring
	addrs   map[string]string
	pending map[int]string // partition -> receiver
}

func newRouting(t Topology) (*routing, error) {
	if t.Ring == nil {
		return nil, fmt.Errorf("%w: topology without a ring", ErrBadRequest)
	}
	r := &routing{ring: t.Ring, addrs: maps.Clone(t.Addrs), pending: map[int]string{}}
	for _, tr := range t.Pending {
		if tr.Partition < 0 || tr.Partition >= t.Ring.Size() {
			return nil, fmt.Errorf("%w: transfer of partition %d outside a ring of %d", ErrBadRequest, tr.Partition, t.Ring.Size())
		}
		r.pending[tr.Partition] = tr.To
	}
	return r, nil
}

// ownsOrReceives reports whether partition p is node's by this ring: it
// owns it, or p is moving to it. What node holds for p is then its own
// copy, never a hint for another.
func (r *routing) ownsOrReceives(p int, node string) bool {
	return r.ring.Owner(p) == node || r.pending[p] == node
}

// takesHints reports whether node should take another node's hints for
// partition p by this ring: p is moving to it, or it owns p and p is not
// moving away. Hints taken anywhere else would be stranded there.
func (r *routing) takesHints(p int, node string) bool {
	if to, moving := r.pending[p]; moving {
		return to == node
	}
	return r.ring.Owner(p) == node
}

// SetTopology switches the node to route by t: requests that start after
// it returns use the new ring. The metadata plane's watcher calls it
// whenever the committed ring, its pending moves or a member's address
// changes.
func (n *Node) SetTopology(t Topology) error {
	r, err := newRouting(t)
	if err != nil {
		return err
	}
	n.routing.Store(r)
	n.readyOnce.Do(func() { close(n.ready) })
	n.topoMu.Lock()
	n.topo = Topology{Ring: t.Ring, Pending: append([]Transfer(nil), t.Pending...), Addrs: maps.Clone(t.Addrs)}
	close(n.topoChanged)
	n.topoChanged = make(chan struct{})
	n.topoMu.Unlock()
	return nil
}

// Ready returns a channel closed once the node has a ring to route by:
// at once for a node that runs alone, at the first SetTopology for a
// clustered one.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Topology returns the layout the node routes by now.
func (n *Node) Topology() Topology {
	n.topoMu.Lock()
	defer n.topoMu.Unlock()
	t := n.topo
	t.Pending = append([]Transfer(nil), t.Pending...)
	t.Addrs = maps.Clone(t.Addrs)
	return t
}

// topologyChanged returns a channel closed at the next SetTopology.
func (n *Node) topologyChanged() <-chan struct{} {
	n.topoMu.Lock()
	defer n.topoMu.Unlock()
	return n.topoChanged
}

// targets is the fallback-aware preference list of partition for n
// replicas under the current liveness, and spares: further up nodes, in
// ring order after the primaries, that may stand in for a replica that
// fails during the request.
func (r *routing) targets(partition, nval int, live Liveness) (pl []ring.PrefEntry, spares []string) {
	pl = r.ring.PreflistWithFallbacks(partition, nval, live.Up)
	serving := make(map[string]bool, len(pl))
	for _, e := range pl {
		serving[e.Node] = true
	}
	size := r.ring.Size()
	for i := nval; i < size; i++ {
		node := r.ring.Owner((partition + i) & (size - 1))
		if serving[node] || !live.Up(node) {
			continue
		}
		serving[node] = true
		spares = append(spares, node)
	}
	return pl, spares
}
