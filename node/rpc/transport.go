package rpc

import "context"

// Transport carries one request from this node to the peer listening at
// addr and returns the peer's answer. It is the seam the node sends every
// internal message through: production uses a *Client (msgpack frames over
// pooled connections), tests a MemTransport host, which delivers messages
// straight to Handlers and can partition, drop, delay and reorder them.
//
// Implementations are safe for concurrent use; calls to one peer may be in
// flight together and may be answered in any order.
//
// ctx bounds the whole call. Its deadline travels with the request and
// bounds the handler's context at the peer; Call returns as soon as ctx is
// done and never later than its deadline. A caller that sets no deadline
// may wait forever for a peer that never answers (or a message that is
// lost), so callers should always set one.
//
// Call returns the handler's answer or an error that wraps one of:
//
//   - ErrDial (which wraps ErrConnection): the request was never sent, as
//     no connection to addr could be made; it is safe to retry, here or
//     elsewhere. This comes back fast, not at the deadline.
//   - ErrConnection (without ErrDial): the connection broke while the
//     call was in flight. The request may or may not have run, so only
//     idempotent requests may be retried blindly.
//   - *RemoteError: the peer's handler failed (errors.As finds it); it
//     wraps ErrUnknownMethod for a method the peer does not serve.
//   - ctx.Err() (context.DeadlineExceeded or context.Canceled): the caller
//     stopped waiting; the request may or may not have run.
//   - ErrClosed: the Transport has been closed.
//   - ErrFrameTooLarge: the request or its answer exceeds the frame limit
//     (a *Client; the answer case comes back as a *RemoteError).
//
// Every error names method and addr. The returned slice belongs to the
// caller; body is not retained after Call returns and is never modified.
type Transport interface {
	Call(ctx context.Context, addr, method string, body []byte) ([]byte, error)
}

var _ Transport = (*Client)(nil)
