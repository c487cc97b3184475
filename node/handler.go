package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/cairnkv/cairn/handoff"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/ring"
)

// HandleRPC serves one request from a peer (the methods Handles reports).
// Bodies are untrusted: malformed ones get an error wrapping
// ErrBadRequest, never a panic. It has the rpc.Handler signature.
func (n *Node) HandleRPC(ctx context.Context, method string, body []byte) ([]byte, error) {
	if err := n.admit(); err != nil {
		return nil, err
	}
	defer n.bg.Done()
	if n.routing.Load() == nil {
		// Restarted and still replaying the ring: the caller counts this
		// replica as failed (and a forwarder tries the next node).
		if method == methodCoordPut {
			return encodeMsg(&coordPutResp{Code: codeUnavailable, Msg: "node: unavailable: this node has no ring yet"})
		}
		return nil, fmt.Errorf("%w: this node has no ring yet", ErrUnavailable)
	}
	switch method {
	case methodGetReplica:
		return n.serveGetReplica(ctx, body)
	case methodPutReplica:
		return n.servePutReplica(ctx, body)
	case methodReap:
		return n.serveReap(body)
	case methodCoordPut:
		return n.serveCoordPut(ctx, body)
	case methodNames:
		return n.serveNames(ctx, body)
	case methodHolds:
		return n.serveHolds(body)
	case methodBatch:
		return n.serveBatch(ctx, body)
	case methodTransfers:
		return n.serveTransfers(body)
	case methodAAETree:
		return n.serveAAETree(body)
	case methodAAEKeys:
		return n.serveAAEKeys(ctx, body)
	}
	return nil, fmt.Errorf("node: unknown method %q", method)
}

// checkVNode validates a peer's partition number against this node's ring.
func (n *Node) checkVNode(p int, key []byte) error {
	size := n.routing.Load().ring.Size()
	if p < 0 || p >= size {
		return fmt.Errorf("%w: partition %d outside a ring of %d", ErrBadRequest, p, size)
	}
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", ErrBadRequest)
	}
	if _, err := ParseLocation(key); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

func (n *Node) serveGetReplica(ctx context.Context, body []byte) ([]byte, error) {
	var req getReplicaReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if err := n.checkVNode(req.Partition, req.Key); err != nil {
		return nil, err
	}
	// The stored bytes go back as they are, checked against their
	// checksum: the coordinator parses them, and parsing them here as
	// well cost a get 3% of its CPU.
	raw, err := n.local.loadVerified(req.Partition, req.Key)
	var resp getReplicaResp
	switch {
	case errors.Is(err, object.ErrCorrupt) || errors.Is(err, object.ErrVersion):
		resp = getReplicaResp{Status: replicaCorrupt, Err: err.Error()}
	case err != nil:
		return nil, err
	case raw == nil:
		resp.Status = replicaNotFound
	default:
		resp.Object = raw
	}
	return encodeMsg(&resp)
}

func (n *Node) servePutReplica(ctx context.Context, body []byte) ([]byte, error) {
	var req putReplicaReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if err := n.checkVNode(req.Partition, req.Key); err != nil {
		return nil, err
	}
	obj, err := object.Decode(req.Object)
	if err != nil {
		return nil, fmt.Errorf("%w: object: %w", ErrBadRequest, err)
	}
	_, raw, err := n.local.putReplicaEncoded(ctx, ring.VNode{Partition: req.Partition, Node: n.cfg.NodeID}, req.Key, obj, req.Durable)
	if err != nil {
		return nil, err
	}
	if req.NoMerged {
		raw = nil
	}
	return encodeMsg(&putReplicaResp{Object: raw})
}

func (n *Node) serveReap(body []byte) ([]byte, error) {
	var req reapReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if err := n.checkVNode(req.Partition, req.Key); err != nil {
		return nil, err
	}
	tomb, err := object.Decode(req.Tombstone)
	if err != nil {
		return nil, fmt.Errorf("%w: tombstone: %w", ErrBadRequest, err)
	}
	if !tomb.IsTombstone() {
		return nil, fmt.Errorf("%w: reap of a live object", ErrBadRequest)
	}
	reaped, err := n.local.reap(req.Partition, req.Key, tomb)
	if err != nil {
		return nil, err
	}
	return encodeMsg(&reapResp{Reaped: reaped})
}

// serveCoordPut coordinates a write forwarded by a node that holds no
// replica of the key. It never forwards again, so nodes whose rings
// disagree for a moment cannot bounce a write between them.
func (n *Node) serveCoordPut(ctx context.Context, body []byte) ([]byte, error) {
	var req coordPutReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	resp, err := n.coordPut(ctx, &req)
	if err != nil {
		resp = &coordPutResp{Code: codeOf(err), Msg: err.Error()}
	}
	return encodeMsg(resp)
}

