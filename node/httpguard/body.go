package httpguard

import (
	"net/http"
	"strconv"
)

// limitBody refuses a request that declares a body larger than max and
// reads any other body through http.MaxBytesReader.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			// The body is not read: close the connection rather than
			// drain it.
			w.Header().Set("Connection", "close")
			writeText(w, http.StatusRequestEntityTooLarge, "request body of "+strconv.FormatInt(r.ContentLength, 10)+
				" bytes is larger than the node's limit of "+strconv.FormatInt(max, 10)+" bytes")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, max)
		}
		next.ServeHTTP(w, r)
	})
}

// writeText answers a short text/plain body, as node/httpapi does.
func writeText(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
