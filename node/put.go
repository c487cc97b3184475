package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/ring"
)

// putQuorum holds the resolved quorums of one write.
type putQuorum struct {
	n, w, dw, pw int
}

func resolvePut(p Props, w, dw, pw, wDefault Quorum) (putQuorum, error) {
	q := putQuorum{n: p.NVal}
	var err error
	if q.w, err = w.Resolve(p.NVal, wDefault); err != nil {
		return q, fmt.Errorf("w: %w", err)
	}
	if q.dw, err = dw.Resolve(p.NVal, p.DW); err != nil {
		return q, fmt.Errorf("dw: %w", err)
	}
	if q.pw, err = pw.Resolve(p.NVal, p.PW); err != nil {
		return q, fmt.Errorf("pw: %w", err)
	}
	// The coordinator's own write always counts, and a durable ack is an
	// ack: w is at least 1 and at least dw, as in Riak.
	q.w = max(q.w, q.dw, 1)
	return q, nil
}

// putReply is one vnode's answer to a write.
type putReply struct {
	vn      ring.VNode
	primary bool
	durable bool
	obj     *object.Object
	err     error
}

// Put implements KV. The first vnode of the preference list coordinates:
// it advances the object's clock with itself as actor and stores the
// result, then every other replica merges it; the answer comes after w
// acknowledgements, dw of them durable and pw of them from primaries.
//
// A key of a consistent type is written through the metadata plane
// instead: the quorums in opts are ignored, opts.Context must be the
// current version's (or, without one or with opts.IfNoneMatch, the key
// must not exist), and ErrConflict says it was not.
func (n *Node) Put(ctx context.Context, loc Location, c object.Content, opts PutOptions) (*object.Object, error) {
	start := n.cfg.Clock.Now()
	props, done, err := n.begin(loc)
	if err != nil {
		return nil, err
	}
	defer done()
	if int64(len(c.Value)) > n.cfg.MaxObjectSize {
		return nil, fmt.Errorf("%w: %d bytes, the maximum is %d", ErrTooLarge, len(c.Value), n.cfg.MaxObjectSize)
	}
	var obj *object.Object
	if props.Consistent {
		obj, err = n.strongPut(ctx, loc, c, opts)
	} else {
		var q putQuorum
		if q, err = resolvePut(props, opts.W, opts.DW, opts.PW, props.W); err != nil {
			return nil, err
		}
		c.Deleted = false
		obj, err = n.put(ctx, loc, props, q, opts.Context, c)
	}
	n.metrics.observePut(n.cfg.Clock.Since(start), err)
	if err != nil || !opts.ReturnBody {
		return nil, err
	}
	return obj, nil
}

