package group

import (
	"context"
	"fmt"

	"github.com/cairnkv/cairn/meta"
	"github.com/hashicorp/raft"
)

// Barrier returns once this node's state holds every write acknowledged
// before the call: after it, a read of the local FSM is linearizable. It
// is Raft's read-index protocol: the leader notes its read index,
// confirms with a quorum that it still leads, and the reader waits until
// it has applied up to that index. No log entry is written.
//
// The read index is the last command the leader's FSM has applied, not
// its commit index: Raft acknowledges a write only once the leader's FSM
// has applied it, and a new leader serves reads only after a barrier has
// applied every earlier entry, so that index covers every acknowledged
// write. The commit index could name a no-op or barrier entry that never
// reaches an FSM, which a follower would wait for in vain.
func (g *Group) Barrier(ctx context.Context) error {
	if g.cfg.UnsafeLocalReads {
		return nil
	}
	ctx, cancel := g.bound(ctx)
	defer cancel()
	res, err := g.onLeader(ctx, methodReadIndex, nil, g.readIndexLocal)
	if err != nil {
		return err
	}
	if err := res.Err(); err != nil {
		return err
	}
	if err := g.fsm.WaitApplied(ctx, res.Index); err != nil {
		return fmt.Errorf("%w: waiting to apply index %d: %w", meta.ErrNoQuorum, res.Index, err)
	}
	return nil
}

// readIndexLocal is the leader's half of Barrier.
func (g *Group) readIndexLocal(ctx context.Context) *meta.Result {
	var term uint64
	for {
		if g.raft.State() != raft.Leader {
			return meta.Fail(meta.ErrNotLeader)
		}
		// Until the leader has committed an entry of its own term, its
		// commit index may miss entries an earlier leader committed.
		if term = g.term(); g.readyTerm.Load() == term {
			break
		}
		wake := g.leaderChanged()
		if g.readyTerm.Load() == g.term() {
			continue
		}
		select {
		case <-ctx.Done():
			return meta.Fail(fmt.Errorf("%w: new leader not ready for reads: %w", meta.ErrNoQuorum, ctx.Err()))
		case <-wake:
		}
	}
	index := g.fsm.AppliedIndex()
	if err := waitFuture(ctx, g.raft.VerifyLeader()); err != nil {
		return meta.Fail(raftError(err))
	}
	// VerifyLeader confirms leadership in whatever term the node holds
	// when Raft's loop takes the request. Had the node lost and regained
	// leadership since it noted the index, another leader may have
	// committed entries in between, and served reads of them, that the
	// index misses and that this node, new in its term and not yet ready
	// for reads, may not have applied: the read would go back in time.
	if g.term() != term {
		return meta.Fail(fmt.Errorf("%w: leadership changed during the read", meta.ErrNotLeader))
	}
	return &meta.Result{Index: index}
}
