// Package httptext writes the short text/plain answers cairn's HTTP API
// gives for errors and plain replies, so that the API and the request
// guard in front of it answer alike.
package httptext

import (
	"net/http"
	"strconv"
)

// Write answers status with msg and a newline as text/plain, not to be
// sniffed as anything else.
func Write(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
