package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// maxKeysSegments bounds the segments of one aae.keys request, so that a
// vnode that lost everything is listed in pieces, not in one huge frame.
const maxKeysSegments = 256

// repairWorkers bounds the keys of one exchange repaired at once.
const repairWorkers = 4

// run carries out one exchange: compare the trees, then repair every key
// that differs by pushing the merge of both copies to whichever side lacks
// it (both sides, when each has a write the other lacks).
func (a *aae) run(ctx context.Context, id antientropy.ExchangeID) antientropy.Result {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ExchangeTimeout)
	defer cancel()
	var cost exchangeCost
	tid := treeID{q: id.Primary, n: id.N}
	local := a.side(id.Partition, tid, &cost)
	var remote antientropy.Side
	if id.Peer == a.n.cfg.NodeID {
		remote = a.side(id.PeerPartition, tid, &cost)
	} else {
		remote = &rpcSide{n: a.n, node: id.Peer, p: id.PeerPartition, tid: tid, segments: a.cfg.Segments, cost: &cost}
	}
	diffs, st, err := antientropy.Compare(ctx, local, remote)
	r := antientropy.Result{KeysCompared: st.KeysCompared}
	if err == nil && len(diffs) > 0 {
		peer := ring.VNode{Partition: id.PeerPartition, Node: id.Peer}
		r.Repaired, err = a.repair(ctx, id.Partition, peer, diffs, &cost)
	}
	r.Bytes = int(cost.bytes.Load())
	r.Err = err
	m := a.n.metrics
	m.aaeExchanges.Add(1)
	m.aaeKeysCompared.Add(uint64(st.KeysCompared))
	m.aaeKeysRepaired.Add(uint64(r.Repaired))
	m.aaeBytes.Add(uint64(r.Bytes))
	if err != nil {
		m.aaeErrors.Add(1)
		a.n.log.Debug("anti-entropy exchange failed", "partition", id.Partition, "peer", id.Peer, "peer_partition", id.PeerPartition, "err", err)
	} else if r.Repaired > 0 {
		a.n.log.Info("anti-entropy repaired keys", "partition", id.Partition, "peer", id.Peer,
			"peer_partition", id.PeerPartition, "tree", fmt.Sprintf("%d/%d", id.Primary, id.N), "keys", r.Repaired)
	}
	return r
}

// exchangeCost counts what an exchange moved and read, for its result
// and for tests that check the cost follows the divergence.
type exchangeCost struct {
	bytes   atomic.Int64 // RPC bodies both ways and objects moved by repair
	objects atomic.Int64 // objects read by repair, both sides
	calls   atomic.Int64 // tree and key RPCs
}

