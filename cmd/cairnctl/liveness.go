package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/meta/adminapi"
)

// liveness is what the admin API tells of the members besides
// /admin/cluster: which one leads the Raft group (GET /admin/raft), and
// which did not answer the node asked (the unreachable members of GET
// /admin/transfers, for which that node has just called every member).
// A part the node could not tell is left empty, with a note saying why.
type liveness struct {
	leader string          // "" when unknown or there is none
	down   map[string]bool // nil when availability is unknown
	notes  []string
}

// askLiveness asks the node who leads and who does not answer. It does
// not fail: what cannot be learnt becomes a note.
func askLiveness(ctx context.Context, a *app) liveness {
	l := askAvailability(ctx, a)
	var rs meta.RaftStatus
	switch _, err := a.do(ctx, http.MethodGet, "/admin/raft", nil, &rs); {
	case err != nil:
		l.notes = append(l.notes, "Raft leader unknown: "+err.Error())
	case rs.Leader == "":
		l.notes = append(l.notes, "the Raft group has no leader (no quorum?): ring changes cannot be committed")
	default:
		l.leader = rs.Leader
	}
	return l
}

// askAvailability is askLiveness without the leader.
func askAvailability(ctx context.Context, a *app) liveness {
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

// warnNoAnswer names the members that did not answer.
func warnNoAnswer(a *app, l liveness, members []meta.Member) error {
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
