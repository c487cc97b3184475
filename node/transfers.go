package node

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cairnkv/cairn/handoff"
)

// TransferReport is every member's outgoing transfers, as ListTransfers
// gathers them.
type TransferReport struct {
	// List holds the transfers (hinted and ownership handoff), sorted by
	// id.
	List []handoff.Status
	// Unreachable names the members that did not answer, sorted: the list
	// lacks the transfers they send.
	Unreachable []string
	// Behind names the members that answered from a ring older than
	// another member's or than the newest ring the cluster has committed,
	// sorted: a member lists what it holds against its own ring, so the
	// list may lack its copies of partitions moved since.
	Behind []string
	// RingUnconfirmed says why the newest committed ring could not be
	// confirmed with the metadata plane ("" when it was, or when the
	// Metadata cannot be asked): Behind then compares the members with
	// each other only, and misses members that all lag alike.
	RingUnconfirmed string
}

// RingConfirmer is a Metadata that can confirm the newest ring the cluster
// has committed: the Raft metadata plane, with a read barrier.
// ListTransfers uses it to tell a member whose ring lags even when every
// member lags alike (cut off from the group together).
type RingConfirmer interface {
	// CommittedRingEpoch returns the epoch of the newest committed ring (0:
	// no ring yet), or an error when the cluster cannot confirm it.
	CommittedRingEpoch(ctx context.Context) (uint64, error)
}

// ListTransfers asks every member for the transfers it sends.
func (n *Node) ListTransfers(ctx context.Context) (TransferReport, error) {
	if err := n.admit(); err != nil {
		return TransferReport{}, err
	}
	defer n.bg.Done()
	confirmed := n.confirmRing(ctx)
	list := n.LocalTransfers()
	epochs := map[string]uint64{n.cfg.NodeID: n.ringEpoch()}
	var unreachable []string
	if rt := n.routing.Load(); rt != nil {
		for _, m := range slices.Sorted(maps.Keys(rt.addrs)) {
			if m == n.cfg.NodeID {
				continue
			}
			resp, err := call[transfersResp](ctx, peers{n}, m, methodTransfers, "transfers of "+m, &transfersReq{})
			var theirs []handoff.Status
			if err == nil {
				err = json.Unmarshal(resp.List, &theirs)
			}
			if err != nil {
				n.log.Debug("transfers: member did not answer", "member", m, "err", err)
				unreachable = append(unreachable, m)
				continue
			}
			list = append(list, theirs...)
			epochs[m] = resp.Epoch
		}
	}
	slices.SortFunc(list, func(a, b handoff.Status) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	newest := slices.Max(slices.Collect(maps.Values(epochs)))
	rep := TransferReport{List: list, Unreachable: unreachable}
	if c := <-confirmed; c.err != nil {
		rep.RingUnconfirmed = c.err.Error()
	} else {
		newest = max(newest, c.epoch)
	}
	var behind []string
	for m, e := range epochs {
		if e > 0 && e < newest {
			behind = append(behind, m)
		}
	}
	slices.Sort(behind)
	rep.Behind = behind
	return rep, nil
}

// confirmedRing is what confirmRing learnt.
type confirmedRing struct {
	epoch uint64
	err   error
}

// confirmRing asks the metadata plane, while the members are asked, for
// the newest committed ring, bounded by the request timeout so that a
// node cut off from the group still lists what the members answer. A
// Metadata that cannot be asked (a node alone) confirms nothing and
// reports no error.
func (n *Node) confirmRing(ctx context.Context) <-chan confirmedRing {
	out := make(chan confirmedRing, 1)
	rc, ok := n.md.(RingConfirmer)
	if !ok {
		out <- confirmedRing{}
		return out
	}
	go func() {
		ctx, cancel := n.requestContext(ctx)
		defer cancel()
		e, err := rc.CommittedRingEpoch(ctx)
		if err != nil {
			err = fmt.Errorf("the metadata plane did not confirm the newest ring: %w", err)
		}
		out <- confirmedRing{epoch: e, err: err}
	}()
	return out
}

// ringEpoch is the epoch of the ring this node routes by (0: none yet).
func (n *Node) ringEpoch() uint64 {
	if rt := n.routing.Load(); rt != nil {
		return rt.ring.Epoch()
	}
	return 0
}

// ControlTransfer pauses, resumes or cancels a transfer on the node that
// sends it. Errors: handoff.ErrNoTransfer, handoff.ErrBadAction.
func (n *Node) ControlTransfer(ctx context.Context, id handoff.ID, a handoff.Action) error {
	if err := n.admit(); err != nil {
		return err
	}
	defer n.bg.Done()
	if id.From == n.cfg.NodeID {
		return n.controlLocal(id, a)
	}
	if _, ok := n.Topology().Addrs[id.From]; !ok {
		return fmt.Errorf("%w: %s is not a member", handoff.ErrNoTransfer, id.From)
	}
	resp, err := call[transfersResp](ctx, peers{n}, id.From, methodTransfers, "transfer control on "+id.From,
		&transfersReq{ID: id.String(), Action: string(a)})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if sentinel, ok := transferErrs[resp.Code]; ok {
		return fmt.Errorf("%w (on %s): %s", sentinel, id.From, resp.Msg)
	}
	return nil
}
