package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Props are bucket or bucket type properties with Riak's names and JSON
// types: "n_val" (a number), "allow_mult" (a bool), "r" ("quorum", "all",
// "one" or a number), ... Numbers decode as float64.
type Props map[string]any

// BucketProps returns the effective properties of a bucket: its own, or its
// type's. The server adds "name". An unknown type is ErrUnknownBucketType.
func (c *Client) BucketProps(ctx context.Context, typ, bucket string) (Props, error) {
	if bucket == "" {
		return nil, fmt.Errorf("%w: empty bucket", ErrBadRequest)
	}
	return c.getProps(ctx, bucketPath(typ, bucket)+"/props")
}

// TypeProps returns a bucket type's properties.
func (c *Client) TypeProps(ctx context.Context, typ string) (Props, error) {
	return c.getProps(ctx, typePath(typ)+"/props")
}

func (c *Client) getProps(ctx context.Context, path string) (Props, error) {
	r := &request{method: http.MethodGet, path: path, idempotent: true, kv: true}
	var p Props
	err := c.do(ctx, r, func(res *http.Response, node string) error {
		if res.StatusCode != http.StatusOK {
			return statusError(r, res, node)
		}
		var doc struct {
			Props Props `json:"props"`
		}
		if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
			return brokenError(r, node, err, true)
		}
		p = doc.Props
		return nil
	})
	return p, err
}

// SetBucketProps merges p into the bucket's properties: the names present
// change, the others keep their values. The server validates the result
// (ErrBadRequest, with why, for an unknown name or an invalid value);
// read-only names a BucketProps returned ("name") are ignored, so what was
// read can be sent back.
func (c *Client) SetBucketProps(ctx context.Context, typ, bucket string, p Props) error {
	if bucket == "" {
		return fmt.Errorf("%w: empty bucket", ErrBadRequest)
	}
	if p == nil {
		p = Props{}
	}
	body, err := json.Marshal(struct {
		Props Props `json:"props"`
	}{p})
	if err != nil {
		return fmt.Errorf("%w: bucket properties: %v", ErrBadRequest, err)
	}
	r := &request{
		method: http.MethodPut, path: bucketPath(typ, bucket) + "/props",
		header: http.Header{"Content-Type": {"application/json"}}, body: body,
		idempotent: true, kv: true,
	}
	return c.do(ctx, r, expectNoContent(r))
}

// ResetBucketProps drops the bucket's own properties: it follows its
// type's again.
func (c *Client) ResetBucketProps(ctx context.Context, typ, bucket string) error {
	if bucket == "" {
		return fmt.Errorf("%w: empty bucket", ErrBadRequest)
	}
	r := &request{method: http.MethodDelete, path: bucketPath(typ, bucket) + "/props", idempotent: true, kv: true}
	return c.do(ctx, r, expectNoContent(r))
}

// expectNoContent accepts a 204 (or a 200) and nothing else.
func expectNoContent(r *request) handler {
	return func(res *http.Response, node string) error {
		if res.StatusCode == http.StatusNoContent || res.StatusCode == http.StatusOK {
			return nil
		}
		return statusError(r, res, node)
	}
}
