package group

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node/rpc"
	"github.com/hashicorp/raft"
)

// RPC methods the group serves (see Handle).
const (
	methodApply      = "meta.apply"
	methodReadIndex  = "meta.readindex"
	methodStrongRead = "meta.strongread"
	methodJoin       = "meta.join"
	methodRemovePeer = "meta.removepeer"
)

// apply commits a command through the leader, wherever it is, and waits
// until this node has applied it too, so that a read here after a write
// here sees it. Errors from the command come back as the sentinels they
// wrap; a lost quorum as meta.ErrNoQuorum.
func (g *Group) apply(ctx context.Context, op meta.Op, body any) (*meta.Result, error) {
	ctx, cancel := g.bound(ctx)
	defer cancel()
	res, err := g.commit(ctx, op, body)
	if err != nil {
		return res, err
	}
	if err := g.fsm.WaitApplied(ctx, res.Index); err != nil {
		return res, fmt.Errorf("%w: committed at index %d but not yet applied here: %w", meta.ErrNoQuorum, res.Index, err)
	}
	return res, nil
}

// commit commits a command through the leader, wherever it is, and
// returns the leader's result without waiting for this node to apply it:
// for writes whose result carries all the caller needs and whose later
// reads go through a barrier anyway (the strong keyspace's). A follower
// learns that an entry is committed only with the leader's next append,
// which under load was most of a forwarded write's latency.
func (g *Group) commit(ctx context.Context, op meta.Op, body any) (*meta.Result, error) {
	data, err := meta.Encode(op, body)
	if err != nil {
		return nil, err
	}
	ctx, cancel := g.bound(ctx)
	defer cancel()
	res, err := g.onLeader(ctx, methodApply, data, func(ctx context.Context) *meta.Result {
		return g.applyLocal(ctx, data)
	})
	if err != nil {
		return nil, err
	}
	if err := res.Err(); err != nil {
		return res, err
	}
	return res, nil
}

// bound gives ctx the group's apply timeout unless it has an earlier
// deadline.
func (g *Group) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.cfg.ApplyTimeout)
}

// applyLocal commits data on this node, which must lead.
func (g *Group) applyLocal(ctx context.Context, data []byte) *meta.Result {
	if g.raft.State() != raft.Leader {
		return meta.Fail(meta.ErrNotLeader)
	}
	f := g.raft.Apply(data, remaining(ctx))
	if err := waitFuture(ctx, f); err != nil {
		return meta.Fail(raftError(err))
	}
	res, ok := f.Response().(*meta.Result)
	if !ok {
		return meta.Fail(fmt.Errorf("group: FSM answered %T", f.Response()))
	}
	return res
}

// onLeader runs local on this node if it leads, or sends method and body
// to the leader. It retries, until ctx is done, only where nothing can
// have been applied: no leader known, a leader that cannot be dialled, or
// an answer that the callee does not lead.
func (g *Group) onLeader(ctx context.Context, method string, body []byte, local func(context.Context) *meta.Result) (*meta.Result, error) {
	var last error = meta.ErrNoQuorum
	for {
		wake := g.leaderChanged()
		res, err := g.tryLeader(ctx, method, body, local)
		switch {
		case err == nil && res.Code != meta.CodeNotLeader:
			return res, nil
		case err == nil:
			last = res.Err()
		case errors.Is(err, errRetry):
			last = err
		default:
			return nil, err
		}
		// A known leader that cannot be reached yet gets a short pause,
		// not a busy loop; a leader change ends the pause early.
		pause := g.cfg.Clock.NewTimer(g.cfg.CommitTimeout + g.cfg.HeartbeatTimeout/4)
		select {
		case <-ctx.Done():
			pause.Stop()
			return nil, fmt.Errorf("%w: %w (last: %w)", meta.ErrNoQuorum, ctx.Err(), last)
		case <-g.ctx.Done():
			pause.Stop()
			return nil, fmt.Errorf("%w: %w", meta.ErrNoQuorum, errClosed)
		case <-wake:
		case <-pause.C():
		}
		pause.Stop()
	}
}

// errRetry marks a failure after which nothing can have been applied.
var errRetry = errors.New("group: no leader reachable")

func (g *Group) tryLeader(ctx context.Context, method string, body []byte, local func(context.Context) *meta.Result) (*meta.Result, error) {
	if g.raft.State() == raft.Leader {
		return local(ctx), nil
	}
	_, id := g.raft.LeaderWithID()
	if id == "" {
		return nil, fmt.Errorf("%w: no leader elected", errRetry)
	}
	m, ok := g.fsm.Member(string(id))
	if !ok || m.RPCAddr == "" {
		return nil, fmt.Errorf("%w: leader %s has no known RPC address yet", errRetry, id)
	}
	out, err := g.client.Call(ctx, m.RPCAddr, method, body)
	if err != nil {
		if errors.Is(err, rpc.ErrDial) {
			return nil, fmt.Errorf("%w: leader %s at %s: %w", errRetry, id, m.RPCAddr, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", meta.ErrNoQuorum, ctx.Err())
		}
		return nil, fmt.Errorf("%w: leader %s at %s did not answer; the outcome is unknown: %w", meta.ErrNoQuorum, id, m.RPCAddr, err)
	}
	var res meta.Result
	if err := decodeMsg(out, &res); err != nil {
		return nil, fmt.Errorf("group: leader's answer: %w", err)
	}
	return &res, nil
}

// waitFuture waits for f, or for ctx.
func waitFuture(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %w; the outcome is unknown", meta.ErrNoQuorum, ctx.Err())
	}
}

// raftError maps Raft's errors onto the package's.
func raftError(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return meta.ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w: leadership lost; the outcome is unknown: %w", meta.ErrNoQuorum, err)
	case errors.Is(err, raft.ErrEnqueueTimeout), errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("%w: %w", meta.ErrNoQuorum, err)
	}
	return err
}

// remaining is the time left before ctx's deadline.
func remaining(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 0
}
