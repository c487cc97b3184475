package node

import (
	"context"
	"fmt"
	"slices"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/ring"
)

// errNoRoute: this node cannot address the peer, so nothing was sent.
var errNoRoute = fmt.Errorf("%w: no route to node", ErrUnavailable)

// peers implements Replicas for a cluster: a vnode on this node is called
// directly, one on another node through the transport.
type peers struct {
	n *Node
}

var _ Replicas = peers{}

// addr returns the RPC address of node, or an error when the topology
// does not know it (the request then counts that replica as failed).
func (p peers) addr(node string) (string, error) {
	if p.n.tr == nil {
		return "", fmt.Errorf("%w: node %s (this node runs without a transport)", errNoRoute, node)
	}
	r := p.n.routing.Load()
	if a, ok := r.addrs[node]; ok && a != "" {
		return a, nil
	}
	return "", fmt.Errorf("%w: no address known for node %s", errNoRoute, node)
}

// call sends req to node's method and decodes the answer into resp. what
// names the exchange in errors ("get from n2/7").
func call[Resp any](ctx context.Context, p peers, node, method, what string, req any) (*Resp, error) {
	resp, _, err := callSized[Resp](ctx, p, node, method, what, req)
	return resp, err
}

// callSized is call that also returns the bytes of the request and the
// answer, for callers that account for what they send (anti-entropy).
func callSized[Resp any](ctx context.Context, p peers, node, method, what string, req any) (*Resp, int, error) {
	addr, err := p.addr(node)
	if err != nil {
		return nil, 0, err
	}
	body, err := encodeMsg(req)
	if err != nil {
		return nil, 0, err
	}
	out, err := p.n.tr.Call(ctx, addr, method, body)
	size := len(body) + len(out)
	if err != nil {
		return nil, size, fmt.Errorf("node: %s: %w", what, err)
	}
	resp := new(Resp)
	if err := decodeMsg(out, resp); err != nil {
		return nil, size, fmt.Errorf("node: %s: reply: %w", what, err)
	}
	return resp, size, nil
}

// decodeReply decodes an object a peer sent back. A failure is the
// exchange's, not a corrupt replica: the bytes were damaged in flight or
// by the peer's codec.
func decodeReply(raw []byte, what string) (*object.Object, error) {
	obj, err := object.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("node: %s: undecodable object: %v", what, err)
	}
	return obj, nil
}

// GetReplica implements Replicas.
func (p peers) GetReplica(ctx context.Context, vn ring.VNode, key []byte) (*object.Object, error) {
	if vn.Node == p.n.cfg.NodeID {
		return p.n.local.GetReplica(ctx, vn, key)
	}
	what := "get from " + vnodeName(vn)
	resp, err := call[getReplicaResp](ctx, p, vn.Node, methodGetReplica, what, &getReplicaReq{Partition: vn.Partition, Key: key})
	if err != nil {
		return nil, err
	}
	switch resp.Status {
	case replicaNotFound:
		return nil, nil
	case replicaCorrupt:
		return nil, fmt.Errorf("node: vnode %s: %w: %s", vnodeName(vn), object.ErrCorrupt, resp.Err)
	case replicaFound:
		// The replica checked the bytes against their checksum only; bytes
		// that pass it and still do not parse are a corrupt replica too,
		// for read repair to replace.
		obj, err := object.Decode(resp.Object)
		if err != nil {
			return nil, fmt.Errorf("node: vnode %s: %w", vnodeName(vn), err)
		}
		return obj, nil
	}
	return nil, fmt.Errorf("node: %s: unknown status %d", what, resp.Status)
}

// PutReplica implements Replicas.
func (p peers) PutReplica(ctx context.Context, vn ring.VNode, key []byte, obj *object.Object, w ReplicaWrite) (*object.Object, error) {
	if vn.Node == p.n.cfg.NodeID {
		return p.n.local.PutReplica(ctx, vn, key, obj, w)
	}
	raw := w.Encoded
	if raw == nil {
		var err error
		if raw, err = object.Encode(obj); err != nil {
			return nil, err
		}
	}
	what := "put to " + vnodeName(vn)
	resp, err := call[putReplicaResp](ctx, p, vn.Node, methodPutReplica, what,
		&putReplicaReq{Partition: vn.Partition, Key: key, Object: raw, Durable: w.Durable, NoMerged: !w.Merged})
	if err != nil || !w.Merged {
		return nil, err
	}
	return decodeReply(resp.Object, what)
}

