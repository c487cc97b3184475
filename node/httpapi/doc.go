// Package httpapi serves Riak's KV HTTP API on top of a node.KV, so that
// Riak's documented curl examples and Riak HTTP clients work unchanged.
//
// # Endpoints
//
// {T} is a bucket type, {B} a bucket, {K} a key. Every /buckets/… path also
// exists as /types/{T}/buckets/…; the untyped form uses the "default" type.
//
//	GET|HEAD  /buckets/{B}/keys/{K}      fetch: 200, 300 siblings, 304, 404
//	PUT|POST  /buckets/{B}/keys/{K}      store: 204, 200/300 with returnbody, 412
//	DELETE    /buckets/{B}/keys/{K}      delete: 204, 404, 412
//	POST      /buckets/{B}/keys          store under a new random key: 201 + Location
//	GET       /buckets/{B}/keys?keys=true|stream   list keys (full scan)
//	GET       /buckets?buckets=true|stream         list buckets (full scan)
//	GET|PUT|DELETE /buckets/{B}/props    bucket properties: {"props":{…}}
//	GET|HEAD|PUT /types/{T}/props        bucket type properties: {"props":{…}}
//	                                     (PUT needs the metadata plane: 400 without)
//	GET|HEAD|PUT|POST|DELETE /riak/{B}/{K}   legacy (Riak 1.x) object paths
//	POST      /riak/{B}                  legacy create; GET/PUT /riak/{B} are props
//	GET       /ping                      200 "OK"
//	GET       /stats                     node.Stats as JSON (Riak's stat names)
//	GET       /metrics                   Prometheus, from the registry given to New
//	          /debug/pprof/…             only with Config.EnablePprof
//
// Listing keys or buckets scans every local partition of the node: it is
// expensive, as in Riak, and meant for operators and tests, not for the
// request path of an application. keys=true holds the whole list in memory;
// keys=stream sends JSON objects {"keys":[…]} back to back, one per batch of
// Config.ListBatchSize keys, flushing after each.
//
// Query parameters: r, pr, w, dw, pw, rw take one, quorum, all, default or a
// number (node.ParseQuorum); basic_quorum and notfound_ok take true, false
// or default; returnbody=true returns the stored object; vtag selects one
// sibling; timeout is a deadline in milliseconds for the whole request.
//
// # Invariants
//
//   - Path segments are decoded one by one from the escaped path, so a key
//     may contain "/" (sent as %2F), "..", or any byte. As in Riak (with
//     http_url_encoding on, its default) a "+" in a path segment or a Link
//     URL decodes to a space: a literal plus must be sent as %2B. Links are
//     emitted with the same encoding (spaces as "+").
//   - The causal context (X-Riak-Vclock) is opaque base64, bound to the key:
//     a context read from one key and sent to another is rejected with 400.
//     A write without context never replaces data: it adds a sibling. The
//     exception is a conditional write without X-Riak-Vclock whose
//     precondition held: it carries the context of the read the
//     precondition was checked against when that read found only
//     tombstones, or when If-Match / If-Unmodified-Since named the version
//     it replaces. It supersedes exactly what was checked; a concurrent
//     write it did not see survives as a sibling.
//   - Keys of a consistent bucket type (consistent: true) live in the
//     metadata plane and never have siblings: a write must carry the
//     current version's X-Riak-Vclock, or create a key that does not exist
//     (no vclock), and a delete must carry it; otherwise 412. Their
//     If-None-Match: * is checked by the plane atomically with the write
//     (node.PutOptions.IfNoneMatch), not by a read first; other
//     preconditions are evaluated against a read as for any key. Quorum
//     parameters are ignored for them, as in Riak.
//   - A request body is read through http.MaxBytesReader: nothing beyond
//     Config.MaxObjectSize is ever buffered (413).
//   - Siblings are the live (non-deleted) contents of an object. If only
//     tombstones remain, the key is not found: 404 with the tombstone's
//     X-Riak-Vclock so that a client can write over it causally.
//   - Every error answer is text/plain and says what was wrong. A panic in
//     a handler is logged with its stack and answered with 500 (or, if the
//     answer had started, the connection is aborted): it never escapes.
//   - Handlers pass r.Context() (bounded by ?timeout=) to node.KV.
//
// # Status codes
//
//	200  fetched / stored with returnbody
//	201  created by POST without a key (Location header)
//	204  stored, deleted, props set or reset
//	300  siblings: text/plain "Siblings:\n<vtag>\n…", or multipart/mixed
//	     when the request accepts it (one part per live sibling)
//	304  If-None-Match / If-Modified-Since hit on GET or HEAD
//	400  malformed path, query parameter, header, context or JSON; missing
//	     Content-Type on a store; node.ErrBadRequest, ErrBadProps,
//	     ErrQuorumTooLarge; object.ErrMalformedContext, ErrForeignContext
//	404  not found (node.ErrNotFound), unknown vtag, unknown path, unknown
//	     bucket type (node.ErrUnknownBucketType, as Riak answers)
//	405  method not allowed on the path (with an Allow header)
//	409  node.ErrTooManySiblings: the write would add a sibling beyond the
//	     node's max siblings; read, resolve and write back with the
//	     read's X-Riak-Vclock (such a write is never refused)
//	412  a failed If-Match / If-None-Match / If-Unmodified-Since on PUT,
//	     POST or DELETE (and If-Match / If-Unmodified-Since on GET);
//	     node.ErrConflict (a stale or missing vclock on a consistent type)
//	413  body larger than Config.MaxObjectSize, or node.ErrTooLarge
//	415  PUT props with a Content-Type other than application/json
//	503  node.ErrQuorumNotMet, node.ErrClosed, node.ErrUnavailable (the
//	     metadata plane has no leader or quorum), or a timeout
//	500  anything else (logged)
//
// # Usage
//
//	reg := prometheus.NewRegistry()
//	api, err := httpapi.New(httpapi.DefaultConfig(), node, logger, reg)
//	if err != nil { … }
//	// Tokens, body limit, load shedding and the server's timeouts:
//	h, err := httpguard.New(gcfg, tokens, api, logger, reg)
//	srv := gcfg.Server(h, logger)
package httpapi
