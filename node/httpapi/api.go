package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cairnkv/cairn/node"
)

// Config tunes the HTTP API.
type Config struct {
	// MaxObjectSize bounds a stored value (the request body of a PUT or
	// POST). Larger bodies are refused with 413 before they are buffered.
	MaxObjectSize int64
	// WarnObjectSize: a value larger than this is stored but logged at warn
	// level, as Riak's warn_object_size does. 0 disables the warning.
	WarnObjectSize int64
	// MaxPropsSize bounds the body of a PUT of bucket properties.
	MaxPropsSize int64
	// ListBatchSize is the number of keys (or buckets) per JSON object in a
	// streamed listing (keys=stream, buckets=stream).
	ListBatchSize int
	// EnablePprof serves net/http/pprof under /debug/pprof/.
	EnablePprof bool
}

// DefaultConfig returns Riak's limits: 50 MiB objects, a warning above 5 MiB.
func DefaultConfig() Config {
	return Config{
		MaxObjectSize:  50 << 20,
		WarnObjectSize: 5 << 20,
		MaxPropsSize:   1 << 20,
		ListBatchSize:  1000,
	}
}

// Validate checks that the limits make sense.
func (c Config) Validate() error {
	switch {
	case c.MaxObjectSize <= 0:
		return fmt.Errorf("httpapi: MaxObjectSize must be positive, got %d", c.MaxObjectSize)
	case c.WarnObjectSize < 0 || c.WarnObjectSize > c.MaxObjectSize:
		return fmt.Errorf("httpapi: WarnObjectSize must be between 0 and MaxObjectSize (%d), got %d", c.MaxObjectSize, c.WarnObjectSize)
	case c.MaxPropsSize <= 0:
		return fmt.Errorf("httpapi: MaxPropsSize must be positive, got %d", c.MaxPropsSize)
	case c.ListBatchSize <= 0:
		return fmt.Errorf("httpapi: ListBatchSize must be positive, got %d", c.ListBatchSize)
	}
	return nil
}

// API is the HTTP handler. It is safe for concurrent use.
type API struct {
	cfg     Config
	kv      node.KV
	log     *slog.Logger
	metrics *httpMetrics // nil without a registry
	fixed   *http.ServeMux
}

var _ http.Handler = (*API)(nil)

// New builds the API over kv. The logger may be nil (nothing is logged).
// reg receives the HTTP request counters and latency histograms and is what
// /metrics serves, so the caller registers the node's own collectors on it
// too; with a nil reg there are no HTTP metrics and no /metrics endpoint.
// Several APIs may share a registry: they then share the HTTP metrics.
func New(cfg Config, kv node.KV, logger *slog.Logger, reg *prometheus.Registry) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if kv == nil {
		return nil, errors.New("httpapi: nil node.KV")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, kv: kv, log: logger, fixed: http.NewServeMux()}
	// Fixed paths are ServeMux patterns; key paths are not, because keys
	// may hold "%2F" or ".." that the mux would split or clean away.
	a.fixed.HandleFunc("GET /ping", a.ping)
	a.fixed.HandleFunc("GET /stats", a.stats)
	if reg != nil {
		m, err := newHTTPMetrics(reg)
		if err != nil {
			return nil, err
		}
		a.metrics = m
		a.fixed.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelError),
			ErrorHandling:     promhttp.ContinueOnError,
			Registry:          reg, // promhttp's own error counter
			EnableOpenMetrics: true,
		}))
	}
	if cfg.EnablePprof {
		a.fixed.HandleFunc("/debug/pprof/", pprof.Index)
		a.fixed.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		a.fixed.HandleFunc("/debug/pprof/profile", pprof.Profile)
		a.fixed.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		a.fixed.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return a, nil
}

// ServeHTTP routes r, records its metrics and turns panics into 500s.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, route: "unmatched"}
	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			a.log.Error("httpapi: handler panicked", "method", r.Method, "path", r.URL.EscapedPath(),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !rec.wroteHeader {
				dropEntityHeaders(rec.Header())
				writeText(rec, http.StatusInternalServerError, "internal error: the handler panicked (logged)")
				p = nil
			} else {
				// The answer has begun: abort the connection rather than
				// let the client take a truncated body for a whole one.
				p = http.ErrAbortHandler
			}
		}
		a.metrics.observe(rec.route, r.Method, rec.status(), time.Since(start))
		if p != nil {
			panic(p)
		}
	}()
	a.route(rec, r)
}

// route dispatches r: KV paths by hand, everything else through the mux.
func (a *API) route(w *recorder, r *http.Request) {
	rt, ok, err := parseRoute(r.URL.EscapedPath())
	if !ok {
		w.route = fixedRouteLabel(r.URL.Path)
		a.fixed.ServeHTTP(w, r)
		return
	}
	w.route = rt.kind.String()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	allowed := rt.kind.methods()
	if !slices.Contains(allowed, r.Method) {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeText(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s; allowed: %s",
			r.Method, r.URL.EscapedPath(), strings.Join(allowed, ", ")))
		return
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if q.timeout > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), q.timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	if err := a.serveKV(w, r, rt, q); err != nil {
		a.writeError(w, r, err)
	}
}

// serveKV runs the handler for one KV route; the method is allowed.
func (a *API) serveKV(w http.ResponseWriter, r *http.Request, rt route, q query) error {
	switch rt.kind {
	case routeObject:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			return a.getObject(w, r, rt, q)
		case http.MethodPut, http.MethodPost:
			return a.putObject(w, r, rt, q, false)
		case http.MethodDelete:
			return a.deleteObject(w, r, rt, q)
		}
	case routeKeys:
		if r.Method == http.MethodPost {
			return a.createObject(w, r, rt, q)
		}
		return a.listKeys(w, r, rt, q)
	case routeBuckets:
		return a.listBuckets(w, r, rt, q)
	case routeProps:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			return a.getProps(w, r, rt)
		case http.MethodPut:
			return a.setProps(w, r, rt)
		case http.MethodDelete:
			return a.resetProps(w, r, rt)
		}
	case routeLegacyBucket:
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			return a.getProps(w, r, rt)
		case http.MethodPut:
			return a.setProps(w, r, rt)
		case http.MethodPost:
			return a.createObject(w, r, rt, q)
		}
	case routeTypeProps:
		if r.Method == http.MethodPut {
			return a.setTypeProps(w, r, rt)
		}
		return a.getTypeProps(w, r, rt)
	}
	return fmt.Errorf("httpapi: no handler for %s %s", r.Method, rt.kind) // unreachable: methods() guards
}

func (a *API) ping(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "OK")
}

func (a *API) stats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, a.log, a.kv.Stats())
}

// fixedRouteLabel names a non-KV path for metrics without letting arbitrary
// paths become label values.
func fixedRouteLabel(path string) string {
	switch {
	case path == "/ping":
		return "ping"
	case path == "/stats":
		return "stats"
	case path == "/metrics":
		return "metrics"
	case strings.HasPrefix(path, "/debug/pprof/"):
		return "pprof"
	}
	return "unmatched"
}
