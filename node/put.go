package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/rpc"
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

// Put implements KV. A vnode of the key's preference list coordinates (a
// node that holds none forwards the write to one that does): it advances
// the object's clock with itself as actor and stores the result, then
// every other replica merges it; the answer comes after w
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
		obj, err = n.put(ctx, loc, putSpec{
			q: q, lww: props.LastWriteWins || !props.AllowMult,
			cctx: opts.Context, c: c, returnBody: opts.ReturnBody,
		})
	}
	n.metrics.observePut(n.cfg.Clock.Since(start), err)
	if err != nil || !opts.ReturnBody {
		return nil, err
	}
	return obj, nil
}

// putSpec is one write to coordinate: a value or a tombstone (c), the
// causal context it supersedes and the resolved quorums.
type putSpec struct {
	q    putQuorum
	lww  bool // last write wins: keep one sibling
	cctx object.Context
	c    object.Content
	// returnBody asks for the merged object: the replicas then send their
	// merges back, and a forwarded write brings the result back. Without
	// it the replicas only acknowledge.
	returnBody bool
	// forwarded: another node sent the write here to coordinate; it is
	// coordinated here even when this node holds no replica, never
	// forwarded again.
	forwarded bool
}

// put coordinates one write and returns the merge of the acknowledged
// replicas.
func (n *Node) put(ctx context.Context, loc Location, s putSpec) (*object.Object, error) {
	key := loc.Bytes()
	rt := n.routing.Load()
	part := rt.ring.PartitionOf(key)
	pl, spares := n.targets(rt, part, s.q.n)
	ctx, cancel := n.requestContext(ctx)
	defer cancel()

	ci := slices.IndexFunc(pl, func(e ring.PrefEntry) bool { return e.Node == n.cfg.NodeID })
	var coord ring.PrefEntry
	others := pl
	switch {
	case ci >= 0:
		coord = pl[ci]
		others = slices.Delete(slices.Clone(pl), ci, ci+1)
	case !s.forwarded:
		return n.forwardPut(ctx, loc, s, pl)
	default:
		// The sender's ring puts this node in the list and ours does
		// not: coordinate as a stand-in for the first replica.
		coord = ring.PrefEntry{VNode: ring.VNode{Partition: part, Node: n.cfg.NodeID}, Role: ring.Fallback, Owner: rt.ring.Owner(part)}
	}
	if coord.Role == ring.Fallback {
		n.metrics.fallbackWrites.Add(1)
	}

	now := n.cfg.Clock.Now()
	var refused error
	w, err := n.local.prepare(ctx, coord.Partition, key, func(cur *object.Object) *object.Object {
		a, err := n.epochs.coordActor(coord.VNode, cur, s.cctx)
		if err != nil {
			refused = fmt.Errorf("%w: the coordinating vnode %s cannot take a new actor epoch: %w", ErrQuorumNotMet, vnodeName(coord.VNode), err)
			return cur
		}
		c := s.c
		c.LastModified = lastModified(now, cur)
		next := cur.Update(s.cctx, c, a)
		if s.lww {
			next = next.LWW()
		}
		if refused = n.checkSiblings(loc, cur, next); refused != nil {
			return cur // unchanged: nothing is stored
		}
		return next
	})
	if refused != nil {
		if w != nil {
			w.release()
		}
		return nil, refused
	}
	if err != nil {
		return nil, fmt.Errorf("%w: w=%d needed, the coordinating vnode %s failed: %w", ErrQuorumNotMet, s.q.w, vnodeName(coord.VNode), err)
	}

	// The other replicas are sent the new object without waiting for the
	// coordinator to store it: sendPut stores it (w.commit, which releases
	// the key's lock) on the goroutine that reports the coordinator's
	// reply, so a write waits on its coordinator's engine only as on any
	// other replica's, and a memtable switch or flush there does not hold
	// up the quorum.
	q := s.q
	durable := q.dw > 0
	replies := make(chan putReply, len(pl)+1)
	n.spawn(func(bctx context.Context) {
		n.sendPut(bctx, rt, w, durable, s.returnBody, coord, others, spares, replies)
	})

	var (
		acks, durableAcks, primaryAcks int
		answered, errs                 []string
		result                         = w.next
	)
	total := 1 + len(others)
	for seen := 0; seen < total; {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: w=%d dw=%d pw=%d needed, %d acknowledged %v before %v",
				ErrQuorumNotMet, q.w, q.dw, q.pw, acks, answered, ctx.Err())
		case rep := <-replies:
			seen++
			if rep.err != nil {
				errs = append(errs, rep.err.Error())
			} else {
				acks++
				answered = append(answered, vnodeName(rep.vn))
				if rep.durable {
					durableAcks++
				}
				if rep.primary {
					primaryAcks++
				}
				if rep.obj != nil { // the replica sent its merge back (returnBody)
					result = object.Sync(result, rep.obj)
				}
			}
			if acks >= q.w && durableAcks >= q.dw && primaryAcks >= q.pw {
				return result, nil
			}
			left := total - seen
			if acks+left < q.w || durableAcks+left < q.dw || primaryAcks+left < q.pw {
				return nil, fmt.Errorf("%w: w=%d dw=%d pw=%d needed, %d acknowledged %v (%d durable, %d primaries), errors: %s",
					ErrQuorumNotMet, q.w, q.dw, q.pw, acks, answered, durableAcks, primaryAcks, strings.Join(errs, "; "))
			}
		}
	}
	return nil, fmt.Errorf("%w: w=%d dw=%d pw=%d needed, %d acknowledged %v (%d durable, %d primaries)",
		ErrQuorumNotMet, q.w, q.dw, q.pw, acks, answered, durableAcks, primaryAcks)
}

