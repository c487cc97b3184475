package client

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Errors a call returns, each wrapped in an *Error that says which node
// answered what. Test with errors.Is; use errors.As with *Error for the
// status and the server's message.
var (
	// ErrNotFound: the key does not exist or was deleted (404).
	ErrNotFound = errors.New("client: not found")
	// ErrQuorum: the node could not gather the replicas the request
	// demanded (503 whose message is the server's quorum error). The
	// write may still have reached some replicas.
	ErrQuorum = errors.New("client: quorum not met")
	// ErrConflict: a precondition failed (412) or the server reported a
	// conflict (409): a create of a key that exists, or, on a strongly
	// consistent bucket type, a write or delete whose context is not the
	// current version's.
	ErrConflict = errors.New("client: conflict")
	// ErrBadRequest: the server refused the request as malformed or
	// invalid (400, 413, 415 and any other 4xx but 404, 409 and 412), or
	// the client refused to send it (an empty bucket, an invalid metadata
	// name); the message says why.
	ErrBadRequest = errors.New("client: bad request")
	// ErrUnavailable: no node could serve the request: a 503 other than a
	// quorum error (the node is shutting down, has no ring yet, or the
	// metadata plane has no leader), another 5xx, or no node answered.
	ErrUnavailable = errors.New("client: unavailable")
	// ErrUnknownBucketType: the bucket type does not exist or is not
	// active (the server answers 404 and says so). It is also an
	// ErrBadRequest: retrying does not help.
	ErrUnknownBucketType error = &subError{msg: "client: unknown bucket type", parent: ErrBadRequest}
	// ErrUnauthorized: the node requires a bearer token and the call had
	// none or an unknown one (401), or the token's role does not allow
	// the call (403: a data token on an admin endpoint). It is also an
	// ErrBadRequest: retrying does not help.
	ErrUnauthorized error = &subError{msg: "client: unauthorized", parent: ErrBadRequest}
	// ErrTooManySiblings: the write would give the key more siblings than
	// the node allows (409 saying so). Read the key, resolve its siblings
	// and write the result with the read's context, which is never
	// refused. It is also an ErrConflict.
	ErrTooManySiblings error = &subError{msg: "client: too many siblings", parent: ErrConflict}
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("client: closed")
)

// subError is a sentinel that is also another sentinel.
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// Error is a failed call: what the node answered, or why no answer came.
// Unwrap returns the sentinel (ErrNotFound, ErrQuorum, ...).
type Error struct {
	// Status is the HTTP status, or 0 when there was none: the node could
	// not be reached, or a streamed answer broke off.
	Status int
	// Message is the server's error body, or the connection error.
	Message string
	// Node is the base URL of the node that answered (or failed to).
	Node string

	err error  // the sentinel
	op  string // "GET /types/…", for the message

	// retry: a retry of an idempotent call may succeed (connection
	// failures, 5xx, a broken stream before any item was delivered).
	retry bool
	// unsent: the request surely never reached the server (the dial
	// failed), so even a non-idempotent call may be retried.
	unsent bool
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("client: ")
	if e.op != "" {
		b.WriteString(e.op + " ")
	}
	b.WriteString("on " + e.Node + ": ")
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status) + " " + http.StatusText(e.Status))
		if e.Message != "" {
			b.WriteString(": ")
		}
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the sentinel the error is an instance of.
func (e *Error) Unwrap() error { return e.err }

// sentinelFor maps an error status and the server's message to a
// sentinel. The message decides what the status alone cannot: a 404 for
// an unknown bucket type is not a missing key, and a 503 for a quorum
// that did not answer is not a node that cannot serve.
func sentinelFor(status int, msg string) error {
	lower := strings.ToLower(msg)
	switch {
	case status == http.StatusNotFound:
		if strings.Contains(lower, "unknown bucket type") {
			return ErrUnknownBucketType
		}
		return ErrNotFound
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return ErrUnauthorized
	case status == http.StatusConflict && strings.Contains(lower, "too many siblings"):
		return ErrTooManySiblings
	case status == http.StatusConflict, status == http.StatusPreconditionFailed:
		return ErrConflict
	case status == http.StatusServiceUnavailable:
		if strings.Contains(lower, "quorum not met") {
			return ErrQuorum
		}
		return ErrUnavailable
	case status >= 400 && status < 500:
		return ErrBadRequest
	}
	return ErrUnavailable
}

// isQuorum reports whether err is a quorum error: a node that answers it
// is up, the replicas behind it are not.
func isQuorum(err error) bool { return errors.Is(err, ErrQuorum) }
