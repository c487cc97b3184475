package antientropy

import "time"

// Status is what an operator sees of one node's anti-entropy: whether it
// runs, when, and per partition how recent its exchanges are and how much
// they repaired. It is the JSON of GET /admin/aae.
type Status struct {
	Node    string `json:"node"`
	Enabled bool   `json:"enabled"`
	// Window is when exchanges may start ("always" or "HH:MM-HH:MM" UTC).
	Window string `json:"window"`
	// Now is the node's clock when the status was taken, so that a reader
	// can tell how long ago each time was without trusting its own clock.
	Now     time.Time `json:"now"`
	Running int       `json:"running"`
	// Totals since the node started.
	Exchanges    uint64 `json:"exchanges"`
	KeysCompared uint64 `json:"keys_compared"`
	KeysRepaired uint64 `json:"keys_repaired"`
	Bytes        uint64 `json:"bytes"`
	// TreeBytes is the memory the node's hash trees take.
	TreeBytes  int64             `json:"tree_bytes"`
	Partitions []PartitionStatus `json:"partitions"`
}

// PartitionStatus is one local vnode's anti-entropy state.
type PartitionStatus struct {
	Partition int `json:"partition"`
	// TreeBuilt is when the vnode's trees were last built or verified
	// against the data (zero: not built yet, exchanges wait for it).
	TreeBuilt time.Time `json:"tree_built"`
	// Keys is how many (key, version) entries the vnode's trees hold.
	Keys      int64        `json:"keys"`
	Exchanges []PeerStatus `json:"exchanges"`
	Repaired  RepairStats  `json:"repaired"`
}

// PeerStatus is the last exchange of one of the vnode's trees with one
// replica of the same preference list.
type PeerStatus struct {
	Peer          string `json:"peer"`
	PeerPartition int    `json:"peer_partition"`
	// Primary and N name the tree: the keys whose preference list starts
	// at partition Primary and has N replicas.
	Primary int `json:"primary"`
	N       int `json:"n"`
	// Last is when the last exchange ended (zero: never).
	Last         time.Time `json:"last"`
	LastRepaired int       `json:"last_repaired"`
	LastError    string    `json:"last_error,omitempty"`
}

// RepairStats summarises the keys repaired by one vnode's exchanges.
type RepairStats struct {
	Last      int     `json:"last"`
	Mean      float64 `json:"mean"`
	Max       int     `json:"max"`
	Total     uint64  `json:"total"`
	Exchanges uint64  `json:"exchanges"`
}

// Control changes how a node runs anti-entropy (POST /admin/aae). Nil
// fields are left as they are.
type Control struct {
	Enabled *bool   `json:"enabled,omitempty"`
	Window  *string `json:"window,omitempty"`
}
