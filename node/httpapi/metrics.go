package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics count requests and their latency by route, method and status.
// Route is a fixed label per resource kind (object, keys, props, …), never
// the path, so cardinality stays bounded.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "cairn",
		Subsystem: "http",
		Name:      "requests_total",
		Help:      "HTTP requests answered, by route, method and status code.",
	}, []string{"route", "method", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "cairn",
		Subsystem: "http",
		Name:      "request_duration_seconds",
		Help:      "Time to answer an HTTP request, by route, method and status code.",
		Buckets:   prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5ms … 16s
	}, []string{"route", "method", "code"})
	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if latency, err = register(reg, latency); err != nil {
		return nil, err
	}
	return &httpMetrics{requests: requests, latency: latency}, nil
}

// register registers c, or returns the equal collector already registered
// (a second API on the same registry shares the first one's metrics).
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

// observe records one answered request. A nil receiver records nothing.
func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions:
	default:
		method = "other" // arbitrary methods must not become label values
	}
	code := strconv.Itoa(status)
	m.requests.WithLabelValues(route, method, code).Inc()
	m.latency.WithLabelValues(route, method, code).Observe(d.Seconds())
}

// recorder remembers the status a handler answered (for metrics) and
// whether it has started answering (for panic recovery). It passes Flush
// through, which streamed listings need.
type recorder struct {
	http.ResponseWriter
	route       string
	code        int
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader && code >= 200 {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

// Flush sends what is buffered to the client.
func (r *recorder) Flush() {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// status is what the client was answered (200 if the handler wrote
// nothing, as net/http does).
func (r *recorder) status() int {
	if !r.wroteHeader {
		return http.StatusOK
	}
	return r.code
}
