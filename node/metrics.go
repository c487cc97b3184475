package node

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/cairnkv/cairn/node/object"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what the node does. Stats reads it for /stats, and it is
// a prometheus.Collector for /metrics, so both show the same numbers.
type metrics struct {
	cfg Config

	gets, puts, deletes, notfounds atomic.Uint64
	quorumErrors, readRepairs      atomic.Uint64
	speculativeReads               atomic.Uint64
	corruptReads                   atomic.Uint64
	corruptHintsDropped            atomic.Uint64
	fallbackWrites, forwards       atomic.Uint64
	reaped, transfers              atomic.Uint64
	hintsHandedOff                 atomic.Uint64
	handoffObjects, handoffBytes   atomic.Uint64
	handoffFailures                atomic.Uint64
	aaeExchanges, aaeErrors        atomic.Uint64
	aaeKeysCompared                atomic.Uint64
	aaeKeysRepaired, aaeBytes      atomic.Uint64
	aaeRebuilds                    atomic.Uint64
	siblingsWarned                 atomic.Uint64
	siblingsRefused                atomic.Uint64
	window                         *minuteWindow

	mu       sync.Mutex
	getTime  *hdrhistogram.Histogram // µs
	putTime  *hdrhistogram.Histogram // µs
	siblings *hdrhistogram.Histogram
	objSize  *hdrhistogram.Histogram // bytes

	descs map[string]*prometheus.Desc
}

func newMetrics(cfg Config) *metrics {
	m := &metrics{
		cfg:      cfg,
		window:   &minuteWindow{},
		getTime:  hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
		putTime:  hdrhistogram.New(1, int64(time.Hour/time.Microsecond), 3),
		siblings: hdrhistogram.New(1, 1<<16, 3),
		objSize:  hdrhistogram.New(1, 1<<40, 3),
		descs:    map[string]*prometheus.Desc{},
	}
	for name, help := range map[string]string{
		"gets_total":                   "Coordinated gets.",
		"puts_total":                   "Coordinated puts.",
		"deletes_total":                "Coordinated deletes.",
		"notfound_total":               "Gets answered not found.",
		"quorum_errors_total":          "Requests that failed to meet their quorum.",
		"read_repairs_total":           "Replicas repaired by reads.",
		"speculative_reads_total":      "Gets under read_fanout quorum that asked the remaining replicas because the quorum had not answered within read-speculate-after.",
		"corrupt_reads_total":          "Stored values that failed verification.",
		"fallback_writes_total":        "Replica writes sent to a fallback in place of a down or failing primary (sloppy quorum).",
		"forwarded_puts_total":         "Writes forwarded to a node of the key's preference list.",
		"tombstones_reaped_total":      "Tombstones deleted from vnodes once every primary held them.",
		"partitions_transferred_total": "Partitions this node handed to their next owner.",
		"hints_handed_off_total":       "Objects held for another node (fallback writes) delivered to their owner.",
		"handoff_objects_total":        "Objects sent by hinted and ownership handoff.",
		"handoff_bytes_total":          "Bytes sent by hinted and ownership handoff.",
		"handoff_failures_total":       "Handoff attempts that failed or stalled (each is retried).",
		"aae_exchanges_total":          "Anti-entropy exchanges this node started.",
		"aae_exchange_errors_total":    "Anti-entropy exchanges that failed (peer down, disabled, timeout).",
		"aae_keys_compared_total":      "Key index entries read by anti-entropy exchanges, both sides.",
		"aae_keys_repaired_total":      "Keys anti-entropy found different between replicas and repaired.",
		"aae_bytes_total":              "Bytes anti-entropy exchanges sent and received, repairs included.",
		"aae_rebuilds_total":           "Vnode index verifications and tree rebuilds from data.",
		"siblings_warned_total":        "Coordinated writes that left a key with more siblings than the warning threshold.",
		"siblings_refused_total":       "Coordinated writes refused because they would exceed the sibling limit.",
	} {
		m.descs[name] = prometheus.NewDesc("cairn_node_"+name, help, nil, nil)
	}
	m.descs["get_seconds"] = prometheus.NewDesc("cairn_node_get_seconds", "Coordinated get latency.", nil, nil)
	m.descs["put_seconds"] = prometheus.NewDesc("cairn_node_put_seconds", "Coordinated put latency.", nil, nil)
	m.descs["siblings"] = prometheus.NewDesc("cairn_node_get_siblings", "Siblings per object read.", nil, nil)
	m.descs["objsize_bytes"] = prometheus.NewDesc("cairn_node_get_objsize_bytes", "Size of objects read.", nil, nil)
	return m
}

