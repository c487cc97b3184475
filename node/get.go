package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/ring"
)

// getReply is one vnode's answer to a get.
type getReply struct {
	vn      ring.VNode
	primary bool
	obj     *object.Object // nil: the vnode holds nothing (or failed)
	err     error
}

// getQuorum holds the resolved quorums of one get.
type getQuorum struct {
	n, r, pr    int
	notfoundOK  bool
	basicQuorum bool
	// quorumOnly: read_fanout "quorum", ask r replicas first, not all n.
	quorumOnly bool
}

func resolveGet(p Props, opts GetOptions) (getQuorum, error) {
	q := getQuorum{n: p.NVal, notfoundOK: p.NotFoundOK, basicQuorum: p.BasicQuorum, quorumOnly: p.ReadFanout == ReadFanoutQuorum}
	var err error
	if q.r, err = opts.R.Resolve(p.NVal, p.R); err != nil {
		return q, fmt.Errorf("r: %w", err)
	}
	if q.pr, err = opts.PR.Resolve(p.NVal, p.PR); err != nil {
		return q, fmt.Errorf("pr: %w", err)
	}
	q.r = max(q.r, 1)
	if opts.NotFoundOK != nil {
		q.notfoundOK = *opts.NotFoundOK
	}
	if opts.BasicQuorum != nil {
		q.basicQuorum = *opts.BasicQuorum
	}
	return q, nil
}

// Get implements KV. It asks every replica of the preference list, answers
// after r of them (pr of them primaries) with the merge of what they hold,
// and once all have replied repairs those that were stale, missing or
// corrupt (read repair). A key of a consistent type is read from the
// metadata plane instead, and opts are ignored.
func (n *Node) Get(ctx context.Context, loc Location, opts GetOptions) (*object.Object, error) {
	start := n.cfg.Clock.Now()
	props, done, err := n.begin(loc)
	if err != nil {
		return nil, err
	}
	defer done()
	var obj *object.Object
	if props.Consistent {
		obj, err = n.strongGet(ctx, loc)
	} else {
		var q getQuorum
		if q, err = resolveGet(props, opts); err != nil {
			return nil, err
		}
		obj, err = n.get(ctx, loc, q)
	}
	n.metrics.observeGet(n.cfg.Clock.Since(start), obj, err)
	return obj, err
}

// get runs the quorum read; Delete uses it too.
func (n *Node) get(ctx context.Context, loc Location, q getQuorum) (*object.Object, error) {
	key := loc.Bytes()
	rt := n.routing.Load()
	pl, _ := n.targets(rt, rt.ring.PartitionOf(key), q.n)
	if len(pl) == 0 {
		return nil, fmt.Errorf("%w: r=%d needed, no replica of the key is up", ErrQuorumNotMet, q.r)
	}
	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	fo := n.newFanout(key, q, pl)
	defer fo.finish()
	fo.ask(fo.firstAsk())
	var speculate <-chan time.Time
	if fo.unasked() > 0 {
		t := n.cfg.Clock.NewTimer(n.cfg.ReadSpeculateAfter)
		defer t.Stop()
		speculate = t.C()
	}
	var (
		merged                   *object.Object
		ok, okPrimary, notfounds int
		errs                     []string
		answered                 []ring.VNode
		seen                     int
	)
	for seen < len(pl) {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: r=%d pr=%d needed, %d of %d replicas answered %v before %v", ErrQuorumNotMet, q.r, q.pr, ok, len(pl), vnodeNames(answered), ctx.Err())
		case <-speculate:
			// The replicas asked are slow to answer: ask the rest too.
			speculate = nil
			n.metrics.speculativeReads.Add(1)
			fo.ask(fo.unasked())
			continue
		case rep := <-fo.replies:
			seen++
			if rep.err == nil {
				answered = append(answered, rep.vn)
			}
			okBefore := ok
			switch {
			case rep.err != nil:
				errs = append(errs, rep.err.Error())
			case rep.obj == nil || rep.obj.IsEmpty():
				notfounds++
				if q.notfoundOK {
					ok++
					if rep.primary {
						okPrimary++
					}
				}
			default:
				merged = object.Sync(merged, rep.obj)
				ok++
				if rep.primary {
					okPrimary++
				}
			}
			if ok == okBefore {
				// A replica that cannot count: ask the next one in its place.
				fo.ask(1)
			}
		}
		if ok >= q.r && okPrimary >= q.pr {
			return found(merged)
		}
		if fo.outstanding(seen) == 0 {
			fo.ask(1) // every reply is in and the quorum is not: widen
		}
		failed := seen - ok
		left := len(pl) - seen // asked or not: all can still answer
		prUnmet := okPrimary+left < q.pr
		if ok+left < q.r || prUnmet || (q.basicQuorum && failed >= q.n/2+1) {
			if len(errs) == 0 && merged == nil && !prUnmet {
				// Every failure was a notfound: the key does not exist.
				// Not so when too few primaries can answer: a fallback's
				// notfound says nothing of what the primaries hold, so
				// that is a quorum error, never a 404.
				return nil, ErrNotFound
			}
			return nil, fmt.Errorf("%w: r=%d pr=%d needed, %d replied %v (%d primaries), %d notfound, errors: %s",
				ErrQuorumNotMet, q.r, q.pr, ok, vnodeNames(answered), okPrimary, notfounds, strings.Join(errs, "; "))
		}
	}
	return nil, fmt.Errorf("%w: r=%d pr=%d needed, %d replied", ErrQuorumNotMet, q.r, q.pr, ok)
}

