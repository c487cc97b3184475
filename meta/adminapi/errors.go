package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cairnkv/cairn/antientropy"
	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// statusError is an error the API itself decides the status of: a
// malformed request, an unknown path, a method not allowed.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func errStatus(status int, format string, args ...any) error {
	return &statusError{status: status, msg: fmt.Sprintf(format, args...)}
}

// statusFor maps an error from a handler or from the Cluster to its status.
func statusFor(err error) int {
	var se *statusError
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se.status
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, node.ErrBadProps), errors.Is(err, node.ErrBadRequest),
		errors.Is(err, meta.ErrBadChange), errors.Is(err, meta.ErrBadCommand),
		errors.Is(err, handoff.ErrBadID), errors.Is(err, handoff.ErrBadAction),
		errors.Is(err, antientropy.ErrBadWindow):
		return http.StatusBadRequest
	case errors.Is(err, meta.ErrUnknownMember), errors.Is(err, node.ErrUnknownBucketType),
		errors.Is(err, meta.ErrNoRing), errors.Is(err, node.ErrNotFound),
		errors.Is(err, handoff.ErrNoTransfer):
		return http.StatusNotFound
	case errors.Is(err, meta.ErrTypeExists), errors.Is(err, meta.ErrStaleEpoch),
		errors.Is(err, meta.ErrNothingStaged), errors.Is(err, node.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, node.ErrUnavailable), errors.Is(err, node.ErrClosed),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		// A cancelled context means the client left: whatever we answer
		// goes nowhere, but 503 is the honest status.
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers err as an ErrorResponse with its status.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusFor(err)
	msg := err.Error()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		msg = "adminapi: request body larger than " + strconv.FormatInt(tooBig.Limit, 10) + " bytes"
	case errors.Is(err, context.DeadlineExceeded):
		msg = "timeout: " + msg
	}
	switch {
	case status == http.StatusInternalServerError:
		a.log.Error("adminapi: request failed", "method", r.Method, "path", r.URL.EscapedPath(), "err", err)
	case errors.Is(err, context.Canceled):
		a.log.Debug("adminapi: client went away", "method", r.Method, "path", r.URL.EscapedPath())
	}
	a.writeJSON(w, status, ErrorResponse{Error: msg})
}

// writeJSON answers v as JSON with status; a nil v with 204 answers no
// body.
func (a *api) writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		a.log.Error("adminapi: encoding JSON", "err", err)
		status = http.StatusInternalServerError
		b, _ = json.Marshal(ErrorResponse{Error: "adminapi: encoding JSON: " + err.Error()})
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