func (n *Node) coordPut(ctx context.Context, req *coordPutReq) (*coordPutResp, error) {
	loc := Location{Type: req.Type, Bucket: req.Bucket, Key: req.Key}
	if err := loc.Validate(); err != nil {
		return nil, err
	}
	size := n.routing.Load().ring.Size()
	q := putQuorum{n: req.N, w: req.W, dw: req.DW, pw: req.PW}
	if q.n < 1 || q.n > size || q.w < 1 || q.w > q.n || q.dw < 0 || q.dw > q.n || q.pw < 0 || q.pw > q.n {
		return nil, fmt.Errorf("%w: forwarded quorums n=%d w=%d dw=%d pw=%d", ErrBadRequest, q.n, q.w, q.dw, q.pw)
	}
	if int64(len(req.Content.Value)) > n.cfg.MaxObjectSize {
		return nil, fmt.Errorf("%w: %d bytes, the maximum is %d", ErrTooLarge, len(req.Content.Value), n.cfg.MaxObjectSize)
	}
	var cctx object.Context
	if req.Context != "" {
		var err error
		if cctx, err = object.DecodeContext(req.Context, loc.Bytes()); err != nil {
			return nil, err
		}
	}
	obj, err := n.put(ctx, loc, putSpec{q: q, lww: req.LWW, cctx: cctx, c: req.Content, forwarded: true, returnBody: req.ReturnBody})
	if err != nil {
		return nil, err
	}
	resp := &coordPutResp{}
	if req.ReturnBody && obj != nil {
		if resp.Object, err = object.Encode(obj); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (n *Node) serveNames(ctx context.Context, body []byte) ([]byte, error) {
	var req namesReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if req.Limit < 1 || req.Limit > namesPage || req.What > listBuckets {
		return nil, fmt.Errorf("%w: names: limit %d, what %d", ErrBadRequest, req.Limit, req.What)
	}
	names, err := n.localNames(ctx, req.Prefix, req.What)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearch(names, req.After)
	if i < len(names) && names[i] == req.After {
		i++
	}
	names = names[i:]
	resp := namesResp{Names: names}
	if len(names) > req.Limit {
		resp.Names, resp.More = names[:req.Limit], true
	}
	return encodeMsg(&resp)
}

func (n *Node) serveHolds(body []byte) ([]byte, error) {
	var req holdsReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if len(req.Partitions) == 0 || len(req.Partitions) > n.routing.Load().ring.Size() {
		return nil, fmt.Errorf("%w: holds: %d partitions", ErrBadRequest, len(req.Partitions))
	}
	for _, p := range req.Partitions {
		if err := n.checkVNode(p, req.Key); err != nil {
			return nil, err
		}
	}
	held, err := n.local.holds(req.Key, req.Partitions)
	if err != nil {
		return nil, err
	}
	return encodeMsg(&holdsResp{Held: held})
}

// maxBatch bounds the entries of one kv.batch.
const maxBatch = 1 << 16

func (n *Node) serveBatch(ctx context.Context, body []byte) ([]byte, error) {
	var req batchReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if len(req.Entries) == 0 || len(req.Entries) > maxBatch {
		return nil, fmt.Errorf("%w: batch of %d entries", ErrBadRequest, len(req.Entries))
	}
	vn := ring.VNode{Partition: req.Partition, Node: n.cfg.NodeID}
	objs := make([]*object.Object, len(req.Entries))
	for i, e := range req.Entries {
		if err := n.checkVNode(req.Partition, e.Key); err != nil {
			return nil, err
		}
		obj, err := object.Decode(e.Object)
		if err != nil {
			return nil, fmt.Errorf("%w: batch entry %d: %w", ErrBadRequest, i, err)
		}
		objs[i] = obj
	}
	// After the checks above, which keep the partition inside the ring.
	if rt := n.routing.Load(); req.Hinted && !rt.takesHints(req.Partition, n.cfg.NodeID) {
		// The sender deletes hints once they are delivered, so taking
		// them for a partition this node does not own (a sender routing
		// by an older ring than this node's, or a newer one) would strand
		// them here, and could take the only copy away from the node
		// that now owns them. Refused, they stay with the sender, which
		// tries again once the rings agree.
		return nil, fmt.Errorf("node: hints for partition %d refused: by this node's ring (epoch %d) it is not this node's, or it is moving to another",
			req.Partition, rt.ring.Epoch())
	}
	for i, e := range req.Entries {
		if _, err := n.local.PutReplica(ctx, vn, e.Key, objs[i], ReplicaWrite{}); err != nil {
			return nil, err
		}
	}
	if err := n.eng.WaitDurable(ctx); err != nil {
		return nil, fmt.Errorf("node: batch: sync: %w", err)
	}
	return encodeMsg(&batchResp{Merged: len(req.Entries)})
}

func (n *Node) serveTransfers(body []byte) ([]byte, error) {
	var req transfersReq
	if err := decodeMsg(body, &req); err != nil {
		return nil, err
	}
	if req.ID == "" {
		list, err := json.Marshal(n.LocalTransfers())
		if err != nil {
			return nil, err
		}
		return encodeMsg(&transfersResp{List: list, Epoch: n.ringEpoch()})
	}
	id, err := handoff.ParseID(req.ID)
	if err == nil {
		err = n.controlLocal(id, handoff.Action(req.Action))
	}
	resp := transfersResp{}
	for code, sentinel := range transferErrs {
		if errors.Is(err, sentinel) {
			resp.Code, resp.Msg, err = code, err.Error(), nil
		}
	}
	if err != nil {
		return nil, err
	}
	return encodeMsg(&resp)
}

// transferErrs are the handoff errors that cross the wire as codes.
var transferErrs = map[uint8]error{1: handoff.ErrNoTransfer, 2: handoff.ErrBadAction, 3: handoff.ErrBadID}
