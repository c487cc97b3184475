package group

import (
	"context"
	"fmt"
	"strconv"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
	"github.com/cairnkv/cairn/node"
	"github.com/hashicorp/raft"
)

var (
	_ adminapi.Cluster   = (*Group)(nil)
	_ node.RingConfirmer = (*Group)(nil)
)

// RaftStatus implements adminapi.Cluster.
func (g *Group) RaftStatus(_ context.Context) (meta.RaftStatus, error) {
	addr, leader := g.raft.LeaderWithID()
	st := meta.RaftStatus{
		ID:           g.cfg.NodeID,
		State:        g.raft.State().String(),
		Leader:       string(leader),
		LeaderAddr:   string(addr),
		Term:         g.raft.CurrentTerm(),
		LastIndex:    g.raft.LastIndex(),
		CommitIndex:  g.raft.CommitIndex(),
		AppliedIndex: g.fsm.AppliedIndex(),
		TargetVoters: g.cfg.Voters,
	}
	f := g.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return st, fmt.Errorf("group: raft configuration: %w", err)
	}
	for _, s := range f.Configuration().Servers {
		st.Servers = append(st.Servers, meta.RaftServer{
			ID: string(s.ID), Address: string(s.Address), Suffrage: s.Suffrage.String(),
			Leader: s.ID == leader, Healthy: g.pilot.healthy(string(s.ID)),
		})
		if s.Suffrage == raft.Voter {
			st.Voters++
		}
	}
	return st, nil
}

// Members implements adminapi.Cluster.
func (g *Group) Members(context.Context) ([]meta.Member, error) { return g.fsm.Members(), nil }

// Ring implements adminapi.Cluster.
func (g *Group) Ring(context.Context) (*meta.RingState, error) {
	r := g.fsm.Ring()
	if r == nil {
		return nil, meta.ErrNoRing
	}
	return r, nil
}

// CommittedRingEpoch implements node.RingConfirmer: a read barrier (this
// node's state reaches the leader's commit index), then the epoch of the
// ring it holds (0: no ring yet). A node cut off from the leader gets
// meta.ErrNoQuorum once ctx ends.
func (g *Group) CommittedRingEpoch(ctx context.Context) (uint64, error) {
	if err := g.Barrier(ctx); err != nil {
		return 0, err
	}
	if r := g.fsm.Ring(); r != nil {
		return r.Epoch, nil
	}
	return 0, nil
}

// Staged implements adminapi.Cluster.
func (g *Group) Staged(context.Context) ([]meta.Change, error) { return g.fsm.Staged(), nil }

// Stage implements adminapi.Cluster.
func (g *Group) Stage(ctx context.Context, c meta.Change) error {
	_, err := g.apply(ctx, meta.OpStage, c)
	return err
}

// Plan implements adminapi.Cluster, after a barrier so that it plans
// against the latest ring and staged changes.
func (g *Group) Plan(ctx context.Context) (*meta.Plan, error) {
	if err := g.Barrier(ctx); err != nil {
		return nil, err
	}
	return g.fsm.Plan()
}

// Commit implements adminapi.Cluster: it plans, then commits at the epoch
// planned against, so a concurrent commit makes this one fail with
// meta.ErrStaleEpoch rather than apply a plan nobody saw.
func (g *Group) Commit(ctx context.Context) (*meta.Plan, error) {
	p, err := g.Plan(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := g.apply(ctx, meta.OpCommit, meta.CommitCmd{Epoch: p.Epoch}); err != nil {
		return nil, err
	}
	g.log.Info("ring change committed", "epoch", strconv.FormatUint(p.Epoch+1, 10), "changes", len(p.Changes))
	return p, nil
}

// Clear implements adminapi.Cluster.
func (g *Group) Clear(ctx context.Context) error {
	_, err := g.apply(ctx, meta.OpClear, nil)
	return err
}

// Types implements adminapi.Cluster.
func (g *Group) Types(context.Context) ([]meta.BucketType, error) { return g.fsm.Types(), nil }

// Type implements adminapi.Cluster.
func (g *Group) Type(_ context.Context, name string) (meta.BucketType, error) {
	return g.fsm.Type(name)
}

// CreateType implements adminapi.Cluster.
func (g *Group) CreateType(ctx context.Context, name string, props []byte) (meta.BucketType, error) {
	return g.typeCmd(ctx, meta.OpCreateType, name, props)
}

// ActivateType implements adminapi.Cluster.
func (g *Group) ActivateType(ctx context.Context, name string) (meta.BucketType, error) {
	return g.typeCmd(ctx, meta.OpActivateType, name, nil)
}

// UpdateType implements adminapi.Cluster.
func (g *Group) UpdateType(ctx context.Context, name string, props []byte) (meta.BucketType, error) {
	return g.typeCmd(ctx, meta.OpUpdateType, name, props)
}

func (g *Group) typeCmd(ctx context.Context, op meta.Op, name string, props []byte) (meta.BucketType, error) {
	res, err := g.apply(ctx, op, meta.TypeCmd{Name: name, Props: props})
	if err != nil {
		return meta.BucketType{}, err
	}
	if res.Type != nil {
		return *res.Type, nil
	}
	return g.fsm.Type(name)
}

// CompleteTransfer commits that partition p's data has arrived at its
// next owner: ownership passes and the ring epoch moves on. A transfer
// that is no longer pending gives meta.ErrNoTransfer.
func (g *Group) CompleteTransfer(ctx context.Context, p int, from, to string) error {
	_, err := g.apply(ctx, meta.OpCompleteTransfer, meta.TransferCmd{Partition: p, From: from, To: to})
	return err
}
