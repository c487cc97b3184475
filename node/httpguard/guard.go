package httpguard

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// New wraps next in the guard: authentication (when tokens is not nil),
// then the body limit, then load shedding. reg receives the guard's
// counters (nil: none). It logs at start which guards are on.
func New(cfg Config, tokens *Tokens, next http.Handler, logger *slog.Logger, reg prometheus.Registerer) (http.Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	if tokens == nil {
		logger.Info("HTTP API without authentication: any client may read, write and administer (set a token file to require bearer tokens)")
	} else {
		logger.Info("HTTP API requires bearer tokens", "tokens", tokens.Len())
	}
	h := shed(cfg.MaxConcurrent, m, next)
	h = limitBody(cfg.MaxBodyBytes, h)
	return authenticate(tokens, m, h), nil
}