func (m *metrics) observeGet(d time.Duration, obj *object.Object, err error) {
	m.gets.Add(1)
	m.window.add(m.cfg.Clock.Now(), 0)
	switch {
	case errors.Is(err, ErrNotFound):
		m.notfounds.Add(1)
	case errors.Is(err, ErrQuorumNotMet):
		m.quorumErrors.Add(1)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = m.getTime.RecordValue(max(d.Microseconds(), 1))
	if err == nil && obj != nil {
		_ = m.siblings.RecordValue(int64(obj.Len()))
		_ = m.objSize.RecordValue(max(int64(obj.Size()), 1))
	}
}

func (m *metrics) observePut(d time.Duration, err error) {
	m.puts.Add(1)
	m.window.add(m.cfg.Clock.Now(), 1)
	if errors.Is(err, ErrQuorumNotMet) {
		m.quorumErrors.Add(1)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = m.putTime.RecordValue(max(d.Microseconds(), 1))
}

func percentiles(h *hdrhistogram.Histogram) Percentiles {
	return Percentiles{
		Count: h.TotalCount(), Mean: h.Mean(), Median: h.ValueAtQuantile(50),
		P95: h.ValueAtQuantile(95), P99: h.ValueAtQuantile(99), Max: h.Max(),
	}
}

// Stats implements KV. Latency and size percentiles cover the node's whole
// life; node_gets and node_puts count the last minute, as Riak's do.
func (n *Node) Stats() Stats {
	m := n.metrics
	gets, puts := m.window.sums(n.cfg.Clock.Now())
	s := Stats{
		NodeName:         n.cfg.NodeID,
		NodeGets:         gets,
		NodeGetsTotal:    m.gets.Load(),
		NodePuts:         puts,
		NodePutsTotal:    m.puts.Load(),
		NodeDeletes:      m.deletes.Load(),
		NotFounds:        m.notfounds.Load(),
		QuorumErrors:     m.quorumErrors.Load(),
		ReadRepairs:      m.readRepairs.Load(),
		CorruptReads:     m.corruptReads.Load(),
		FallbackWrites:   m.fallbackWrites.Load(),
		SpeculativeReads: m.speculativeReads.Load(),
		ForwardedPuts:    m.forwards.Load(),
		TombstonesReaped: m.reaped.Load(),
		Transfers:        m.transfers.Load(),
		HintsHandedOff:   m.hintsHandedOff.Load(),
		HandoffObjects:   m.handoffObjects.Load(),
		HandoffBytes:     m.handoffBytes.Load(),
		HandoffFailures:  m.handoffFailures.Load(),
		SyncPolicy:       n.cfg.SyncPolicy,
	}
	if r := n.Ring(); r != nil {
		s.RingSize, s.RingEpoch = r.Size(), r.Epoch()
	}
	m.mu.Lock()
	s.GetTime = percentiles(m.getTime)
	s.PutTime = percentiles(m.putTime)
	s.Siblings = percentiles(m.siblings)
	s.ObjSize = percentiles(m.objSize)
	m.mu.Unlock()
	return s
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	counter := func(name string, v uint64) {
		ch <- prometheus.MustNewConstMetric(m.descs[name], prometheus.CounterValue, float64(v))
	}
	counter("gets_total", m.gets.Load())
	counter("puts_total", m.puts.Load())
	counter("deletes_total", m.deletes.Load())
	counter("notfound_total", m.notfounds.Load())
	counter("quorum_errors_total", m.quorumErrors.Load())
	counter("read_repairs_total", m.readRepairs.Load())
	counter("speculative_reads_total", m.speculativeReads.Load())
	counter("corrupt_reads_total", m.corruptReads.Load())
	counter("corrupt_hints_dropped_total", m.corruptHintsDropped.Load())
	counter("fallback_writes_total", m.fallbackWrites.Load())
	counter("forwarded_puts_total", m.forwards.Load())
	counter("tombstones_reaped_total", m.reaped.Load())
	counter("partitions_transferred_total", m.transfers.Load())
	counter("hints_handed_off_total", m.hintsHandedOff.Load())
	counter("handoff_objects_total", m.handoffObjects.Load())
	counter("handoff_bytes_total", m.handoffBytes.Load())
	counter("handoff_failures_total", m.handoffFailures.Load())
	counter("aae_exchanges_total", m.aaeExchanges.Load())
	counter("aae_exchange_errors_total", m.aaeErrors.Load())
	counter("aae_keys_compared_total", m.aaeKeysCompared.Load())
	counter("aae_keys_repaired_total", m.aaeKeysRepaired.Load())
	counter("aae_bytes_total", m.aaeBytes.Load())
	counter("aae_rebuilds_total", m.aaeRebuilds.Load())
	counter("siblings_warned_total", m.siblingsWarned.Load())
	counter("siblings_refused_total", m.siblingsRefused.Load())
	m.mu.Lock()
	defer m.mu.Unlock()
	summary := func(name string, h *hdrhistogram.Histogram, scale float64) {
		q := map[float64]float64{}
		for _, p := range []float64{0.5, 0.95, 0.99, 0.999} {
			q[p] = float64(h.ValueAtQuantile(p*100)) * scale
		}
		ch <- prometheus.MustNewConstSummary(m.descs[name], uint64(h.TotalCount()), h.Mean()*float64(h.TotalCount())*scale, q)
	}
	summary("get_seconds", m.getTime, 1e-6)
	summary("put_seconds", m.putTime, 1e-6)
	summary("siblings", m.siblings, 1)
	summary("objsize_bytes", m.objSize, 1)
}

// minuteWindow counts gets and puts per second over the last minute.
type minuteWindow struct {
	mu     sync.Mutex
	second [60]int64
	counts [60][2]uint64
}

func (w *minuteWindow) add(now time.Time, kind int) {
	sec := now.Unix()
	i := int(sec % 60)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.second[i] != sec {
		w.second[i] = sec
		w.counts[i] = [2]uint64{}
	}
	w.counts[i][kind]++
}

func (w *minuteWindow) sums(now time.Time) (gets, puts uint64) {
	sec := now.Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.second {
		if sec-w.second[i] < 60 {
			gets += w.counts[i][0]
			puts += w.counts[i][1]
		}
	}
	return gets, puts
}
