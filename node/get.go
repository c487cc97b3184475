package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

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
}

func resolveGet(p Props, opts GetOptions) (getQuorum, error) {
	q := getQuorum{n: p.NVal, notfoundOK: p.NotFoundOK, basicQuorum: p.BasicQuorum}
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
	forward := make(chan getReply, len(pl))
	n.askReplicas(key, q.n, pl, forward)

	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	var (
		merged                   *object.Object
		ok, okPrimary, notfounds int
		errs, answered           []string
		seen                     int
	)
	for seen < len(pl) {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: r=%d pr=%d needed, %d of %d replicas answered %v before %v", ErrQuorumNotMet, q.r, q.pr, ok, len(pl), answered, ctx.Err())
		case rep := <-forward:
			seen++
			if rep.err == nil {
				answered = append(answered, vnodeName(rep.vn))
			}
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
		}
		if ok >= q.r && okPrimary >= q.pr {
			return found(merged)
		}
		failed := seen - ok
		left := len(pl) - seen
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
				ErrQuorumNotMet, q.r, q.pr, ok, answered, okPrimary, notfounds, strings.Join(errs, "; "))
		}
	}
	return nil, fmt.Errorf("%w: r=%d pr=%d needed, %d replied", ErrQuorumNotMet, q.r, q.pr, ok)
}

// askReplicas asks every vnode of pl for key, each on a goroutine of its
// own, and sends each reply to forward (which has room for all of them).
// The fan-out outlives the request: whichever replica answers last runs
// read repair over every reply. Each reply goes straight from the
// goroutine that fetched it to the request, with no collector between:
// a hop and a goroutine less per get. The replicas share one
// ReplicaTimeout context, as they start together.
func (n *Node) askReplicas(key []byte, nval int, pl []ring.PrefEntry, forward chan<- getReply) {
	n.bg.Add(1) // as spawn: done when read repair is
	bctx, bcancel := context.WithTimeout(n.ctx, n.cfg.RequestTimeout)
	rctx, rcancel := context.WithTimeout(bctx, n.cfg.ReplicaTimeout)
	finish := func() {
		rcancel()
		bcancel()
	}
	var (
		mu  sync.Mutex
		all = make([]getReply, 0, len(pl))
	)
	for _, e := range pl {
		go func() {
			obj, err := n.replicas.GetReplica(rctx, e.VNode, key)
			r := getReply{vn: e.VNode, primary: e.Role == ring.Primary, obj: obj, err: err}
			forward <- r
			mu.Lock()
			all = append(all, r)
			last := len(all) == len(pl)
			mu.Unlock()
			if !last {
				return
			}
			defer n.bg.Done()
			defer finish()
			n.readRepair(bctx, key, nval, all)
		}()
	}
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
func (n *Node) readRepair(ctx context.Context, key []byte, nval int, all []getReply) {
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
	for _, r := range all {
		stale := r.err == nil && (r.obj == nil || !r.obj.Descends(merged))
		corrupt := errors.Is(r.err, object.ErrCorrupt) || errors.Is(r.err, object.ErrVersion)
		if !stale && !corrupt {
			continue
		}
		if _, err := n.replicas.PutReplica(ctx, r.vn, key, merged, false); err != nil {
			n.log.Warn("read repair failed", "vnode", vnodeName(r.vn), "err", err)
			continue
		}
		n.metrics.readRepairs.Add(1)
	}
}
