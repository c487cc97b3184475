package httpapi

import (
	"net/http"
	"strings"
	"time"
)

// conditions are a request's precondition headers (RFC 9110 §13).
type conditions struct {
	ifMatch, ifNoneMatch               []entityTag
	hasIfMatch, hasIfNoneMatch         bool
	ifModifiedSince, ifUnmodifiedSince time.Time // zero: absent or not a date
}

// entityTag is one element of an If-Match / If-None-Match list.
type entityTag struct {
	tag      string // without quotes
	weak     bool
	wildcard bool // an unquoted "*": any current representation
}

func parseConditions(h http.Header) conditions {
	var c conditions
	if vs := h.Values("If-Match"); len(vs) > 0 {
		c.hasIfMatch, c.ifMatch = true, parseETags(vs)
	}
	if vs := h.Values("If-None-Match"); len(vs) > 0 {
		c.hasIfNoneMatch, c.ifNoneMatch = true, parseETags(vs)
	}
	c.ifModifiedSince = parseDate(h.Get("If-Modified-Since"))
	c.ifUnmodifiedSince = parseDate(h.Get("If-Unmodified-Since"))
	return c
}

// parseDate reads an HTTP date; an unparsable one is ignored (the zero
// time), as RFC 9110 says. An absent header, the usual case, is not
// handed to http.ParseTime, whose three failed attempts at "" cost more
// allocations than the rest of a plain request's header parsing.
func parseDate(v string) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// any reports whether the request is conditional at all.
func (c conditions) any() bool {
	return c.hasIfMatch || c.hasIfNoneMatch || !c.ifModifiedSince.IsZero() || !c.ifUnmodifiedSince.IsZero()
}

// ifNoneMatchAny reports whether If-None-Match is "*" (or lists it): the
// write must create the key.
func (c conditions) ifNoneMatchAny() bool {
	for _, t := range c.ifNoneMatch {
		if t.wildcard {
			return true
		}
	}
	return false
}

// withoutIfNoneMatch is c without its If-None-Match, for a write whose
// If-None-Match the node checks itself.
func (c conditions) withoutIfNoneMatch() conditions {
	c.hasIfNoneMatch, c.ifNoneMatch = false, nil
	return c
}

// guardsWrite reports whether a write checked against these conditions
// replaces what they were checked against (If-Match, If-Unmodified-Since
// name an existing version; If-None-Match: * only asserts absence).
func (c conditions) guardsWrite() bool {
	return c.hasIfMatch || !c.ifUnmodifiedSince.IsZero()
}

// check evaluates the conditions, in RFC 9110 §13.2.2's order, against the
// current state: whether the resource exists, its entity tags (one per live
// sibling) and its last modification. It returns 0 when the request may
// proceed, 304 (GET/HEAD) or 412.
func (c conditions) check(method string, exists bool, etags []string, lastMod time.Time) int {
	safe := method == http.MethodGet || method == http.MethodHead
	lastMod = lastMod.Truncate(time.Second) // HTTP dates have second precision
	if c.hasIfMatch {
		if !exists || !matchETags(c.ifMatch, etags, true) {
			return http.StatusPreconditionFailed
		}
	} else if !c.ifUnmodifiedSince.IsZero() && exists && !lastMod.IsZero() && lastMod.After(c.ifUnmodifiedSince) {
		return http.StatusPreconditionFailed
	}
	if c.hasIfNoneMatch {
		if exists && matchETags(c.ifNoneMatch, etags, false) {
			if safe {
				return http.StatusNotModified
			}
			return http.StatusPreconditionFailed
		}
	} else if safe && !c.ifModifiedSince.IsZero() && exists && !lastMod.IsZero() && !lastMod.After(c.ifModifiedSince) {
		return http.StatusNotModified
	}
	return 0
}

// matchETags reports whether any tag in list matches any of etags; strong
// comparison (If-Match) never matches a weak tag.
func matchETags(list []entityTag, etags []string, strong bool) bool {
	for _, t := range list {
		if t.wildcard {
			return true
		}
		if strong && t.weak {
			continue
		}
		for _, e := range etags {
			if t.tag == e {
				return true
			}
		}
	}
	return false
}

// parseETags reads a comma-separated list of entity tags. It is lenient:
// an unquoted tag (as some Riak clients send the bare vtag) is taken as is.
func parseETags(values []string) []entityTag {
	var out []entityTag
	for _, v := range values {
		for len(v) > 0 {
			v = strings.TrimLeft(v, " \t,")
			if v == "" {
				break
			}
			var t entityTag
			if strings.HasPrefix(v, "W/") {
				t.weak, v = true, v[2:]
			}
			if strings.HasPrefix(v, `"`) {
				end := strings.IndexByte(v[1:], '"')
				if end < 0 {
					t.tag, v = v[1:], ""
				} else {
					t.tag, v = v[1:1+end], v[2+end:]
				}
			} else {
				end := strings.IndexAny(v, ", \t")
				if end < 0 {
					end = len(v)
				}
				t.tag, v = v[:end], v[end:]
				t.wildcard = t.tag == "*" && !t.weak
			}
			out = append(out, t)
		}
	}
	return out
}
