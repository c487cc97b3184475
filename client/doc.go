// Package client is the Go client of cairn: it speaks the cluster's
// Riak-compatible HTTP API, spreads calls over the nodes, retries what is
// safe to retry on another node, and gives siblings, causal contexts and
// resolvers a Go shape.
//
// # Model
//
// A key (Location: bucket type, bucket, key) holds an Object: the siblings
// no write has superseded yet, and a causal Context. A read returns the
// Context; a write that carries it supersedes exactly what the read saw.
// A write without it on an existing key, or two writes with the same
// context, leave siblings: nothing is silently lost. A Resolver (in the
// Config) turns siblings into one value on every read; the next write with
// the read's context then replaces them all. Update does that
// read-resolve-modify-write in one call.
//
// Keys of a strongly consistent bucket type never have siblings: a write
// must carry the current version's context, or create an absent key, else
// it fails with ErrConflict, on which Update reads again and retries.
//
// # Invariants
//
//   - A Put is never sent twice once it may have reached a node (only a
//     connection that could not be opened is retried): a second copy of
//     a write would be a sibling of the first. Reads, deletes, property
//     calls, listings, Ping and Stats are retried on other nodes after a
//     connection failure or a 5xx, with exponential backoff and jitter.
//   - A call never outlives its context, nor Config.Timeout (or its
//     Timeout option), retries and backoff included.
//   - Nodes are chosen round-robin; a node that cannot be reached or
//     answers 503 for itself (not a quorum error) is skipped for
//     Config.DownFor, unless every node is.
//   - Errors are *Error values wrapping one sentinel (ErrNotFound,
//     ErrQuorum, ErrConflict, ErrBadRequest, ErrUnknownBucketType,
//     ErrUnavailable) and carrying the status, the node and the server's
//     message; except when the call's context or timeout ends first: the
//     error then wraps context.DeadlineExceeded or context.Canceled (test
//     with errors.Is), and the last attempt's error when there was one. A
//     write that ends so may or may not have been applied.
//   - A value comes back byte for byte as stored, Content-Encoding
//     included: the client never decompresses it.
//
// # Listing
//
// ListKeys and ListBuckets scan every partition of every node in the
// cluster, and ListKeys then reads each key it finds from its replicas.
// They are for operators, tests and migrations, never for the request
// path of an application: keep an index of your own.
//
// # Usage
//
//	cfg := client.DefaultConfig()
//	cfg.Nodes = []string{"10.0.0.1:8098", "10.0.0.2:8098", "10.0.0.3:8098"}
//	cfg.Resolver = client.LastModifiedWins
//	c, err := client.New(cfg)
//	if err != nil { … }
//	defer c.Close()
//
//	loc := client.Location{Bucket: "users", Key: "ada"}
//	if _, err := c.Put(ctx, client.NewObject(loc, []byte(`{"name":"Ada"}`), "application/json")); err != nil { … }
//	obj, err := c.Get(ctx, loc)
//	switch {
//	case errors.Is(err, client.ErrNotFound): …
//	case err != nil: …
//	}
//	obj.SetValue([]byte(`{"name":"Ada Lovelace"}`), "application/json")
//	_, err = c.Put(ctx, obj) // carries obj.Context: supersedes what was read
//
//	// Or in one call, retried on conflict for consistent types:
//	_, err = c.Update(ctx, loc, func(old *client.Object) (*client.Object, error) {
//		old.SetValue(change(old.Value()), "application/json")
//		return old, nil
//	})
package client