// vnodeNames spells vns for an error message.
func vnodeNames(vns []ring.VNode) []string {
	names := make([]string, len(vns))
	for i, vn := range vns {
		names[i] = vnodeName(vn)
	}
	return names
}

// fanout asks the replicas of one get. Each vnode of another node is asked
// on a goroutine of its own, this node's together on one (see ask), and
// every reply goes straight to the request through replies
// (which has room for every vnode of the list), with no collector
// between. Read repair runs over the replies once every replica asked
// has answered: under all by the last reply, in the background, so the
// fan-out outlives the request; under quorum before the get answers
// when they are all in by then (see finish). The replicas share one
// ReplicaTimeout context.
type fanout struct {
	n       *Node
	key     []byte
	q       getQuorum
	pl      []ring.PrefEntry
	replies chan getReply

	rctx    context.Context // the replicas': ReplicaTimeout
	rcancel context.CancelFunc

	asked int // vnodes of pl asked so far, in order; the request's goroutine only

	mu       sync.Mutex
	all      []getReply // replies so far
	sent     int        // vnodes asked, as the repair sees it
	finished bool       // the request has returned
}

// idleAsks is how many goroutines for replica reads a node keeps parked
// between gets.
const idleAsks = 64

// newFanout prepares the asks of a get over pl. Under read_fanout
// quorum, pl is reordered so that the vnode on this node, if any, comes
// first: it answers without a network round trip.
func (n *Node) newFanout(key []byte, q getQuorum, pl []ring.PrefEntry) *fanout {
	if q.quorumOnly {
		if i := slices.IndexFunc(pl, func(e ring.PrefEntry) bool { return e.Node == n.cfg.NodeID }); i > 0 {
			pl = slices.Clone(pl)
			local := pl[i]
			copy(pl[1:i+1], pl[:i])
			pl[0] = local
		}
	}
	n.bg.Add(1) // as spawn: done when read repair is
	fo := &fanout{n: n, key: key, q: q, pl: pl, replies: make(chan getReply, len(pl)),
		all: make([]getReply, 0, len(pl))}
	fo.rctx, fo.rcancel = context.WithTimeout(n.ctx, n.cfg.ReplicaTimeout)
	return fo
}

// firstAsk is how many vnodes a get asks at once: all of them (Riak's
// way), or under read_fanout "quorum" the fewest from the front of the
// list that hold r vnodes with pr primaries among them.
func (fo *fanout) firstAsk() int {
	q := fo.q
	if !q.quorumOnly {
		return len(fo.pl)
	}
	k, primaries := 0, 0
	for _, e := range fo.pl {
		if k >= q.r && primaries >= q.pr {
			break
		}
		k++
		if e.Role == ring.Primary {
			primaries++
		}
	}
	return k
}

// unasked is how many vnodes have not been asked yet.
func (fo *fanout) unasked() int { return len(fo.pl) - fo.asked }

// outstanding is how many vnodes asked have not answered, given that seen
// replies have been received.
func (fo *fanout) outstanding(seen int) int { return fo.asked - seen }

// ask asks the next k vnodes not asked yet (fewer when fewer are left).
func (fo *fanout) ask(k int) {
	k = min(k, fo.unasked())
	if k <= 0 {
		return
	}
	fo.mu.Lock()
	fo.sent += k
	fo.mu.Unlock()
	var local []ring.PrefEntry
	for _, e := range fo.pl[fo.asked : fo.asked+k] {
		if e.Node == fo.n.cfg.NodeID {
			local = append(local, e)
			continue
		}
		fo.n.asks.Go(func() { fo.deliver(fo.read(e)) })
	}
	// This node's vnodes (two of them when it stands in for a fallback)
	// are read one after the other on one goroutine, which hands their
	// replies over together: the request then sees them in list order and
	// both at once, not in the order the Go scheduler ran two goroutines,
	// which would decide what it counted first and whether read repair
	// blocks its answer (finish). Not on the request's own goroutine: a
	// local read cannot be interrupted, and a stuck disk must not hold the
	// request past its deadline.
	if len(local) > 0 {
		fo.n.asks.Go(func() {
			rs := make([]getReply, len(local))
			for i, e := range local {
				rs[i] = fo.read(e)
			}
			fo.deliver(rs...)
		})
	}
	fo.asked += k
}

