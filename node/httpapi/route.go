package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/cairnkv/cairn/node"
)

// routeKind is the resource a KV path names.
type routeKind int

const (
	routeObject       routeKind = iota + 1 // …/buckets/B/keys/K, /riak/B/K
	routeKeys                              // …/buckets/B/keys
	routeBuckets                           // …/buckets
	routeProps                             // …/buckets/B/props
	routeLegacyBucket                      // /riak/B
	routeTypeProps                         // /types/T/props
)

// String is the route's metrics label.
func (k routeKind) String() string {
	switch k {
	case routeObject:
		return "object"
	case routeKeys:
		return "keys"
	case routeBuckets:
		return "buckets"
	case routeProps:
		return "props"
	case routeLegacyBucket:
		return "legacy_bucket"
	case routeTypeProps:
		return "type_props"
	}
	return "unmatched"
}

// methods lists what the resource answers, for routing and for Allow.
func (k routeKind) methods() []string {
	switch k {
	case routeObject:
		return []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete}
	case routeKeys:
		return []string{http.MethodGet, http.MethodHead, http.MethodPost}
	case routeBuckets:
		return []string{http.MethodGet, http.MethodHead}
	case routeProps:
		return []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete}
	case routeLegacyBucket:
		return []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost}
	case routeTypeProps:
		return []string{http.MethodGet, http.MethodHead, http.MethodPut}
	}
	return nil
}

// route is a parsed KV path. typ, bucket and key are decoded.
type route struct {
	kind   routeKind
	typ    string
	bucket string
	key    string
	typed  bool // the path named its type: /types/T/…
	legacy bool // the path is Riak 1.x's /riak/…
}

// location is the key the route names.
func (rt route) location() node.Location {
	return node.Location{Type: rt.typ, Bucket: rt.bucket, Key: rt.key}
}

// objectPath is the path of key in the route's bucket, in the route's own
// form (typed, untyped or legacy): what a Location header points to.
func (rt route) objectPath(key string) string {
	switch {
	case rt.legacy:
		return "/riak/" + escapeSegment(rt.bucket) + "/" + escapeSegment(key)
	case rt.typed:
		return "/types/" + escapeSegment(rt.typ) + "/buckets/" + escapeSegment(rt.bucket) + "/keys/" + escapeSegment(key)
	}
	return "/buckets/" + escapeSegment(rt.bucket) + "/keys/" + escapeSegment(key)
}

// validate checks the parts the route names against node's limits.
func (rt route) validate() error {
	loc := rt.location()
	switch rt.kind {
	case routeBuckets, routeTypeProps:
		loc.Bucket, loc.Key = "-", "-"
	case routeKeys, routeProps, routeLegacyBucket:
		loc.Key = "-"
	}
	return loc.Validate()
}

// parseRoute reads a KV path from the escaped request path. ok is false
// when the path is not a KV path at all (it belongs to the fixed mux); err
// is set when it is one but malformed or unknown.
func parseRoute(escaped string) (rt route, ok bool, err error) {
	if !strings.HasPrefix(escaped, "/") {
		return route{}, false, nil
	}
	segs := strings.Split(escaped[1:], "/")
	switch segs[0] {
	case "buckets", "types", "riak":
	default:
		return route{}, false, nil
	}
	rt, err = matchRoute(segs)
	if err != nil {
		return rt, true, err
	}
	return rt, true, rt.validate()
}

func matchRoute(segs []string) (route, error) {
	rt := route{typ: node.DefaultType}
	var err error
	if segs[0] == "riak" {
		rt.legacy = true
		switch len(segs) {
		case 2:
			rt.kind = routeLegacyBucket
		case 3:
			rt.kind = routeObject
			if rt.key, err = unescapeSegment(segs[2]); err != nil {
				return rt, err
			}
		default:
			return rt, notFoundPath(segs)
		}
		rt.bucket, err = unescapeSegment(segs[1])
		return rt, err
	}
	if segs[0] == "types" {
		if len(segs) < 3 || (segs[2] != "buckets" && segs[2] != "props") || (segs[2] == "props" && len(segs) > 3) {
			return rt, notFoundPath(segs)
		}
		if rt.typ, err = unescapeSegment(segs[1]); err != nil {
			return rt, err
		}
		rt.typed = true
		if segs[2] == "props" {
			rt.kind = routeTypeProps
			return rt, nil
		}
		segs = segs[2:]
	}
	// segs[0] == "buckets"
	switch {
	case len(segs) == 1:
		rt.kind = routeBuckets
		return rt, nil
	case len(segs) == 3 && segs[2] == "keys":
		rt.kind = routeKeys
	case len(segs) == 3 && segs[2] == "props":
		rt.kind = routeProps
	case len(segs) == 4 && segs[2] == "keys":
		rt.kind = routeObject
		if rt.key, err = unescapeSegment(segs[3]); err != nil {
			return rt, err
		}
	default:
		return rt, notFoundPath(segs)
	}
	rt.bucket, err = unescapeSegment(segs[1])
	return rt, err
}

func notFoundPath(segs []string) error {
	return errStatus(http.StatusNotFound, "no such resource: /%s (want /buckets/BUCKET/keys/KEY, "+
		"/buckets/BUCKET/keys, /buckets/BUCKET/props or /buckets, optionally under /types/TYPE; or /types/TYPE/props)", strings.Join(segs, "/"))
}

// unescapeSegment decodes one path segment as Riak does: %XX escapes, and
// "+" for a space.
func unescapeSegment(s string) (string, error) {
	v, err := url.QueryUnescape(s)
	if err != nil {
		return "", errStatus(http.StatusBadRequest, "malformed path segment %q: %v", s, err)
	}
	return v, nil
}

// escapeSegment is unescapeSegment's inverse (spaces become "+", as Riak's
// quote_plus writes them, and "/" becomes %2F).
func escapeSegment(s string) string { return url.QueryEscape(s) }
