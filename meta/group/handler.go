package group

import (
	"context"
	"fmt"

	"github.com/cairnkv/cairn/meta"
	"github.com/hashicorp/raft"
	"github.com/vmihailenco/msgpack/v5"
)

// joinRequest asks the leader to add a node to the group.
type joinRequest struct {
	Member meta.Member `msgpack:"m"`
}

// removeRequest asks the leader to remove a server.
type removeRequest struct {
	ID string `msgpack:"id"`
}

// Handles reports whether method is one of the group's RPC methods.
func Handles(method string) bool {
	switch method {
	case methodApply, methodReadIndex, methodStrongRead, methodJoin, methodRemovePeer:
		return true
	}
	return false
}

// Handle serves the group's RPC methods: commands, read-index requests
// and strong reads forwarded by followers, and join and remove-peer requests. A
// member that does not lead answers CodeNotLeader, except for a join,
// which it forwards so a new node may name any member.
func (g *Group) Handle(ctx context.Context, method string, body []byte) ([]byte, error) {
	var res *meta.Result
	switch method {
	case methodApply:
		if _, err := meta.DecodeCommand(body); err != nil {
			res = meta.Fail(err)
			break
		}
		res = g.applyLocal(ctx, body)
	case methodReadIndex:
		res = g.readIndexLocal(ctx)
	case methodStrongRead:
		if len(body) == 0 {
			res = meta.Fail(fmt.Errorf("%w: strong read of an empty key", meta.ErrBadCommand))
			break
		}
		res = g.strongReadLocal(ctx, body)
	case methodJoin:
		var req joinRequest
		if err := decodeMsg(body, &req); err != nil || req.Member.ID == "" || req.Member.RaftAddr == "" {
			res = meta.Fail(fmt.Errorf("%w: malformed join request", meta.ErrBadCommand))
			break
		}
		var err error
		res, err = g.onLeader(ctx, methodJoin, body, func(ctx context.Context) *meta.Result {
			return g.addMember(ctx, req.Member)
		})
		if err != nil {
			res = meta.Fail(err)
		}
	case methodRemovePeer:
		var req removeRequest
		if err := decodeMsg(body, &req); err != nil || req.ID == "" {
			res = meta.Fail(fmt.Errorf("%w: malformed remove-peer request", meta.ErrBadCommand))
			break
		}
		res = g.removeLocal(ctx, req.ID)
	default:
		return nil, fmt.Errorf("group: unknown method %q", method)
	}
	return msgpack.Marshal(res)
}

func (g *Group) callJoin(ctx context.Context, addr string, req joinRequest) error {
	body, err := msgpack.Marshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := g.bound(ctx)
	defer cancel()
	out, err := g.client.Call(ctx, addr, methodJoin, body)
	if err != nil {
		return err
	}
	var res meta.Result
	if err := decodeMsg(out, &res); err != nil {
		return fmt.Errorf("group: join answer: %w", err)
	}
	return res.Err()
}

// addMember is the leader's half of a join: the node becomes a non-voter
// (the reconciler promotes it later) and a joining member of the FSM.
func (g *Group) addMember(ctx context.Context, m meta.Member) *meta.Result {
	if g.raft.State() != raft.Leader {
		return meta.Fail(meta.ErrNotLeader)
	}
	known := false
	if f := g.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if s.ID == raft.ServerID(m.ID) && s.Address == raft.ServerAddress(m.RaftAddr) {
				known = true
			}
		}
	}
	if !known {
		f := g.raft.AddNonvoter(raft.ServerID(m.ID), raft.ServerAddress(m.RaftAddr), 0, remaining(ctx))
		if err := waitFuture(ctx, f); err != nil {
			return meta.Fail(raftError(err))
		}
		g.pilot.seen(m.ID)
		g.log.Info("added non-voter", "id", m.ID, "raft", m.RaftAddr)
	}
	data, err := meta.Encode(meta.OpRegister, meta.RegisterCmd{Member: m})
	if err != nil {
		return meta.Fail(err)
	}
	return g.applyLocal(ctx, data)
}

// removeLocal is the leader's half of RemovePeer.
func (g *Group) removeLocal(ctx context.Context, id string) *meta.Result {
	if g.raft.State() != raft.Leader {
		return meta.Fail(meta.ErrNotLeader)
	}
	f := g.raft.RemoveServer(raft.ServerID(id), 0, remaining(ctx))
	if err := waitFuture(ctx, f); err != nil {
		return meta.Fail(raftError(err))
	}
	g.log.Info("removed raft peer", "id", id)
	return &meta.Result{Index: f.Index()}
}

// RemovePeer removes a server from the Raft configuration, through the
// leader.
func (g *Group) RemovePeer(ctx context.Context, id string) error {
	body, err := msgpack.Marshal(removeRequest{ID: id})
	if err != nil {
		return err
	}
	ctx, cancel := g.bound(ctx)
	defer cancel()
	res, err := g.onLeader(ctx, methodRemovePeer, body, func(ctx context.Context) *meta.Result {
		return g.removeLocal(ctx, id)
	})
	if err != nil {
		return err
	}
	return res.Err()
}
