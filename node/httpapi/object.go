package httpapi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/http"
	"time"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// getObject answers GET and HEAD of a key.
func (a *API) getObject(w http.ResponseWriter, r *http.Request, rt route, q query) error {
	loc := rt.location()
	obj, err := a.kv.Get(r.Context(), loc, q.getOptions())
	if err != nil && !errors.Is(err, node.ErrNotFound) {
		return err
	}
	cond := parseConditions(r.Header)
	live := liveContents(obj)
	if err != nil || len(live) == 0 {
		if cond.check(r.Method, false, nil, time.Time{}) == http.StatusPreconditionFailed {
			return errStatus(http.StatusPreconditionFailed, "precondition failed: If-Match on a key that does not exist")
		}
		writeNotFound(w, obj, loc)
		return nil
	}
	sel := live
	if q.hasVtag {
		c, ok := obj.Sibling(q.vtag)
		if !ok || c.Deleted {
			return errStatus(http.StatusNotFound, "not found: no live sibling with vtag %q", q.vtag)
		}
		sel = []object.Content{c}
	}
	switch cond.check(r.Method, true, vtags(sel), latest(sel)) {
	case http.StatusNotModified:
		writeNotModified(w, obj, sel, loc)
		return nil
	case http.StatusPreconditionFailed:
		return errStatus(http.StatusPreconditionFailed, "precondition failed: the current version does not match If-Match / If-Unmodified-Since")
	}
	writeObject(w, r, rt, obj, sel, http.StatusOK)
	return nil
}

// putObject answers PUT and POST of a key; created is set when the key was
// chosen by createObject.
func (a *API) putObject(w http.ResponseWriter, r *http.Request, rt route, q query, created bool) error {
	loc := rt.location()
	if r.ContentLength > a.cfg.MaxObjectSize {
		return &http.MaxBytesError{Limit: a.cfg.MaxObjectSize}
	}
	c, err := parseContentHeaders(r.Header)
	if err != nil {
		return err
	}
	causal, err := parseVclock(r.Header, loc)
	if err != nil {
		return err
	}
	cond := parseConditions(r.Header)
	create, err := a.atomicCreate(r, loc, cond)
	if err != nil {
		return err
	}
	if create {
		cond = cond.withoutIfNoneMatch()
	}
	// Preconditions are checked before the body is read: a refused write
	// should not cost the upload.
	if causal, err = a.checkWrite(r, loc, q, cond, causal); err != nil {
		return err
	}
	if c.Value, err = a.readBody(w, r, loc); err != nil {
		return err
	}
	opts := q.putOptions(causal)
	opts.IfNoneMatch = create
	res, err := a.kv.Put(r.Context(), loc, c, opts)
	if err != nil {
		return err
	}
	status := http.StatusNoContent
	if created {
		w.Header().Set("Location", rt.objectPath(loc.Key))
		status = http.StatusCreated
	}
	live := liveContents(res)
	if !q.returnBody || len(live) == 0 {
		w.WriteHeader(status)
		return nil
	}
	if !created {
		status = http.StatusOK
	}
	writeObject(w, r, rt, res, live, status)
	return nil
}

// createObject answers POST to a bucket's keys: a put under a new key.
func (a *API) createObject(w http.ResponseWriter, r *http.Request, rt route, q query) error {
	rt.kind, rt.key = routeObject, newKey()
	if err := rt.validate(); err != nil {
		return err
	}
	return a.putObject(w, r, rt, q, true)
}

