package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
)

// Get reads loc. With siblings, the Object holds them all, unless the
// Config has a Resolver, which turns them into one. The Object's Context
// goes back with the next Put, so that the write supersedes what was read.
//
// A key that does not exist, or was deleted, is ErrNotFound; the Object
// returned with it is not nil: it has no siblings and, if the key was
// deleted, the tombstone's Context, so that a Put over the delete is
// causal. Options: R, PR, NotFoundOK, BasicQuorum, Timeout.
func (c *Client) Get(ctx context.Context, loc Location, opts ...Option) (*Object, error) {
	if err := loc.validate(); err != nil {
		return nil, err
	}
	o := collect(opts)
	r := &request{
		method: http.MethodGet, path: loc.path(), query: o.getQuery(),
		header:     http.Header{"Accept": {acceptSiblings}},
		idempotent: true, kv: true, timeout: o.timeout,
	}
	var obj *Object
	err := c.do(ctx, r, func(res *http.Response, node string) error {
		obj = nil
		if res.StatusCode == http.StatusNotFound {
			obj = &Object{Location: loc, Context: res.Header.Get(hdrVclock)}
		}
		var err error
		obj, err = readObject(r, res, node, loc, obj)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) && obj != nil {
			return obj, err
		}
		return nil, err
	}
	return c.resolve(obj)
}

// readObject reads an answer that holds an object: 200 with one sibling,
// 300 with several. Any other status is the call's error, returned with
// obj as it was.
func readObject(r *request, res *http.Response, node string, loc Location, obj *Object) (*Object, error) {
	switch res.StatusCode {
	case http.StatusOK, http.StatusCreated:
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(res.Body); err != nil {
			return obj, brokenError(r, node, err, true)
		}
		s := readSibling(textproto.MIMEHeader(res.Header), buf.Bytes())
		return &Object{Location: loc, Siblings: []Sibling{s}, Context: res.Header.Get(hdrVclock)}, nil
	case http.StatusMultipleChoices:
		sibs, err := readSiblings(res)
		if err != nil {
			return obj, brokenError(r, node, err, true)
		}
		return &Object{Location: loc, Siblings: sibs, Context: res.Header.Get(hdrVclock)}, nil
	}
	return obj, statusError(r, res, node)
}

// resolve applies the Config's Resolver to an object with siblings.
func (c *Client) resolve(o *Object) (*Object, error) {
	if c.cfg.Resolver == nil || o == nil || len(o.Siblings) < 2 {
		return o, nil
	}
	s, err := c.cfg.Resolver.Resolve(o.Location, o.Siblings)
	if err != nil {
		return nil, fmt.Errorf("client: resolving the %d siblings of %s: %w", len(o.Siblings), o.Location, err)
	}
	o.Siblings = []Sibling{s}
	return o, nil
}

// Put writes o's only sibling to o.Location with o.Context: the write
// supersedes what the read that gave the context saw, and becomes a
// sibling of anything written concurrently. An object with no context
// (NewObject) is a blind write: on an existing key it adds a sibling.
//
// With ReturnBody(true), Put returns the stored object, every sibling
// (unresolved). Otherwise it returns an Object with just the new Context
// if the server gave one, else nil.
//
// Put is not retried once the request may have reached a node: sent twice,
// one write would become two siblings. Options: W, DW, PW, ReturnBody,
// IfNoneMatch, Timeout.
func (c *Client) Put(ctx context.Context, o *Object, opts ...Option) (*Object, error) {
	if o == nil {
		return nil, fmt.Errorf("%w: Put of a nil object", ErrBadRequest)
	}
	loc := o.Location
	if err := loc.validate(); err != nil {
		return nil, err
	}
	if len(o.Siblings) != 1 {
		return nil, fmt.Errorf("%w: Put of %s with %d siblings: resolve them into one first (SetValue, or a Resolver)",
			ErrBadRequest, loc, len(o.Siblings))
	}
	s := o.Siblings[0]
	if s.Deleted {
		return nil, fmt.Errorf("%w: Put of %s: the sibling is a tombstone; use Delete", ErrBadRequest, loc)
	}
	h := http.Header{}
	if err := contentHeaders(h, s); err != nil {
		return nil, fmt.Errorf("client: Put of %s: %w", loc, err)
	}
	if o.Context != "" {
		if !validHeaderValue(o.Context) {
			return nil, fmt.Errorf("%w: Put of %s: malformed context", ErrBadRequest, loc)
		}
		h.Set(hdrVclock, o.Context)
	}
	op := collect(opts)
	if op.ifNoneMatch {
		h.Set("If-None-Match", "*")
	}
	if op.returnBody != nil && *op.returnBody {
		h.Set("Accept", acceptSiblings)
	}
	value := s.Value
	if value == nil {
		value = []byte{}
	}
	r := &request{
		method: http.MethodPut, path: loc.path(), query: op.putQuery(), header: h, body: value,
		kv: true, timeout: op.timeout,
	}
	var out *Object
	err := c.do(ctx, r, func(res *http.Response, node string) error {
		out = nil
		if res.StatusCode == http.StatusNoContent {
			if vc := res.Header.Get(hdrVclock); vc != "" {
				out = &Object{Location: loc, Context: vc}
			}
			return nil
		}
		var err error
		// The write happened: a body that cannot be read is not a reason
		// to send it again.
		out, err = readObject(r, res, node, loc, nil)
		if e, ok := err.(*Error); ok {
			e.retry = false
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete deletes loc. With the context of a read, the delete supersedes
// what that read saw (and a concurrent write survives it as a sibling);
// with "", it supersedes whatever the node reads first. On a strongly
// consistent bucket type the context must be the current version's
// (ErrConflict otherwise).
//
// A key that does not exist is ErrNotFound. Delete is retried like a read,
// so a delete whose answer was lost may report ErrNotFound on its retry:
// callers that only want the key gone can treat ErrNotFound as success.
// Options: RW, R, W, PR, PW, DW, Timeout.
func (c *Client) Delete(ctx context.Context, loc Location, context string, opts ...Option) error {
	if err := loc.validate(); err != nil {
		return err
	}
	h := http.Header{}
	if context != "" {
		if !validHeaderValue(context) {
			return fmt.Errorf("%w: Delete of %s: malformed context", ErrBadRequest, loc)
		}
		h.Set(hdrVclock, context)
	}
	o := collect(opts)
	r := &request{
		method: http.MethodDelete, path: loc.path(), query: o.deleteQuery(), header: h,
		idempotent: true, kv: true, timeout: o.timeout,
	}
	return c.do(ctx, r, expectNoContent(r))
}
