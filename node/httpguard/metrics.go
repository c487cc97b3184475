package httpguard

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count what the guard refuses. A nil *metrics counts nothing.
type metrics struct {
	shedTotal   prometheus.Counter
	refusals    *prometheus.CounterVec
	inflightNow prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &metrics{
		shedTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "http", Name: "shed_total",
			Help: "Requests answered 503 at once because the node was serving its maximum of concurrent requests.",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cairn", Subsystem: "http", Name: "auth_refused_total",
			Help: "Requests refused by bearer-token authentication, by reason: missing, invalid (401) or forbidden (403).",
		}, []string{"reason"}),
		inflightNow: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "cairn", Subsystem: "http", Name: "inflight_requests",
			Help: "Requests being served now, /ping aside (the load shedding counts these).",
		}),
	}
	var err error
	if m.shedTotal, err = register(reg, m.shedTotal); err != nil {
		return nil, err
	}
	if m.refusals, err = register(reg, m.refusals); err != nil {
		return nil, err
	}
	if m.inflightNow, err = register(reg, m.inflightNow); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the equal collector already registered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func (m *metrics) shed() {
	if m != nil {
		m.shedTotal.Inc()
	}
}

func (m *metrics) refused(reason string) {
	if m != nil {
		m.refusals.WithLabelValues(reason).Inc()
	}
}

func (m *metrics) inflight(d float64) {
	if m != nil {
		m.inflightNow.Add(d)
	}
}