// repair brings each differing key to the same object on both vnodes.
func (a *aae) repair(ctx context.Context, p int, peer ring.VNode, diffs []antientropy.Diff, cost *exchangeCost) (int, error) {
	var (
		repaired atomic.Int64
		mu       sync.Mutex
		firstErr error
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	self := ring.VNode{Partition: p, Node: a.n.cfg.NodeID}
	for range min(repairWorkers, len(diffs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(diffs) || ctx.Err() != nil {
					return
				}
				fixed, err := a.repairKey(ctx, self, peer, diffs[i].Key, cost)
				if fixed {
					repaired.Add(1)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return int(repaired.Load()), firstErr
}

// repairKey merges the two copies of key and writes the merge where it is
// missing. A corrupt copy counts as absent, so the good one replaces it;
// a corrupt copy here with nothing readable on either side is deleted.
func (a *aae) repairKey(ctx context.Context, self, peer ring.VNode, key []byte, cost *exchangeCost) (bool, error) {
	rep := a.n.replicas
	mine, mineErr := rep.GetReplica(ctx, self, key)
	mineCorrupt := errors.Is(mineErr, object.ErrCorrupt) || errors.Is(mineErr, object.ErrVersion)
	if mineErr != nil && !mineCorrupt {
		return false, mineErr
	}
	theirs, err := rep.GetReplica(ctx, peer, key)
	theirsCorrupt := errors.Is(err, object.ErrCorrupt) || errors.Is(err, object.ErrVersion)
	if err != nil && !theirsCorrupt {
		return false, err
	}
	cost.objects.Add(2)
	merged := object.Sync(mine, theirs)
	if merged.IsEmpty() {
		if !errors.Is(mineErr, object.ErrCorrupt) {
			return false, nil
		}
		// Neither side holds anything readable, and the copy here is
		// garbage: no version of cairn can read it, unlike one of a newer
		// version (ErrVersion), which is kept. While it stays, the trees
		// differ at every exchange and reads that ask every replica fail.
		// A good copy elsewhere comes back with the exchange that finds it.
		dropped, err := a.dropCorrupt(self.Partition, key)
		if dropped {
			loc, _ := ParseLocation(key)
			a.n.log.Warn("anti-entropy deleted a corrupt copy that no replica it compared could replace",
				"vnode", vnodeName(self), "peer", vnodeName(peer), "key", loc.String())
		}
		return dropped, err
	}
	size := int64(merged.Size())
	fixed := false
	if mineCorrupt || !object.Equal(mine, merged) {
		if _, err := rep.PutReplica(ctx, self, key, merged, ReplicaWrite{}); err != nil {
			return false, err
		}
		cost.bytes.Add(size)
		fixed = true
	}
	if theirsCorrupt || !object.Equal(theirs, merged) {
		if _, err := rep.PutReplica(ctx, peer, key, merged, ReplicaWrite{}); err != nil {
			return fixed, err
		}
		cost.bytes.Add(size)
		fixed = true
	}
	return fixed, nil
}

// dropCorrupt deletes key from local vnode p if its stored copy fails
// its checksum (object.ErrCorrupt; not an object of a newer version).
func (a *aae) dropCorrupt(p int, key []byte) (bool, error) {
	raw, err := a.n.eng.Get(store.Partition(p), key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("node: vnode %d: read: %w", p, err)
	}
	if _, err := object.Decode(raw); !errors.Is(err, object.ErrCorrupt) {
		return false, nil
	}
	return a.n.local.dropCorrupt(p, key, raw)
}

// side is a local vnode's end of an exchange.
func (a *aae) side(p int, tid treeID, cost *exchangeCost) antientropy.Side {
	t := a.n.local.trees.get(p, tid, false)
	if t == nil {
		t = a.empty
	}
	return antientropy.TreeSide(t, func(ctx context.Context, segs []int) ([]antientropy.KeyEntry, error) {
		return a.n.local.segmentKeys(ctx, p, tid, segs)
	})
}

// segmentKeys lists the index entries of segments segs of vnode p's tree
// tid: one short prefix scan per segment, no values read.
func (v *vnodes) segmentKeys(ctx context.Context, p int, tid treeID, segs []int) ([]antientropy.KeyEntry, error) {
	var out []antientropy.KeyEntry
	for _, seg := range segs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := v.eng.Iterate(indexPartition(p), segmentPrefix(tid, seg), func(k, val []byte) error {
			_, s, key, ok := parseIndexKey(k)
			h, hok := decodeHash(val)
			if ok && hok && h != 0 && s == seg {
				out = append(out, antientropy.KeyEntry{Segment: seg, Key: slices.Clone(key), Hash: h})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("node: vnode %d: read aae index: %w", p, err)
		}
	}
	return out, nil
}

// rpcSide is a peer vnode's end of an exchange, over the transport.
type rpcSide struct {
	n        *Node
	node     string
	p        int
	tid      treeID
	segments int
	cost     *exchangeCost
}

var _ antientropy.Side = (*rpcSide)(nil)

// sideCall is one round trip of an exchange with the peer vnode, counted
// in the exchange's cost.
func sideCall[Resp any](ctx context.Context, s *rpcSide, method string, req any) (*Resp, error) {
	what := fmt.Sprintf("aae exchange with %s/%d", s.node, s.p)
	resp, size, err := callSized[Resp](ctx, peers{s.n}, s.node, method, what, req)
	s.cost.calls.Add(1)
	s.cost.bytes.Add(int64(size))
	return resp, err
}

func (s *rpcSide) tree(ctx context.Context, level uint8, branches []int) (*aaeTreeResp, error) {
	req := aaeTreeReq{Partition: s.p, Q: s.tid.q, N: s.tid.n, Segments: s.segments, Level: level, Branches: branches}
	return sideCall[aaeTreeResp](ctx, s, methodAAETree, &req)
}

func (s *rpcSide) Root(ctx context.Context) (uint64, error) {
	resp, err := s.tree(ctx, levelRoot, nil)
	if err != nil {
		return 0, err
	}
	if len(resp.Hashes) != 1 {
		return 0, fmt.Errorf("node: aae exchange with %s/%d: %d root hashes", s.node, s.p, len(resp.Hashes))
	}
	return resp.Hashes[0], nil
}

func (s *rpcSide) Branches(ctx context.Context) ([]uint64, error) {
	resp, err := s.tree(ctx, levelBranches, nil)
	if err != nil {
		return nil, err
	}
	return resp.Hashes, nil
}

func (s *rpcSide) Segments(ctx context.Context, branches []int) ([][]uint64, error) {
	resp, err := s.tree(ctx, levelSegments, branches)
	if err != nil {
		return nil, err
	}
	if len(resp.Levels) != len(branches) {
		return nil, fmt.Errorf("node: aae exchange with %s/%d: %d branches for %d asked", s.node, s.p, len(resp.Levels), len(branches))
	}
	return resp.Levels, nil
}

func (s *rpcSide) Keys(ctx context.Context, segs []int) ([]antientropy.KeyEntry, error) {
	var out []antientropy.KeyEntry
	for chunk := range slices.Chunk(segs, maxKeysSegments) {
		req := aaeKeysReq{Partition: s.p, Q: s.tid.q, N: s.tid.n, Segments: s.segments, Segs: chunk}
		resp, err := sideCall[aaeKeysResp](ctx, s, methodAAEKeys, &req)
		if err != nil {
			return nil, err
		}
		if len(resp.Segs) != len(resp.Keys) || len(resp.Keys) != len(resp.Hashes) {
			return nil, fmt.Errorf("node: aae exchange with %s/%d: malformed key list", s.node, s.p)
		}
		for i := range resp.Keys {
			out = append(out, antientropy.KeyEntry{Segment: resp.Segs[i], Key: resp.Keys[i], Hash: resp.Hashes[i]})
		}
	}
	return out, nil
}

// Tree levels an aae.tree request asks for.
const (
	levelRoot     uint8 = 0
	levelBranches uint8 = 1
	levelSegments uint8 = 2
)

// aaeTreeReq asks for one level of vnode Partition's tree (Q, N).
// Segments is the asker's tree shape, refused when it is not the
// answerer's.
type aaeTreeReq struct {
	Partition int   `msgpack:"p"`
	Q         int   `msgpack:"q"`
	N         int   `msgpack:"n"`
	Segments  int   `msgpack:"s"`
	Level     uint8 `msgpack:"l"`
	Branches  []int `msgpack:"b,omitempty"`
}

type aaeTreeResp struct {
	Hashes []uint64   `msgpack:"h,omitempty"` // root (1) or every branch
	Levels [][]uint64 `msgpack:"v,omitempty"` // segments of each branch asked
}

// aaeKeysReq asks for the index entries of some segments of a tree.
type aaeKeysReq struct {
	Partition int   `msgpack:"p"`
	Q         int   `msgpack:"q"`
	N         int   `msgpack:"n"`
	Segments  int   `msgpack:"s"`
	Segs      []int `msgpack:"g"`
}

type aaeKeysResp struct {
	Segs   []int    `msgpack:"g"`
	Keys   [][]byte `msgpack:"k"`
	Hashes []uint64 `msgpack:"h"`
}

// checkTree validates a peer's tree request against this node.
func (n *Node) checkTree(p, q, nval, segments int) error {
	size := n.routing.Load().ring.Size()
	a := n.aae
	switch {
	case p < 0 || p >= size || q < 0 || q >= size:
		return fmt.Errorf("%w: partition %d or tree %d outside a ring of %d", ErrBadRequest, p, q, size)
	case nval < 1 || nval > size:
		return fmt.Errorf("%w: n_val %d", ErrBadRequest, nval)
	case segments != a.cfg.Segments:
		return fmt.Errorf("%w: %d segments asked, this node has %d", antientropy.ErrShape, segments, a.cfg.Segments)
	}
	a.mu.Lock()
	enabled, unbuilt := a.sched.Enabled(), a.unbuilt[p]
	a.mu.Unlock()
	switch {
	case !enabled:
		return fmt.Errorf("%w on node %s", antientropy.ErrDisabled, n.cfg.NodeID)
	case unbuilt:
		return fmt.Errorf("%w: vnode %d on node %s", antientropy.ErrNotBuilt, p, n.cfg.NodeID)
	}
	return nil
}

func (n *Node) serveAAETree(body []byte) ([]byte, error) {
	var req aaeTreeReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if err := n.checkTree(req.Partition, req.Q, req.N, req.Segments); err != nil {
		return nil, err
	}
	t := n.local.trees.get(req.Partition, treeID{q: req.Q, n: req.N}, false)
	if t == nil {
		t = n.aae.empty
	}
	var resp aaeTreeResp
	switch req.Level {
	case levelRoot:
		resp.Hashes = []uint64{t.Root()}
	case levelBranches:
		resp.Hashes = t.BranchHashes()
	case levelSegments:
		if len(req.Branches) == 0 || len(req.Branches) > t.Branches() {
			return nil, fmt.Errorf("%w: %d branches asked", ErrBadRequest, len(req.Branches))
		}
		for _, b := range req.Branches {
			if b < 0 || b >= t.Branches() {
				return nil, fmt.Errorf("%w: branch %d of %d", ErrBadRequest, b, t.Branches())
			}
			resp.Levels = append(resp.Levels, t.SegmentHashes(b))
		}
	default:
		return nil, fmt.Errorf("%w: tree level %d", ErrBadRequest, req.Level)
	}
	return encodeMsg(&resp)
}

func (n *Node) serveAAEKeys(ctx context.Context, body []byte) ([]byte, error) {
	var req aaeKeysReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if err := n.checkTree(req.Partition, req.Q, req.N, req.Segments); err != nil {
		return nil, err
	}
	if len(req.Segs) == 0 || len(req.Segs) > maxKeysSegments {
		return nil, fmt.Errorf("%w: %d segments asked", ErrBadRequest, len(req.Segs))
	}
	for _, s := range req.Segs {
		if s < 0 || s >= req.Segments {
			return nil, fmt.Errorf("%w: segment %d of %d", ErrBadRequest, s, req.Segments)
		}
	}
	entries, err := n.local.segmentKeys(ctx, req.Partition, treeID{q: req.Q, n: req.N}, req.Segs)
	if err != nil {
		return nil, err
	}
	resp := aaeKeysResp{Segs: make([]int, len(entries)), Keys: make([][]byte, len(entries)), Hashes: make([]uint64, len(entries))}
	for i, e := range entries {
		resp.Segs[i], resp.Keys[i], resp.Hashes[i] = e.Segment, e.Key, e.Hash
	}
	return encodeMsg(&resp)
}