// read asks vnode e.
func (fo *fanout) read(e ring.PrefEntry) getReply {
	obj, err := fo.n.replicas.GetReplica(fo.rctx, e.VNode, fo.key)
	return getReply{vn: e.VNode, primary: e.Role == ring.Primary, obj: obj, err: err}
}

// deliver records replies, then hands them to the request: recorded
// first, so that a request that has received every reply it asked for
// finds them all in finish. The last reply runs read repair: under all,
// every vnode was asked at the start, so whether or not the request has
// returned; under quorum the request may still ask more, so only once it
// has.
func (fo *fanout) deliver(rs ...getReply) {
	fo.mu.Lock()
	fo.all = append(fo.all, rs...)
	last := len(fo.all) == fo.sent && (fo.finished || !fo.q.quorumOnly)
	fo.mu.Unlock()
	for _, r := range rs {
		fo.replies <- r // never blocks: room for every vnode
	}
	if last {
		fo.repair(fo.n.cfg.RequestTimeout)
	}
}

// finish says the request has returned: no vnode is asked after it.
// Under quorum, when every vnode asked has answered, read repair runs
// here, before the get answers (Cassandra's blocking read repair): a
// replica the get found stale is brought up to date first, bounded by
// ReplicaTimeout, so that a later quorum read cannot see less than this
// one did, and the repair's writes come before whatever the caller does
// next (the simulation replays a seed byte for byte). A quorum read
// whose replicas agree, the common case, repairs nothing. Otherwise the
// last reply runs read repair, in the background.
func (fo *fanout) finish() {
	fo.mu.Lock()
	fo.finished = true
	last := fo.q.quorumOnly && len(fo.all) == fo.sent
	fo.mu.Unlock()
	if last {
		fo.repair(fo.n.cfg.ReplicaTimeout)
	}
}

// repair runs read repair over the replies, each repair write bounded by
// timeout.
func (fo *fanout) repair(timeout time.Duration) {
	defer fo.n.bg.Done()
	fo.rcancel()
	fo.n.readRepair(fo.key, fo.q.n, fo.all, timeout)
}

// found turns a merged read into Get's result: no value or only
// tombstones is ErrNotFound, with the tombstone returned for its context.
func found(merged *object.Object) (*object.Object, error) {
	if merged == nil || merged.IsEmpty() {
		return nil, ErrNotFound
	}
	if merged.IsTombstone() {
		return merged, ErrNotFound
	}
	return merged, nil
}

// readRepair pushes the merge of every reply to each replica that answered
// with less: nothing, an older version, or a corrupt value. Replicas that
// failed for another reason (unreachable, timed out) are left to hinted
// handoff and anti-entropy. When all nval primaries hold the same
// tombstone, the key is scheduled for reaping.
func (n *Node) readRepair(key []byte, nval int, all []getReply, timeout time.Duration) {
	var merged *object.Object
	agree := len(all) == nval
	for _, r := range all {
		if r.err == nil && r.obj != nil {
			merged = object.Sync(merged, r.obj)
		}
		agree = agree && r.err == nil && r.primary && r.obj != nil
	}
	if merged == nil || merged.IsEmpty() {
		return
	}
	if agree && merged.IsTombstone() && !slices.ContainsFunc(all, func(r getReply) bool { return !object.Equal(r.obj, merged) }) {
		n.scheduleReap(key, nval)
		return
	}
	if n.cfg.DisableReadRepair {
		return
	}
	// The repair's own deadline, made only when there is something to
	// repair: most reads find the replicas agreeing.
	var ctx context.Context
	for _, r := range all {
		stale := r.err == nil && (r.obj == nil || !r.obj.Descends(merged))
		corrupt := errors.Is(r.err, object.ErrCorrupt) || errors.Is(r.err, object.ErrVersion)
		if !stale && !corrupt {
			continue
		}
		if ctx == nil {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(n.ctx, timeout)
			defer cancel()
		}
		if _, err := n.replicas.PutReplica(ctx, r.vn, key, merged, ReplicaWrite{}); err != nil {
			n.log.Warn("read repair failed", "vnode", vnodeName(r.vn), "err", err)
			continue
		}
		n.metrics.readRepairs.Add(1)
	}
}
