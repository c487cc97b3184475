package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
)

// liveness is what cluster status and member-status show of the members
// besides /admin/cluster's members and ring: which one leads the Raft
// group, and which are down. A node reports both in its GET /admin/cluster
// answer, down as its gossip sees it. A node older than that reports
// neither: cairnctl then asks it as it used to, the leader from GET
// /admin/raft and who is down from the unreachable members of GET
// /admin/transfers (those that did not answer the node's call, a weaker
// signal: a slow member can make later ones look down). A part that
// cannot be told is left empty, with a note saying why.
type liveness struct {
	leader string          // "" when unknown or there is none
	down   map[string]bool // nil when availability is unknown
	// gossip is set when down is gossip's verdict rather than who did
	// not answer an older node.
	gossip bool
	notes  []string
}

// askLiveness learns who leads and who is down from st, the node's answer
// to GET /admin/cluster, asking an older node that does not say in two
// more requests. It does not fail: what cannot be learnt becomes a note.
func askLiveness(ctx context.Context, a *app, st adminapi.ClusterStatus) liveness {
	if st.Liveness != "" {
		return reportedAvailability(st).withLeader(st.Leader)
	}
	l := probeAvailability(ctx, a)
	var rs meta.RaftStatus
	if _, err := a.do(ctx, http.MethodGet, "/admin/raft", nil, &rs); err != nil {
		l.notes = append(l.notes, "Raft leader unknown: "+err.Error())
		return l
	}
	return l.withLeader(rs.Leader)
}

// askAvailability is askLiveness without the leader.
func askAvailability(ctx context.Context, a *app, st adminapi.ClusterStatus) liveness {
	if st.Liveness != "" {
		return reportedAvailability(st)
	}
	return probeAvailability(ctx, a)
}

// reportedAvailability is who is down as a node that reports it says.
func reportedAvailability(st adminapi.ClusterStatus) liveness {
	var l liveness
	switch st.Liveness {
	case adminapi.LivenessGossip:
		l.gossip = true
		l.down = make(map[string]bool, len(st.Down))
		for _, id := range st.Down {
			l.down[id] = true
		}
	case adminapi.LivenessUnknown:
		l.notes = append(l.notes, "AVAIL unknown: the node does not track its members' liveness (it runs without gossip)")
	default:
		l.notes = append(l.notes, fmt.Sprintf("AVAIL unknown: the node reports liveness %q, which this cairnctl does not know", st.Liveness))
	}
	return l
}

// probeAvailability asks an older node who did not answer its call.
func probeAvailability(ctx context.Context, a *app) liveness {
	var l liveness
	var tl adminapi.TransferList
	if _, err := a.do(ctx, http.MethodGet, "/admin/transfers", nil, &tl); err != nil {
		l.notes = append(l.notes, "AVAIL unknown: "+err.Error())
		return l
	}
	l.down = make(map[string]bool, len(tl.Unreachable))
	for _, id := range tl.Unreachable {
		l.down[id] = true
	}
	return l
}

// withLeader is l with the Raft leader id, or a note that there is none.
func (l liveness) withLeader(id string) liveness {
	if id == "" {
		l.notes = append(l.notes, "the Raft group has no leader (no quorum?): ring changes cannot be committed")
		return l
	}
	l.leader = id
	return l
}

// avail is a member's AVAIL cell: up, down, or ? when unknown.
func (l liveness) avail(id string) string {
	switch {
	case l.down == nil:
		return "?"
	case l.down[id]:
		return "down"
	}
	return "up"
}

// status is a member's STATUS, as riak-admin member-status shows it: its
// state, or down when gossip reports it down whatever its state.
func (l liveness) status(m meta.Member) meta.MemberState {
	if l.gossip && l.down[m.ID] {
		return meta.Down
	}
	return m.State
}

// ownerShares indexes a ring summary's owners by node; nil for no ring.
func ownerShares(r *adminapi.RingSummary) map[string]adminapi.OwnerSummary {
	owners := make(map[string]adminapi.OwnerSummary)
	if r != nil {
		for _, o := range r.Owners {
			owners[o.Node] = o
		}
	}
	return owners
}

// pendingShare is riak-admin's "pending" column: a node's share once the
// pending transfers are done, shown only where it differs from now.
func pendingShare(o adminapi.OwnerSummary) string {
	if o.Next == o.Partitions {
		return "--"
	}
	return pct(o.NextPct)
}

// warnNoAnswer names the members that did not answer an older node; with
// gossip's verdict, member-status shows them down instead.
func warnNoAnswer(a *app, l liveness, members []meta.Member) error {
	if l.gossip {
		return nil
	}
	var ids []string
	for _, m := range members {
		if l.down[m.ID] {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(a.stdout, "WARNING: no answer from %s (see 'cairnctl cluster status')\n", strings.Join(ids, ", "))
	return err
}
