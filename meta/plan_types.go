package meta

// Plan is what committing the staged changes would do: deterministic for
// a given State (same staged changes and ring, same plan).
type Plan struct {
	// Epoch is the ring epoch the plan was computed against; a commit
	// applies only while the ring is still at it.
	Epoch   uint64   `json:"epoch"`
	Changes []Change `json:"changes"`
	// Nodes lists every member the plan touches or that owns partitions,
	// sorted by id.
	Nodes []NodePlan `json:"nodes"`
	// Transfers counts partitions to hand off between each pair of nodes,
	// sorted by (From, To). Force changes move ownership without a
	// transfer and do not appear here.
	Transfers []PairTransfers `json:"transfers"`
	// Next is the owner table once every transfer has completed.
	Next []string `json:"next_owners"`
	// Warnings: preference lists whose replicas cannot all be on distinct
	// nodes, members marked down, force changes that lose replicas.
	Warnings []string `json:"warnings,omitempty"`
}

// NodePlan is one member's view of a plan.
type NodePlan struct {
	ID string `json:"id"`
	// State is the member's state after the commit.
	State MemberState `json:"state"`
	// RingPct is the share of partitions it owns now, NextPct once every
	// transfer completed; PendingPct the share it is to receive or give
	// away (Next differs from now).
	RingPct    float64 `json:"ring_pct"`
	NextPct    float64 `json:"next_pct"`
	PendingPct float64 `json:"pending_pct"`
	Partitions int     `json:"partitions"`
	Next       int     `json:"next_partitions"`
}

// PairTransfers counts the partitions moving from one node to another.
type PairTransfers struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Partitions int    `json:"partitions"`
}

// RaftStatus describes the Raft group, as GET /admin/raft reports it.
type RaftStatus struct {
	ID           string       `json:"id"`
	State        string       `json:"state"` // Leader, Follower, Candidate, Shutdown
	Leader       string       `json:"leader"`
	LeaderAddr   string       `json:"leader_addr"`
	Term         uint64       `json:"term"`
	LastIndex    uint64       `json:"last_index"`
	CommitIndex  uint64       `json:"commit_index"`
	AppliedIndex uint64       `json:"applied_index"`
	Servers      []RaftServer `json:"servers"`
	Voters       int          `json:"voters"`
	TargetVoters int          `json:"target_voters"`
}

// RaftServer is one server of the Raft configuration.
type RaftServer struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"` // Voter, Nonvoter
	Leader   bool   `json:"leader"`
	// Healthy is the leader's view: false when heartbeats to it are
	// failing. Only meaningful on the leader's answer.
	Healthy bool `json:"healthy"`
}
