package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// Ping checks that a node answers (GET /ping). It tries the nodes as any
// call does, so it succeeds when one of them is up; make a Client with one
// node to check that node.
func (c *Client) Ping(ctx context.Context) error {
	r := &request{method: http.MethodGet, path: "/ping", idempotent: true}
	return c.do(ctx, r, func(res *http.Response, node string) error {
		if res.StatusCode != http.StatusOK {
			return statusError(r, res, node)
		}
		return nil
	})
}

// Stats returns one node's counters (GET /stats) with Riak's stat names:
// "nodename", "node_gets", "node_get_fsm_time" (an object of percentiles,
// in microseconds), ... Numbers decode as float64.
func (c *Client) Stats(ctx context.Context) (map[string]any, error) {
	r := &request{method: http.MethodGet, path: "/stats", idempotent: true}
	var stats map[string]any
	err := c.do(ctx, r, func(res *http.Response, node string) error {
		if res.StatusCode != http.StatusOK {
			return statusError(r, res, node)
		}
		if err := json.NewDecoder(res.Body).Decode(&stats); err != nil {
			return brokenError(r, node, err, true)
		}
		return nil
	})
	return stats, err
}
