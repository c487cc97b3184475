package httpguard

import (
	"github.com/cairnkv/cairn/internal/httptext"
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

// writeText answers a short text/plain body.
func writeText(w http.ResponseWriter, status int, msg string) { httptext.Write(w, status, msg) }