// deleteObject answers DELETE of a key.
func (a *API) deleteObject(w http.ResponseWriter, r *http.Request, rt route, q query) error {
	loc := rt.location()
	causal, err := parseVclock(r.Header, loc)
	if err != nil {
		return err
	}
	if causal, err = a.checkWrite(r, loc, q, parseConditions(r.Header), causal); err != nil {
		return err
	}
	if err := a.kv.Delete(r.Context(), loc, q.deleteOptions(causal)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// atomicCreate reports whether a write's If-None-Match: * is left to the
// node (PutOptions.IfNoneMatch) rather than emulated by checkWrite: it is
// when the bucket is of a consistent type, whose writes the metadata plane
// checks atomically. Elsewhere a read-then-write is the best there is.
func (a *API) atomicCreate(r *http.Request, loc node.Location, cond conditions) (bool, error) {
	if !cond.ifNoneMatchAny() {
		return false, nil
	}
	p, err := a.kv.BucketProps(r.Context(), loc.Type, loc.Bucket)
	if err != nil {
		return false, err
	}
	return p.Consistent, nil
}

// checkWrite evaluates a write's preconditions cond, if it has any, against
// a read of the key, and returns the causal context the write should carry:
// the client's, or, when the client sent none, that of the read if the
// precondition vouched for what it saw (see below).
func (a *API) checkWrite(r *http.Request, loc node.Location, q query, cond conditions, causal object.Context) (object.Context, error) {
	if !cond.any() {
		return causal, nil
	}
	cur, err := a.kv.Get(r.Context(), loc, q.getOptions())
	if err != nil && !errors.Is(err, node.ErrNotFound) {
		return causal, err
	}
	live := liveContents(cur)
	exists := err == nil && len(live) > 0
	if cond.check(r.Method, exists, vtags(live), latest(live)) != 0 {
		if exists {
			return causal, errStatus(http.StatusPreconditionFailed, "precondition failed: the key exists and does not match If-Match / If-None-Match / If-Unmodified-Since")
		}
		return causal, errStatus(http.StatusPreconditionFailed, "precondition failed: If-Match on a key that does not exist")
	}
	// Without a client context, take the read's when that loses nothing the
	// client did not vouch for: the version If-Match / If-Unmodified-Since
	// named, or tombstones only (so that a create over a deleted key does
	// not leave the delete behind as a sibling).
	if causal.IsZero() && cur != nil && (cond.guardsWrite() || !exists) {
		causal = cur.Context()
	}
	return causal, nil
}

// parseContentHeaders reads what describes a stored value: Content-Type
// (required), Content-Encoding, X-Riak-Meta-* and Link.
func parseContentHeaders(h http.Header) (object.Content, error) {
	ct, charset, err := parseContentType(h)
	if err != nil {
		return object.Content{}, err
	}
	meta, err := parseMeta(h)
	if err != nil {
		return object.Content{}, err
	}
	links, err := parseLinks(h.Values("Link"))
	if err != nil {
		return object.Content{}, err
	}
	return object.Content{
		ContentType:     ct,
		Charset:         charset,
		ContentEncoding: h.Get("Content-Encoding"),
		Meta:            meta,
		Links:           links,
	}, nil
}

// readBody reads the request body, never more than MaxObjectSize.
func (a *API) readBody(w http.ResponseWriter, r *http.Request, loc node.Location) ([]byte, error) {
	limit := a.cfg.MaxObjectSize
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength)) // bounded by the check in putObject
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, errStatus(http.StatusBadRequest, "reading the request body: %v", err)
	}
	if n := int64(buf.Len()); a.cfg.WarnObjectSize > 0 && n > a.cfg.WarnObjectSize {
		a.log.Warn("httpapi: large object stored", "location", loc.String(), "size", n, "warn_size", a.cfg.WarnObjectSize)
	}
	return buf.Bytes(), nil
}

// newKey returns a fresh key for a POST without one: 20 characters of
// [0-9A-Za-z] (119 bits), like Riak's. It uses crypto/rand rather than the
// configured seeded source: keys chosen by different nodes must not
// collide, and a seed shared by a test cluster would make them.
func newKey() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	const n = 20
	key := make([]byte, 0, n)
	var buf [32]byte
	for len(key) < n {
		_, _ = rand.Read(buf[:]) // never fails (crypto/rand panics instead)
		for _, b := range buf {
			// 248 = 4*62: rejecting the rest keeps the choice uniform.
			if b < 248 && len(key) < n {
				key = append(key, alphabet[b%62])
			}
		}
	}
	return string(key)
}
