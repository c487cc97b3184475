package node

// Stats is a snapshot of a node's counters, with Riak's stat names so that
// existing dashboards read it. Latencies are in microseconds; sizes in bytes.
type Stats struct {
	NodeName string `json:"nodename"`

	NodeGets      uint64 `json:"node_gets"`
	NodeGetsTotal uint64 `json:"node_gets_total"`
	NodePuts      uint64 `json:"node_puts"`
	NodePutsTotal uint64 `json:"node_puts_total"`
	NodeDeletes   uint64 `json:"node_deletes_total"`
	NotFounds     uint64 `json:"node_get_notfound_total"`
	QuorumErrors  uint64 `json:"node_quorum_errors_total"`
	ReadRepairs   uint64 `json:"read_repairs_total"`
	CorruptReads  uint64 `json:"corrupt_reads_total"`

	FallbackWrites   uint64 `json:"fallback_writes_total"`
	SpeculativeReads uint64 `json:"speculative_reads_total"`
	ForwardedPuts    uint64 `json:"forwarded_puts_total"`
	TombstonesReaped uint64 `json:"tombstones_reaped_total"`
	Transfers        uint64 `json:"partitions_transferred_total"`
	HintsHandedOff   uint64 `json:"hints_handed_off_total"`
	HandoffObjects   uint64 `json:"handoff_objects_total"`
	HandoffBytes     uint64 `json:"handoff_bytes_total"`
	HandoffFailures  uint64 `json:"handoff_failures_total"`

	GetTime  Percentiles `json:"node_get_fsm_time"`
	PutTime  Percentiles `json:"node_put_fsm_time"`
	Siblings Percentiles `json:"node_get_fsm_siblings"`
	ObjSize  Percentiles `json:"node_get_fsm_objsize"`

	RingSize   int    `json:"ring_num_partitions"`
	RingEpoch  uint64 `json:"ring_epoch"`
	SyncPolicy string `json:"storage_sync"`
}

// Percentiles summarise a histogram.
type Percentiles struct {
	Count  int64   `json:"count"`
	Mean   float64 `json:"mean"`
	Median int64   `json:"median"`
	P95    int64   `json:"95"`
	P99    int64   `json:"99"`
	Max    int64   `json:"100"`
}
