package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/cairnkv/cairn/meta/adminapi"
)

// maxAnswer bounds what cairnctl reads of an answer: a ring of the
// largest size is well under it.
const maxAnswer = 64 << 20

// client speaks the admin API of one node.
type client struct {
	base    string // scheme://host:port[/prefix], no trailing slash
	timeout time.Duration
	token   string // sent as a bearer token when set
	http    *http.Client
}

// newClient is a client of the node at base; tc (nil: the system's
// roots) verifies an https:// node's certificate.
func newClient(base string, timeout time.Duration, tc *tls.Config, token string) *client {
	hc := &http.Client{}
	if tc != nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tc
		hc.Transport = t
	}
	return &client{base: base, timeout: timeout, token: token, http: hc}
}

// at is a client of the node at base with c's settings and connections.
func (c *client) at(base string) *client {
	cc := *c
	cc.base = base
	return &cc
}

// apiError is an error answer of the admin API: its message is the
// server's.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// do sends method path with in encoded as JSON (none when in is nil),
// decodes a 2xx answer into out (when out is not nil and there is a body)
// and returns the answer's raw body.
func (c *client) do(ctx context.Context, method, path string, in, out any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, answerError(resp, raw)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, fmt.Errorf("%s answered %s %s with JSON cairnctl cannot read: %w", c.base, method, path, err)
		}
	}
	return raw, nil
}

// transportError says what went wrong reaching the node, and what to try.
func (c *client) transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to the cairn node at %s: connection refused; "+
			"is it running? point --node (or CAIRN_NODE) at a node's HTTP address", c.base)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("no answer from the cairn node at %s within %s; raise --timeout or try another --node", c.base, c.timeout)
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	}
	return fmt.Errorf("cannot reach the cairn node at %s: %w", c.base, err)
}

// answerError turns an error answer into an error: the server's message
// when it sent an adminapi.ErrorResponse, the status and the start of
// whatever it sent otherwise (a proxy, or a node without the admin API).
func answerError(resp *http.Response, raw []byte) error {
	var e adminapi.ErrorResponse
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		return &apiError{status: resp.StatusCode, msg: e.Error}
	}
	text := strings.TrimSpace(string(raw))
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	msg := resp.Status
	if text != "" {
		msg += ": " + text
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		msg += " (give a token with --token or CAIRN_TOKEN)"
	case http.StatusForbidden:
		msg += " (this command needs an admin token)"
	}
	return &apiError{status: resp.StatusCode, msg: msg}
}
