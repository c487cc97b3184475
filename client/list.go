package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// ListKeys calls fn for every key of the bucket that holds a live value,
// streamed as the node finds them (?keys=stream); an error from fn stops
// the listing and is returned as is.
//
// Listing is expensive: the node scans every partition of every member of
// the cluster, and reads every key it finds from its replicas. It is for
// operators, tests and migrations, never for an application's request
// path; keep an index of your own instead. It fails (ErrUnavailable) when
// a member cannot be reached rather than leave its keys out.
//
// The listing is retried on another node only until the first key has
// been passed to fn, and Config.Timeout bounds the whole listing: give a
// Timeout option for a large bucket.
func (c *Client) ListKeys(ctx context.Context, typ, bucket string, fn func(key string) error, opts ...Option) error {
	if bucket == "" {
		return fmt.Errorf("%w: empty bucket", ErrBadRequest)
	}
	return c.list(ctx, bucketPath(typ, bucket)+"/keys", "keys", fn, opts)
}

// ListBuckets calls fn for every bucket of the type that holds at least
// one key (deleted keys whose tombstones remain count). As expensive as
// ListKeys, with the same retries and timeout; the buckets of a strongly
// consistent type cannot be listed (ErrBadRequest).
func (c *Client) ListBuckets(ctx context.Context, typ string, fn func(bucket string) error, opts ...Option) error {
	return c.list(ctx, typePath(typ)+"/buckets", "buckets", fn, opts)
}

// errStopped ends a listing whose callback failed; list returns the
// callback's error instead.
var errStopped = errors.New("client: listing stopped by its callback")

// list reads a stream of {"<field>":[…]} objects, back to back.
func (c *Client) list(ctx context.Context, path, field string, fn func(string) error, opts []Option) error {
	if fn == nil {
		return fmt.Errorf("%w: nil listing callback", ErrBadRequest)
	}
	o := collect(opts)
	r := &request{
		method: http.MethodGet, path: path, query: url.Values{field: {"stream"}},
		idempotent: true, kv: true, timeout: o.timeout,
	}
	delivered := 0
	var fnErr error
	err := c.do(ctx, r, func(res *http.Response, node string) error {
		if res.StatusCode != http.StatusOK {
			return statusError(r, res, node)
		}
		dec := json.NewDecoder(res.Body)
		for {
			var batch map[string][]string
			err := dec.Decode(&batch)
			if err == io.EOF {
				return nil
			}
			if err != nil {
				// The node aborts the stream when the listing fails
				// after it began: what came is not the whole list.
				return brokenError(r, node, fmt.Errorf("the listing broke off after %d %s: %w", delivered, field, err), delivered == 0)
			}
			for _, name := range batch[field] {
				delivered++
				if err := fn(name); err != nil {
					fnErr = err
					return errStopped
				}
			}
		}
	})
	if err == errStopped {
		return fnErr
	}
	return err
}