// reap asks vnode vn to delete key if it still holds exactly tomb.
func (p peers) reap(ctx context.Context, vn ring.VNode, key []byte, tomb *object.Object) (bool, error) {
	if vn.Node == p.n.cfg.NodeID {
		return p.n.local.reap(vn.Partition, key, tomb)
	}
	raw, err := object.Encode(tomb)
	if err != nil {
		return false, err
	}
	resp, err := call[reapResp](ctx, p, vn.Node, methodReap, "reap on "+vnodeName(vn),
		&reapReq{Partition: vn.Partition, Key: key, Tombstone: raw})
	if err != nil {
		return false, err
	}
	return resp.Reaped, nil
}

// holds asks node whether it has key under any of parts.
func (p peers) holds(ctx context.Context, node string, key []byte, parts []int) (bool, error) {
	if node == p.n.cfg.NodeID {
		return p.n.local.holds(key, parts)
	}
	resp, err := call[holdsResp](ctx, p, node, methodHolds, "holds on "+node, &holdsReq{Key: key, Partitions: parts})
	if err != nil {
		return false, err
	}
	return resp.Held, nil
}

// forwardPut sends a write to node to coordinate. It returns the merged
// object when the request asked for it.
func (p peers) forwardPut(ctx context.Context, node string, req *coordPutReq) (*object.Object, error) {
	what := "forward put to " + node
	resp, err := call[coordPutResp](ctx, p, node, methodCoordPut, what, req)
	if err != nil {
		return nil, err
	}
	if resp.Code != codeOK {
		return nil, &remoteErr{code: resp.Code, msg: resp.Msg}
	}
	if len(resp.Object) == 0 {
		return nil, nil
	}
	return decodeReply(resp.Object, what)
}

// namesPage is how many names one kv.names answer carries.
const namesPage = 4096

// names pages through node's names under prefix.
func (p peers) names(ctx context.Context, node string, prefix []byte, what uint8) ([]string, error) {
	var out []string
	req := namesReq{Prefix: prefix, What: what, Limit: namesPage}
	for {
		resp, err := call[namesResp](ctx, p, node, methodNames, "list on "+node, &req)
		if err != nil {
			return nil, err
		}
		// An honest peer answers at most a page of names, sorted, all
		// after req.After. One that does not would make this loop page
		// forever, gathering names without bound.
		if len(resp.Names) > req.Limit {
			return nil, fmt.Errorf("node: list on %s: reply: %d names, more than the %d asked for", node, len(resp.Names), req.Limit)
		}
		if len(resp.Names) > 0 && (resp.Names[0] <= req.After || !slices.IsSorted(resp.Names)) {
			return nil, fmt.Errorf("node: list on %s: reply: names not sorted after %q", node, req.After)
		}
		out = append(out, resp.Names...)
		if !resp.More || len(resp.Names) == 0 {
			return out, nil
		}
		req.After = resp.Names[len(resp.Names)-1]
	}
}

// sendBatch hands a batch of objects to vnode vn and returns once the
// receiver holds them durably.
func (n *Node) sendBatch(ctx context.Context, vn ring.VNode, batch []batchEntry, hinted bool) error {
	if vn.Node == n.cfg.NodeID {
		return fmt.Errorf("node: handoff to itself (%s)", vnodeName(vn))
	}
	req := &batchReq{Partition: vn.Partition, Entries: make([]batchWire, len(batch)), Hinted: hinted}
	for i, e := range batch {
		req.Entries[i] = batchWire{Key: e.key, Object: e.raw}
	}
	_, err := call[batchResp](ctx, peers{n}, vn.Node, methodBatch, "batch to "+vnodeName(vn), req)
	return err
}