// sendPut sends the coordinated object (local.next, encoded as local.raw)
// to every other replica and stores the coordinator's own copy (local was
// prepared, holding the key's lock, on the request's goroutine); each
// answer is one reply (with the replica's merge when wantMerged); a
// replica that fails is replaced by the next spare node
// (sloppy quorum) while spares and time last. A partition being handed
// off also sends to its next owner, outside the quorum, so that the move
// loses no write.
func (n *Node) sendPut(ctx context.Context, rt *routing, local *preparedWrite, durable, wantMerged bool,
	coord ring.PrefEntry, others []ring.PrefEntry, spares []string, replies chan<- putReply) {
	key, obj, raw := local.key, local.next, local.raw
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		served = map[string]bool{coord.Node: true}
	)
	for _, e := range others {
		served[e.Node] = true
	}
	nextSpare := func() (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		for len(spares) > 0 {
			s := spares[0]
			spares = spares[1:]
			if !served[s] {
				served[s] = true
				return s, true
			}
		}
		return "", false
	}
	// write sends the write to others[i], and to spares while it fails.
	write := func(i int, e ring.PrefEntry) {
		if e.Role == ring.Fallback {
			// Picked up front: gossip already said the primary is down.
			n.metrics.fallbackWrites.Add(1)
		}
		// Replica i waits i µs longer than the one before it, so that
		// replicas whose timeouts started together do not fail at the
		// same instant and race for the same spare: which fallback serves
		// which partition then follows from the order of the preference
		// list, not from which goroutine ran first, and the deterministic
		// simulation replays it.
		timeout := n.cfg.ReplicaTimeout + time.Duration(i)*time.Microsecond
		for {
			rctx, cancel := context.WithTimeout(ctx, timeout)
			merged, err := n.replicas.PutReplica(rctx, e.VNode, key, obj, ReplicaWrite{Durable: durable, Merged: wantMerged, Encoded: raw})
			cancel()
			if err == nil || ctx.Err() != nil {
				replies <- putReply{vn: e.VNode, primary: e.Role == ring.Primary, durable: durable && err == nil, obj: merged, err: err}
				return
			}
			spare, ok := nextSpare()
			if !ok {
				replies <- putReply{vn: e.VNode, err: err}
				return
			}
			n.log.Debug("replica failed, writing to a fallback", "vnode", vnodeName(e.VNode), "fallback", spare, "err", err)
			n.metrics.fallbackWrites.Add(1)
			e = ring.PrefEntry{VNode: ring.VNode{Partition: e.Partition, Node: spare}, Role: ring.Fallback, Owner: e.Owner}
		}
	}
	// The coordinator's own durability is one more reply, so its fsync
	// overlaps the other replicas' writes. This node's other vnodes (when
	// it stands in for a fallback) are written after it on the same
	// goroutine, so the request sees their replies in list order, not in
	// the order the Go scheduler ran goroutines, which would decide what
	// it counted first (and which the simulation could not replay).
	wg.Go(func() {
		err := local.commit(true)
		if err != nil {
			n.log.Warn("the coordinator's own write failed after it was sent to the other replicas", "vnode", vnodeName(coord.VNode), "err", err)
		} else if durable {
			err = n.eng.WaitDurable(ctx)
		}
		replies <- putReply{vn: coord.VNode, primary: coord.Role == ring.Primary, durable: durable && err == nil, obj: obj, err: err}
		for i, e := range others {
			if e.Node == n.cfg.NodeID {
				write(i, e)
			}
		}
	})
	for i, e := range others {
		if e.Node != n.cfg.NodeID {
			wg.Go(func() { write(i, e) })
		}
	}
	for _, e := range append([]ring.PrefEntry{coord}, others...) {
		to, ok := rt.pending[e.Partition]
		if !ok || to == e.Node {
			continue
		}
		vn := ring.VNode{Partition: e.Partition, Node: to}
		wg.Go(func() {
			if _, err := n.replicas.PutReplica(ctx, vn, key, obj, ReplicaWrite{Encoded: raw}); err != nil {
				n.log.Warn("write to a partition's next owner failed", "vnode", vnodeName(vn), "err", err)
			}
		})
	}
	wg.Wait()
}

