package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/internal/gopool"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// Node is one cairn node. Create it with New; it is safe for concurrent use.
type Node struct {
	cfg      Config
	log      *slog.Logger
	eng      store.Engine
	local    *vnodes
	replicas Replicas
	tr       rpc.Transport // nil: the node runs alone
	live     Liveness
	md       Metadata
	metrics  *metrics
	// epochs hands out the actors this node's vnodes coordinate under.
	epochs *actorEpochs

	// routing is what requests route by: nil until a clustered node is
	// given its first topology.
	routing     atomic.Pointer[routing]
	topoMu      sync.Mutex
	topo        Topology
	topoChanged chan struct{}
	ready       chan struct{}
	readyOnce   sync.Once

	handoff *handoffRunner
	aae     *aae
	down    downClock

	reapMu  sync.Mutex
	reaping map[string]bool
	reapers *activity

	// ctx outlives requests: replica calls that continue after a request
	// has answered (the rest of a get, read repair) run under it.
	ctx    context.Context
	cancel context.CancelFunc
	// bg counts requests in progress (peers' included) and the background
	// replica work they spawn; reapers the tombstone reaps waiting for
	// their grace period. A request joins bg under mu after checking
	// closed, so once Close has set closed nothing new joins.
	bg *activity
	// asks runs a get's replica reads, on goroutines whose stacks earlier
	// reads have grown to Badger's depth; closed once bg is idle.
	asks   *gopool.Pool
	mu     sync.RWMutex
	closed bool
}

var _ KV = (*Node)(nil)

// New starts a node of a one-member cluster over eng: the node owns every
// partition and stores each key in the n_val vnodes of its preference list.
// It reads bucket types and properties from md, and sends the keys of
// consistent bucket types to it. A nil md means the node runs alone: it
// then uses a LocalMetadata over eng with cfg.Props and cfg.Types.
// The node owns neither eng nor md; the caller closes them after Close.
func New(cfg Config, eng store.Engine, md Metadata) (*Node, error) {
	n, err := newNode(cfg, eng, md, nil, AllUp{})
	if err != nil {
		return nil, err
	}
	rcfg := ring.DefaultConfig()
	rcfg.Size = cfg.RingSize
	r, err := ring.Claim(rcfg, nil, []string{cfg.NodeID}, cfg.Props.NVal)
	if err != nil {
		return nil, fmt.Errorf("node: claim: %w", err)
	}
	if err := n.SetTopology(Topology{Ring: r}); err != nil {
		return nil, err
	}
	return n, nil
}

// NewClustered starts a node that is one member of a cluster. It reaches
// the other members' vnodes through tr, learns who is up from live (nil:
// everyone), and routes by the topology SetTopology gives it; until the
// first one, requests fail with ErrUnavailable. Its peers' requests come
// in through HandleRPC. It owns none of its arguments.
func NewClustered(cfg Config, eng store.Engine, md Metadata, tr rpc.Transport, live Liveness) (*Node, error) {
	if tr == nil {
		return nil, errors.New("node: a clustered node needs a transport")
	}
	if live == nil {
		live = AllUp{}
	}
	return newNode(cfg, eng, md, tr, live)
}

func newNode(cfg Config, eng store.Engine, md Metadata, tr rpc.Transport, live Liveness) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), eng: eng, tr: tr, live: live,
		topoChanged: make(chan struct{}), reaping: map[string]bool{}, bg: newActivity(), reapers: newActivity(), ready: make(chan struct{}),
		asks: gopool.New(idleAsks)}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.metrics = newMetrics(cfg)
	epochs, err := openEpochs(eng)
	if err != nil {
		return nil, err
	}
	n.epochs = epochs
	n.local = newVNodes(eng, n.log, &n.metrics.corruptReads, newTrees(cfg.AAE.Segments), n.treeOf)
	n.local.lost = epochs.untrust
	n.replicas = peers{n}
	n.handoff = newHandoffRunner(n)
	n.down.since = map[string]time.Time{}
	if md == nil {
		var err error
		if md, err = NewLocalMetadata(eng, cfg.Props, cfg.Types); err != nil {
			return nil, err
		}
	}
	n.md = md
	n.aae = newAAE(n)
	if err := n.aae.open(); err != nil {
		return nil, err
	}
	if cfg.Registry != nil {
		if err := cfg.Registry.Register(n.metrics); err != nil {
			return nil, fmt.Errorf("node: register metrics: %w", err)
		}
	}
	return n, nil
}

// ID returns the node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Ring returns the ring the node routes by (nil before a clustered node
// has its first topology).
func (n *Node) Ring() *ring.Ring {
	if r := n.routing.Load(); r != nil {
		return r.ring
	}
	return nil
}

// Close stops accepting requests (they fail with ErrClosed) and waits for
// those in progress and their background replica work (the tail of gets
// and puts, read repair) to finish. It does not close the engine.
func (n *Node) Close() error {
	n.mu.Lock()
	already := n.closed
	n.closed = true
	n.mu.Unlock()
	if already {
		return nil
	}
	n.bg.Wait()
	n.asks.Close()
	n.cancel()
	n.reapers.Wait()
	if n.cfg.Registry != nil {
		n.cfg.Registry.Unregister(n.metrics)
	}
	return nil
}

// WaitIdle blocks until every request and background replica call started
// so far (read repair included) has finished. Tests use it instead of
// sleeping.
func (n *Node) WaitIdle() { n.bg.Wait() }

// begin admits a request: it checks the node is open and the location
// valid, and returns the bucket's effective properties (with Consistent,
// the request goes to the metadata plane). On success the caller must
// call the returned done when the request ends.
func (n *Node) begin(loc Location) (p Props, done func(), err error) {
	if err := n.admit(); err != nil {
		return Props{}, nil, err
	}
	defer func() {
		if err != nil {
			n.bg.Done()
		}
	}()
	if err := n.validate(loc); err != nil {
		return Props{}, nil, err
	}
	p, err = n.md.BucketProps(loc.Type, loc.Bucket)
	if err == nil && !p.Consistent {
		r := n.Ring()
		switch {
		case r == nil:
			err = fmt.Errorf("%w: this node has no ring yet (it is still joining the cluster)", ErrUnavailable)
		case p.NVal > r.Size():
			err = fmt.Errorf("%w: n_val %d exceeds the ring's %d partitions", ErrBadProps, p.NVal, r.Size())
		}
	}
	if err != nil {
		return Props{}, nil, err
	}
	return p, n.bg.Done, nil
}

// admit counts a request in, unless the node is closed. The caller must
// call n.bg.Done when the request ends.
func (n *Node) admit() error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return ErrClosed
	}
	n.bg.Add(1)
	return nil
}

// spawn runs f in the background under the node's lifetime, bounded by the
// request timeout. Only a request admitted by begin may call it, so the
// WaitGroup is never at zero when it is added to.
func (n *Node) spawn(f func(ctx context.Context)) {
	n.bg.Add(1)
	go func() {
		defer n.bg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
		defer cancel()
		f(ctx)
	}()
}

// requestContext bounds a request by the configured timeout.
func (n *Node) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, n.cfg.RequestTimeout)
}