// put coordinates one write of c (a value or a tombstone) with causal
// context cctx and returns the merge of the acknowledged replicas.
func (n *Node) put(ctx context.Context, loc Location, props Props, q putQuorum, cctx object.Context, c object.Content) (*object.Object, error) {
	key := loc.Bytes()
	pl := n.Ring().Preflist(key, q.n)
	coord := pl[0]
	now := n.cfg.Clock.Now()

	ctx, cancel := n.requestContext(ctx)
	defer cancel()
	obj, err := n.local.modify(ctx, coord.Partition, key, false, func(cur *object.Object) *object.Object {
		c.LastModified = lastModified(now, cur)
		next := cur.Update(cctx, c, actor(coord))
		if props.LastWriteWins || !props.AllowMult {
			next = next.LWW()
		}
		return next
	})
	if err != nil {
		return nil, fmt.Errorf("%w: w=%d needed, the coordinating vnode failed: %w", ErrQuorumNotMet, q.w, err)
	}

	durable := q.dw > 0
	replies := make(chan putReply, len(pl))
	n.spawn(func(bctx context.Context) {
		var wg sync.WaitGroup
		// The coordinator's own durability is one more reply, so its
		// fsync overlaps the other replicas' writes.
		wg.Go(func() {
			var err error
			if durable {
				err = n.eng.WaitDurable(bctx)
			}
			replies <- putReply{vn: coord, primary: true, durable: durable && err == nil, obj: obj, err: err}
		})
		for _, vn := range pl[1:] {
			wg.Go(func() {
				merged, err := n.replicas.PutReplica(bctx, vn, key, obj, durable)
				replies <- putReply{vn: vn, primary: true, durable: durable && err == nil, obj: merged, err: err}
			})
		}
		wg.Wait()
	})

	var (
		acks, durableAcks, primaryAcks int
		errs                           []string
		result                         = obj
	)
	for seen := 0; seen < len(pl); {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: w=%d dw=%d pw=%d needed, %d acknowledged before %v", ErrQuorumNotMet, q.w, q.dw, q.pw, acks, ctx.Err())
		case rep := <-replies:
			seen++
			if rep.err != nil {
				errs = append(errs, rep.err.Error())
			} else {
				acks++
				if rep.durable {
					durableAcks++
				}
				if rep.primary {
					primaryAcks++
				}
				result = object.Sync(result, rep.obj)
			}
			if acks >= q.w && durableAcks >= q.dw && primaryAcks >= q.pw {
				return result, nil
			}
			left := len(pl) - seen
			if acks+left < q.w || durableAcks+left < q.dw || primaryAcks+left < q.pw {
				return nil, fmt.Errorf("%w: w=%d dw=%d pw=%d needed, %d acknowledged (%d durable, %d primaries), errors: %s",
					ErrQuorumNotMet, q.w, q.dw, q.pw, acks, durableAcks, primaryAcks, strings.Join(errs, "; "))
			}
		}
	}
	return nil, fmt.Errorf("%w: w=%d needed, %d acknowledged", ErrQuorumNotMet, q.w, acks)
}

// Delete implements KV: a put of a tombstone. Without a causal context it
// first reads the key with r (default rw) to learn what it deletes, and
// answers ErrNotFound when there is nothing. A key of a consistent type is
// deleted through the metadata plane: opts.Context must be the current
// version's (ErrConflict otherwise, even when it is empty).
func (n *Node) Delete(ctx context.Context, loc Location, opts DeleteOptions) error {
	props, done, err := n.begin(loc)
	if err != nil {
		return err
	}
	defer done()
	if props.Consistent {
		if err := n.strongDelete(ctx, loc, opts); err != nil {
			return err
		}
		n.metrics.deletes.Add(1)
		return nil
	}
	rwDefault := props.RW
	if opts.RW != QuorumDefault {
		rwDefault = opts.RW
	}
	if _, err := rwDefault.Resolve(props.NVal, QuorumQuorum); err != nil {
		return fmt.Errorf("rw: %w", err)
	}
	cctx := opts.Context
	if cctx.IsZero() {
		gp := props
		gp.R = rwDefault
		q, err := resolveGet(gp, GetOptions{R: opts.R, PR: opts.PR})
		if err != nil {
			return err
		}
		cur, err := n.get(ctx, loc, q)
		if err != nil {
			return err
		}
		cctx = cur.Context()
	}
	q, err := resolvePut(props, opts.W, opts.DW, opts.PW, rwDefault)
	if err != nil {
		return err
	}
	_, err = n.put(ctx, loc, props, q, cctx, object.Content{Deleted: true})
	if err == nil {
		n.metrics.deletes.Add(1)
	}
	return err
}

// lastModified is the timestamp of a new write: now, or just after the
// newest sibling it may supersede when the clock is behind that sibling.
// Last-write-wins resolution then always prefers the later write through
// one coordinator, whatever the wall clock did.
func lastModified(now time.Time, cur *object.Object) time.Time {
	if newest := cur.LastModified(); !newest.Before(now) {
		return newest.Add(time.Microsecond)
	}
	return now
}