// forwardPut hands a write to a node of the preference list, primaries
// first. It tries the next one only when the write was certainly not
// sent (no connection, no address): a write that may have run is never
// sent twice.
func (n *Node) forwardPut(ctx context.Context, loc Location, s putSpec, pl []ring.PrefEntry) (*object.Object, error) {
	req := &coordPutReq{
		Type: loc.Type, Bucket: loc.Bucket, Key: loc.Key, Content: s.c,
		N: s.q.n, W: s.q.w, DW: s.q.dw, PW: s.q.pw, LWW: s.lww, ReturnBody: s.returnBody,
	}
	if !s.cctx.IsZero() {
		req.Context = s.cctx.Encode(loc.Bytes())
	}
	order := slices.Clone(pl)
	slices.SortStableFunc(order, func(a, b ring.PrefEntry) int { return int(a.Role) - int(b.Role) })
	var errs []string
	for _, e := range order {
		obj, err := peers{n}.forwardPut(ctx, e.Node, req)
		var rerr *remoteErr
		switch {
		case err == nil:
			n.metrics.forwards.Add(1)
			return obj, nil
		case errors.As(err, &rerr):
			if rerr.code != codeUnavailable {
				return nil, err // the coordinator's own verdict
			}
			// It could not coordinate (no ring yet): nothing was written.
		case errors.Is(err, rpc.ErrDial) || errors.Is(err, errNoRoute):
			// Never sent.
		default:
			// Sent, and then the connection broke or time ran out: the
			// write may or may not have been applied, so it is not sent
			// again; the client may retry it.
			return nil, fmt.Errorf("%w: w=%d needed; the write was forwarded to %s, which did not answer (it may or may not have been applied): %w",
				ErrQuorumNotMet, s.q.w, e.Node, err)
		}
		errs = append(errs, err.Error())
	}
	return nil, fmt.Errorf("%w: w=%d needed, no replica of the key could take the write: %s",
		ErrQuorumNotMet, s.q.w, strings.Join(errs, "; "))
}

// vnodeName spells a vnode as node/partition, for errors and logs.
func vnodeName(vn ring.VNode) string { return vn.Node + "/" + strconv.Itoa(vn.Partition) }

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
	_, err = n.put(ctx, loc, putSpec{q: q, lww: props.LastWriteWins || !props.AllowMult, cctx: cctx, c: object.Content{Deleted: true}})
	if err == nil {
		n.metrics.deletes.Add(1)
		n.scheduleReap(loc.Bytes(), q.n)
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

// checkSiblings applies the sibling limits to a coordinated write that
// turns cur into next. Only a write that adds siblings beyond MaxSiblings
// is refused: one that keeps or lowers the count, such as a write with
// the context of a read, is how a client repairs the key.
func (n *Node) checkSiblings(loc Location, cur, next *object.Object) error {
	count := next.Len()
	if n.cfg.MaxSiblings > 0 && count > n.cfg.MaxSiblings && count > cur.Len() {
		n.metrics.siblingsRefused.Add(1)
		return fmt.Errorf("%w: the write would give %s %d siblings, the maximum is %d; "+
			"read the key, resolve its siblings and write the result back with the read's causal context (X-Riak-Vclock)",
			ErrTooManySiblings, loc, count, n.cfg.MaxSiblings)
	}
	if n.cfg.WarnSiblings > 0 && count > n.cfg.WarnSiblings && count > cur.Len() {
		n.metrics.siblingsWarned.Add(1)
		n.log.Warn("object has many siblings: writes without the causal context of a read are piling up",
			"location", loc.String(), "siblings", count, "warn_siblings", n.cfg.WarnSiblings, "max_siblings", n.cfg.MaxSiblings)
	}
	return nil
}
