package httpguard

import (
	"net/http"
)

// shed runs at most max requests at once; one more is answered 503 with
// Retry-After: 1 without waiting. /ping neither waits nor counts: a
// health check must stay cheap and must not be refused because the node
// is busy serving.
func shed(max int, m *metrics, next http.Handler) http.Handler {
	if max <= 0 {
		return next
	}
	slots := make(chan struct{}, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case slots <- struct{}{}:
		default:
			m.shed()
			w.Header().Set("Retry-After", "1")
			writeText(w, http.StatusServiceUnavailable, "overloaded: this node is already serving its maximum of concurrent requests; retry shortly or on another node")
			return
		}
		m.inflight(1)
		defer func() {
			m.inflight(-1)
			<-slots
		}()
		next.ServeHTTP(w, r)
	})
}
