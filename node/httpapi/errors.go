package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cairnkv/cairn/internal/httptext"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// statusError is an error the API itself decides the status of: a
// malformed request, an unknown path, a failed precondition.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func errStatus(status int, format string, args ...any) error {
	return &statusError{status: status, msg: fmt.Sprintf(format, args...)}
}

// statusFor maps an error from a handler or from node.KV to its status.
func statusFor(err error) int {
	var se *statusError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se.status
	case errors.As(err, &tooBig), errors.Is(err, node.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, node.ErrTooManySiblings):
		// The key's state, not the request, is at fault, and the client
		// can resolve it: read, merge the siblings, write back with the
		// read's context (which is never refused).
		return http.StatusConflict
	case errors.Is(err, node.ErrConflict):
		// A strongly consistent write whose context is not the current
		// version's, or a create of a key that exists.
		return http.StatusPreconditionFailed
	case errors.Is(err, node.ErrNotFound), errors.Is(err, node.ErrUnknownBucketType):
		// Riak answers 404 for a bucket type that does not exist.
		return http.StatusNotFound
	case errors.Is(err, node.ErrBadRequest), errors.Is(err, node.ErrQuorumTooLarge),
		errors.Is(err, node.ErrBadProps),
		errors.Is(err, object.ErrMalformedContext), errors.Is(err, object.ErrForeignContext):
		return http.StatusBadRequest
	case errors.Is(err, node.ErrQuorumNotMet), errors.Is(err, node.ErrClosed), errors.Is(err, node.ErrUnavailable),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// A timeout is how Riak reports a quorum that did not answer in
		// time; a cancelled context means the client left, and whatever
		// we answer goes nowhere.
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers err as text/plain with its status. Entity headers a
// handler may have set are dropped: they described a success.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusFor(err)
	msg := err.Error()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		msg = "request body larger than " + strconv.FormatInt(tooBig.Limit, 10) + " bytes"
	case errors.Is(err, node.ErrNotFound) && status == http.StatusNotFound:
		msg = "not found"
	case errors.Is(err, context.DeadlineExceeded):
		msg = "timeout: " + msg
	}
	switch {
	case status == http.StatusInternalServerError:
		a.log.Error("httpapi: request failed", "method", r.Method, "path", r.URL.EscapedPath(), "err", err)
	case errors.Is(err, context.Canceled):
		a.log.Debug("httpapi: client went away", "method", r.Method, "path", r.URL.EscapedPath())
	}
	dropEntityHeaders(w.Header())
	writeText(w, status, msg)
}

// dropEntityHeaders removes what a handler may have set to describe a
// success before it failed.
func dropEntityHeaders(h http.Header) {
	for _, k := range []string{"Etag", "Last-Modified", "Link", "Location", "Content-Encoding", "Content-Length", "Vary", hdrVclock} {
		h.Del(k)
	}
	for k := range h {
		if strings.HasPrefix(k, hdrMetaPrefix) {
			delete(h, k)
		}
	}
}

// writeText answers a short text/plain body.
func writeText(w http.ResponseWriter, status int, msg string) { httptext.Write(w, status, msg) }

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, log *slog.Logger, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		log.Error("httpapi: encoding JSON", "err", err)
		writeText(w, http.StatusInternalServerError, "internal error: encoding JSON: "+err.Error())
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
