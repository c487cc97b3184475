package node

import (
	"context"
	"fmt"

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

// GetReplica implements Replicas.
func (p peers) GetReplica(ctx context.Context, vn ring.VNode, key []byte) (*object.Object, error) {
	if vn.Node == p.n.cfg.NodeID {
		return p.n.local.GetReplica(ctx, vn, key)
	}
	addr, err := p.addr(vn.Node)
	if err != nil {
		return nil, err
	}
	body, err := encodeMsg(&getReplicaReq{Partition: vn.Partition, Key: key})
	if err != nil {
		return nil, err
	}
	out, err := p.n.tr.Call(ctx, addr, methodGetReplica, body)
	if err != nil {
		return nil, fmt.Errorf("node: get from %s/%d: %w", vn.Node, vn.Partition, err)
	}
	var resp getReplicaResp
	if err := decodeMsg(out, &resp); err != nil {
		return nil, fmt.Errorf("node: get from %s/%d: reply: %w", vn.Node, vn.Partition, err)
	}
	switch resp.Status {
	case replicaNotFound:
		return nil, nil
	case replicaCorrupt:
		return nil, fmt.Errorf("node: vnode %s/%d: %w: %s", vn.Node, vn.Partition, object.ErrCorrupt, resp.Err)
	case replicaFound:
		obj, err := object.Decode(resp.Object)
		if err != nil {
			// Damaged in flight or by the peer's codec: not the replica's
			// fault, so it is a failed reply, not a corrupt replica.
			return nil, fmt.Errorf("node: get from %s/%d: undecodable object: %v", vn.Node, vn.Partition, err)
		}
		return obj, nil
	}
	return nil, fmt.Errorf("node: get from %s/%d: unknown status %d", vn.Node, vn.Partition, resp.Status)
}

// PutReplica implements Replicas.
func (p peers) PutReplica(ctx context.Context, vn ring.VNode, key []byte, obj *object.Object, durable bool) (*object.Object, error) {
	if vn.Node == p.n.cfg.NodeID {
		return p.n.local.PutReplica(ctx, vn, key, obj, durable)
	}
	addr, err := p.addr(vn.Node)
	if err != nil {
		return nil, err
	}
	raw, err := object.Encode(obj)
	if err != nil {
		return nil, err
	}
	body, err := encodeMsg(&putReplicaReq{Partition: vn.Partition, Key: key, Object: raw, Durable: durable})
	if err != nil {
		return nil, err
	}
	out, err := p.n.tr.Call(ctx, addr, methodPutReplica, body)
	if err != nil {
		return nil, fmt.Errorf("node: put to %s/%d: %w", vn.Node, vn.Partition, err)
	}
	var resp putReplicaResp
	if err := decodeMsg(out, &resp); err != nil {
		return nil, fmt.Errorf("node: put to %s/%d: reply: %w", vn.Node, vn.Partition, err)
	}
	merged, err := object.Decode(resp.Object)
	if err != nil {
		return nil, fmt.Errorf("node: put to %s/%d: undecodable reply: %v", vn.Node, vn.Partition, err)
	}
	return merged, nil
}

// reap asks vnode vn to delete key if it still holds exactly tomb.
func (p peers) reap(ctx context.Context, vn ring.VNode, key []byte, tomb *object.Object) (bool, error) {
	if vn.Node == p.n.cfg.NodeID {
		return p.n.local.reap(vn.Partition, key, tomb)
	}
	addr, err := p.addr(vn.Node)
	if err != nil {
		return false, err
	}
	raw, err := object.Encode(tomb)
	if err != nil {
		return false, err
	}
	body, err := encodeMsg(&reapReq{Partition: vn.Partition, Key: key, Tombstone: raw})
	if err != nil {
		return false, err
	}
	out, err := p.n.tr.Call(ctx, addr, methodReap, body)
	if err != nil {
		return false, fmt.Errorf("node: reap on %s/%d: %w", vn.Node, vn.Partition, err)
	}
	var resp reapResp
	if err := decodeMsg(out, &resp); err != nil {
		return false, fmt.Errorf("node: reap on %s/%d: reply: %w", vn.Node, vn.Partition, err)
	}
	return resp.Reaped, nil
}

// forwardPut sends a write to node to coordinate. It returns the merged
// object when the request asked for it.
func (p peers) forwardPut(ctx context.Context, node string, req *coordPutReq) (*object.Object, error) {
	addr, err := p.addr(node)
	if err != nil {
		return nil, err
	}
	body, err := encodeMsg(req)
	if err != nil {
		return nil, err
	}
	out, err := p.n.tr.Call(ctx, addr, methodCoordPut, body)
	if err != nil {
		return nil, fmt.Errorf("node: forward put to %s: %w", node, err)
	}
	var resp coordPutResp
	if err := decodeMsg(out, &resp); err != nil {
		return nil, fmt.Errorf("node: forward put to %s: reply: %w", node, err)
	}
	if resp.Code != codeOK {
		return nil, &remoteErr{code: resp.Code, msg: resp.Msg}
	}
	if len(resp.Object) == 0 {
		return nil, nil
	}
	obj, err := object.Decode(resp.Object)
	if err != nil {
		return nil, fmt.Errorf("node: forward put to %s: undecodable reply: %v", node, err)
	}
	return obj, nil
}

// namesPage is how many names one kv.names answer carries.
const namesPage = 4096

// names pages through node's names under prefix.
func (p peers) names(ctx context.Context, node string, prefix []byte, what uint8) ([]string, error) {
	addr, err := p.addr(node)
	if err != nil {
		return nil, err
	}
	var out []string
	req := namesReq{Prefix: prefix, What: what, Limit: namesPage}
	for {
		body, err := encodeMsg(&req)
		if err != nil {
			return nil, err
		}
		raw, err := p.n.tr.Call(ctx, addr, methodNames, body)
		if err != nil {
			return nil, fmt.Errorf("node: list on %s: %w", node, err)
		}
		var resp namesResp
		if err := decodeMsg(raw, &resp); err != nil {
			return nil, fmt.Errorf("node: list on %s: reply: %w", node, err)
		}
		out = append(out, resp.Names...)
		if !resp.More || len(resp.Names) == 0 {
			return out, nil
		}
		req.After = resp.Names[len(resp.Names)-1]
	}
}
