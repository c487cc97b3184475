package rpc

import (
	"errors"
	"fmt"
)

// Errors returned by Call, Serve and the frame codec. Call wraps them with
// the method and address, so test with errors.Is.
var (
	// ErrClosed: the Client or Server has been closed.
	ErrClosed = errors.New("rpc: closed")
	// ErrConnection: no connection to the peer could be made, or the one
	// the call travelled on broke before the answer came back. The request
	// may or may not have been handled; only idempotent requests may be
	// retried blindly.
	ErrConnection = errors.New("rpc: connection failed")
	// ErrDial: no connection to the peer could be made, so the request was
	// never sent and may be retried. It wraps ErrConnection.
	ErrDial = fmt.Errorf("%w: dial failed, request not sent", ErrConnection)
	// ErrFrameTooLarge: a request or response exceeds Config.MaxFrameSize.
	ErrFrameTooLarge = errors.New("rpc: frame too large")
	// ErrMalformedFrame: bytes on the wire that are not a valid frame
	// (truncated, bad checksum, undecodable, unknown kind). The connection
	// that carried them is closed.
	ErrMalformedFrame = errors.New("rpc: malformed frame")
	// ErrUnknownMethod: a Handler returns it (wrapped or not) for a method
	// it does not serve; the caller then gets a *RemoteError that wraps it.
	ErrUnknownMethod = errors.New("rpc: unknown method")
)

// RemoteError is a failure reported by the peer: the handler returned an
// error, or the server could not run the request. Msg is the text of the
// remote error; the remote error's type does not survive the trip.
//
// A RemoteError for an unknown method wraps ErrUnknownMethod, one for a
// response that would have exceeded the server's frame limit wraps
// ErrFrameTooLarge, so errors.Is works across the wire for those.
type RemoteError struct {
	Msg  string
	code code
}

func (e *RemoteError) Error() string { return "rpc: remote: " + e.Msg }

// Unwrap maps the wire code back to the sentinel it stands for.
func (e *RemoteError) Unwrap() error {
	switch e.code {
	case codeUnknownMethod:
		return ErrUnknownMethod
	case codeTooLarge:
		return ErrFrameTooLarge
	}
	return nil
}

// callError wraps err with the call it belongs to.
func callError(addr, method string, err error) error {
	return fmt.Errorf("rpc: call %s on %s: %w", method, addr, err)
}
