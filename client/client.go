package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Client talks to a cairn cluster over its Riak-compatible HTTP API. It is
// safe for concurrent use; make one per process and share it.
type Client struct {
	cfg   Config
	hc    *http.Client
	nodes *pool
	bases []string // the nodes' base URLs, by pool index; immutable
	log   *slog.Logger

	closed atomic.Bool
	// now is the clock that marks nodes down and back up; tests replace
	// it before the first call.
	now func() time.Time
}

// New returns a Client for cfg; zero fields take DefaultConfig's values.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bases := make([]string, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		bases[i], _ = nodeURL(n) // checked by Validate
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tc, err := cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		hc = &http.Client{Transport: newTransport(len(bases), tc)}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		cfg:   cfg,
		hc:    hc,
		nodes: newPool(len(bases), cfg.DownFor),
		bases: bases,
		log:   logger,
		now:   time.Now,
	}, nil
}

// newTransport is the pooled transport of a Client without an HTTPClient;
// tc nil trusts the system's roots.
func newTransport(nodes int, tc *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if tc != nil {
		t.TLSClientConfig = tc
	}
	t.MaxIdleConnsPerHost = 64
	t.MaxIdleConns = 64 * nodes
	t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// Close closes the idle connections; later calls fail with ErrClosed.
// Calls in flight finish.
func (c *Client) Close() error {
	c.closed.Store(true)
	c.hc.CloseIdleConnections()
	return nil
}

// request is one call's HTTP request, sent to as many nodes as it takes.
type request struct {
	method string
	path   string // escaped, from the node's base URL
	query  url.Values
	header http.Header
	body   []byte
	// idempotent: sent twice, it does no more than sent once, so any
	// failed attempt may be retried on another node.
	idempotent bool
	// kv: the path is a KV path, whose handler takes ?timeout=.
	kv bool
	// timeout is the Timeout option (0: Config.Timeout).
	timeout time.Duration
}

// describe is "METHOD path", for messages.
func (r *request) describe() string { return r.method + " " + r.path }

// acceptSiblings asks for siblings as multipart/mixed, as Riak clients do.
const acceptSiblings = "multipart/mixed, */*;q=0.5"

// handler reads an answer whose status is below 500, from the node with
// base URL node. It returns nil when the call succeeded, an *Error when
// the attempt failed (retried when the Error says so), or another error to
// end the call with it. The caller closes the body.
type handler func(res *http.Response, node string) error

// do runs r until an attempt succeeds, an attempt fails in a way a retry
// cannot help, the retries are spent or the call's time is up.
func (c *Client) do(ctx context.Context, r *request, handle handler) error {
	if c.closed.Load() {
		return ErrClosed
	}
	timeout := c.cfg.Timeout
	if r.timeout > 0 {
		timeout = r.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tried := make([]bool, len(c.bases))
	var last error
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := c.backoff(ctx, attempt); err != nil {
				return c.timeUp(r, err, last)
			}
		}
		i := c.nodes.pick(c.now(), tried)
		tried[i] = true
		err := c.attempt(ctx, r, i, handle)
		if err == nil {
			return nil
		}
		e, ok := err.(*Error)
		if !ok || !(e.unsent || e.retry && r.idempotent) {
			return err
		}
		if ctx.Err() != nil {
			return c.timeUp(r, ctx.Err(), last)
		}
		if attempt >= c.cfg.Retries {
			return err
		}
		last = err
		c.log.Debug("client: retrying on another node", "request", r.describe(), "attempt", attempt+1, "err", err)
	}
}

// timeUp is the error of a call whose context ended: it wraps the
// context's error and, if there was one, the last attempt's.
func (c *Client) timeUp(r *request, ctxErr, last error) error {
	if last != nil {
		return fmt.Errorf("client: %s: %w (last attempt: %w)", r.describe(), ctxErr, last)
	}
	return fmt.Errorf("client: %s: %w", r.describe(), ctxErr)
}

// backoff waits before retry number attempt (1 for the first retry).
func (c *Client) backoff(ctx context.Context, attempt int) error {
	d := c.cfg.RetryBackoff
	for range attempt - 1 {
		if d >= c.cfg.MaxBackoff/2 {
			d = c.cfg.MaxBackoff
			break
		}
		d *= 2
	}
	d = min(d, c.cfg.MaxBackoff)
	// Equal jitter: clients that failed together do not retry together.
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt sends r to node i once and hands the answer to handle.
func (c *Client) attempt(ctx context.Context, r *request, i int, handle handler) error {
	node := c.bases[i]
	u := node + r.path
	q := r.query
	if r.kv && r.timeout > 0 {
		if dl, ok := ctx.Deadline(); ok {
			q = cloneValues(q)
			q.Set("timeout", strconv.FormatInt(max(time.Until(dl).Milliseconds(), 1), 10))
		}
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrBadRequest, r.describe(), err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	// A value stored gzipped must come back as stored: asking for an
	// encoding ourselves stops net/http from decoding it in passing.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "cairn-go-client")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}

	res, err := c.hc.Do(req)
	if err != nil {
		e := &Error{Node: node, Message: err.Error(), err: ErrUnavailable, op: r.describe(), retry: true, unsent: dialFailed(err)}
		if ctx.Err() == nil {
			c.markDown(i, e)
		}
		return e
	}
	defer closeBody(res)
	if res.StatusCode >= 500 {
		e := statusError(r, res, node)
		if res.StatusCode == http.StatusServiceUnavailable && !isQuorum(e) {
			c.markDownFor(i, e, retryAfter(res.Header.Get("Retry-After")))
		} else {
			c.nodes.up(i)
		}
		return e
	}
	c.nodes.up(i)
	return handle(res, node)
}

func (c *Client) markDown(i int, err error) {
	c.markDownFor(i, err, c.cfg.DownFor)
}

// markDownFor marks node i down for d, at most DownFor.
func (c *Client) markDownFor(i int, err error, d time.Duration) {
	if c.nodes.downAtMost(i, c.now(), d) {
		c.log.Warn("client: node marked down", "node", c.bases[i], "for", min(d, c.cfg.DownFor), "err", err)
	}
}

// retryAfter reads a Retry-After of whole seconds (what a node that sheds
// load sends); anything else, or none, is a day, which DownFor caps.
func retryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 && s < 86400 {
		return time.Duration(s) * time.Second
	}
	return 24 * time.Hour
}

// statusError is the *Error of an answer that is not what the call wants.
func statusError(r *request, res *http.Response, node string) *Error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	msg := strings.TrimSpace(string(b))
	if msg == "" && (res.StatusCode < 400 || res.StatusCode >= 600) {
		msg = "unexpected status"
	}
	return &Error{
		Status:  res.StatusCode,
		Message: msg,
		Node:    node,
		err:     sentinelFor(res.StatusCode, msg),
		op:      r.describe(),
		retry:   res.StatusCode >= 500,
	}
}

// brokenError is the *Error of an answer whose body could not be read.
func brokenError(r *request, node string, err error, retry bool) *Error {
	return &Error{Node: node, Message: "reading the answer: " + err.Error(), err: ErrUnavailable, op: r.describe(), retry: retry}
}

// dialFailed reports whether err is a failure to open the connection: the
// request was never sent.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// closeBody drains a little of what is left, so the connection can be
// reused, and closes the body.
func closeBody(res *http.Response) {
	_, _ = io.CopyN(io.Discard, res.Body, 64<<10)
	_ = res.Body.Close()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+1)
	for k, vs := range v {
		out[k] = vs
	}
	return out
}
