package adminapi

import (
	"encoding/json"
	"sort"

	"github.com/cairnkv/cairn/meta"
)

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error string `json:"error"`
}

// RemovePeerRequest is the body of POST /admin/raft/remove-peer.
type RemovePeerRequest struct {
	ID string `json:"id"`
}

// TypeRequest is the body of PUT and PATCH /admin/types/{name}, as Riak's
// bucket props: Props is a JSON object of bucket properties (node.Props
// names), applied on top of the defaults (create) or the type's current
// properties (update).
type TypeRequest struct {
	Props json.RawMessage `json:"props,omitempty"`
}

// ClusterStatus is GET /admin/cluster: what `riak-admin cluster status`
// shows.
type ClusterStatus struct {
	// Members are sorted by id.
	Members []meta.Member `json:"members"`
	// Ring is nil until the ring is initialised.
	Ring   *RingSummary  `json:"ring"`
	Staged []meta.Change `json:"staged"`
	// Leader is the member id of the Raft leader as the answering node
	// knows it: "" when it knows of none (no leader elected, no quorum).
	Leader string `json:"leader"`
	// Down are the ids of the members the answering node's liveness
	// source reports down, sorted; empty, and meaningless, when Liveness
	// is LivenessUnknown.
	Down []string `json:"down"`
	// Liveness names where Down comes from: LivenessGossip, or
	// LivenessUnknown when the node has no liveness source. A node from
	// before Leader, Down and Liveness sends none of them: a client
	// decodes Liveness "" and must learn them some other way.
	Liveness string `json:"liveness"`
}

// The values of ClusterStatus.Liveness.
const (
	// LivenessGossip: Down is what gossip reports, dead or left members.
	LivenessGossip = "gossip"
	// LivenessUnknown: the node has no liveness source; Down is empty.
	LivenessUnknown = "unknown"
)

// RingSummary is a ring reduced to what an operator reads: who owns how
// much, now and once the pending transfers have completed.
type RingSummary struct {
	Epoch   uint64 `json:"epoch"`
	Size    int    `json:"size"`
	TargetN int    `json:"target_n_val"`
	// Owners has one entry per node that owns a partition, is to receive
	// one, or is a member; sorted by node id.
	Owners []OwnerSummary `json:"owners"`
	// Pending counts the partitions whose transfer has not completed.
	Pending int `json:"pending_transfers"`
}

// OwnerSummary is one node's share of the ring. Percentages are of the
// ring size, unrounded.
type OwnerSummary struct {
	Node       string  `json:"node"`
	Partitions int     `json:"partitions"`
	Pct        float64 `json:"pct"`
	// Next and NextPct are its share once every pending transfer has
	// completed.
	Next    int     `json:"next_partitions"`
	NextPct float64 `json:"next_pct"`
}

// SummarizeRing counts each node's partitions in r, now and after the
// pending transfers. Members that own nothing (a joining node) appear
// with zero counts; members may be nil.
func SummarizeRing(r *meta.RingState, members []meta.Member) *RingSummary {
	if r == nil {
		return nil
	}
	now := make(map[string]int)
	next := make(map[string]int)
	for _, o := range r.Owners {
		now[o]++
		next[o]++
	}
	for _, t := range r.Pending {
		next[t.From]--
		next[t.To]++
	}
	nodes := make(map[string]bool, len(now)+len(members))
	for n := range next {
		nodes[n] = true
	}
	for _, m := range members {
		nodes[m.ID] = true
	}
	s := &RingSummary{Epoch: r.Epoch, Size: r.Size, TargetN: r.TargetN, Pending: len(r.Pending),
		Owners: make([]OwnerSummary, 0, len(nodes))}
	for n := range nodes {
		s.Owners = append(s.Owners, OwnerSummary{Node: n,
			Partitions: now[n], Pct: share(now[n], r.Size),
			Next: next[n], NextPct: share(next[n], r.Size)})
	}
	sort.Slice(s.Owners, func(i, j int) bool { return s.Owners[i].Node < s.Owners[j].Node })
	return s
}

func share(n, size int) float64 {
	if size == 0 {
		return 0
	}
	return 100 * float64(n) / float64(size)
}
