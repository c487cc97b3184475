package client

import (
	"net/url"
	"strconv"
	"time"
)

// Quorum is a replica count for r, w, pr, pw, dw or rw: one of the named
// values or a number (Q). The server checks it against the bucket's n_val
// (ErrBadRequest when it exceeds it).
type Quorum string

// The named quorums. DefaultQuorum leaves the choice to the bucket's
// properties.
const (
	DefaultQuorum  Quorum = ""
	One            Quorum = "one"
	QuorumMajority Quorum = "quorum"
	All            Quorum = "all"
)

// Q is the quorum of n replicas.
func Q(n int) Quorum { return Quorum(strconv.Itoa(n)) }

// Option tunes one call. A call ignores the options that do not apply to
// it (W on a Get, R on a Put).
type Option func(*options)

type options struct {
	r, w, pr, pw, dw, rw    Quorum
	returnBody              *bool
	notFoundOK, basicQuorum *bool
	ifNoneMatch             bool
	timeout                 time.Duration
}

func collect(opts []Option) options {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// R is how many replicas a read (or the read before a delete without a
// context) waits for.
func R(q Quorum) Option { return func(o *options) { o.r = q } }

// W is how many replicas must acknowledge a write.
func W(q Quorum) Option { return func(o *options) { o.w = q } }

// PR is how many of the replicas a read waits for must be primaries.
func PR(q Quorum) Option { return func(o *options) { o.pr = q } }

// PW is how many of the acknowledging replicas must be primaries.
func PW(q Quorum) Option { return func(o *options) { o.pw = q } }

// DW is how many replicas must acknowledge a write as durable.
func DW(q Quorum) Option { return func(o *options) { o.dw = q } }

// RW is the quorum of a delete.
func RW(q Quorum) Option { return func(o *options) { o.rw = q } }

// ReturnBody makes Put return the stored object, every sibling.
func ReturnBody(b bool) Option { return func(o *options) { o.returnBody = &b } }

// NotFoundOK says whether a replica's "not found" counts towards r.
func NotFoundOK(b bool) Option { return func(o *options) { o.notFoundOK = &b } }

// BasicQuorum makes a read give up with "not found" once a majority of
// replicas said so.
func BasicQuorum(b bool) Option { return func(o *options) { o.basicQuorum = &b } }

// IfNoneMatch makes Put store the value only if the key does not exist
// (If-None-Match: *); ErrConflict otherwise. On a strongly consistent
// bucket type the check is atomic with the write. Elsewhere the server
// reads the key first, so two concurrent creates may both succeed and
// leave siblings.
func IfNoneMatch() Option { return func(o *options) { o.ifNoneMatch = true } }

// Timeout bounds the call instead of Config.Timeout (the context's
// deadline still applies if it is earlier), and asks the server to give up
// by then too.
func Timeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// query parameter sets, per kind of request.
func (o options) getQuery() url.Values {
	q := url.Values{}
	setQuorum(q, "r", o.r)
	setQuorum(q, "pr", o.pr)
	setBool(q, "notfound_ok", o.notFoundOK)
	setBool(q, "basic_quorum", o.basicQuorum)
	return q
}

func (o options) putQuery() url.Values {
	q := url.Values{}
	setQuorum(q, "w", o.w)
	setQuorum(q, "dw", o.dw)
	setQuorum(q, "pw", o.pw)
	if o.returnBody != nil && *o.returnBody {
		q.Set("returnbody", "true")
	}
	return q
}

func (o options) deleteQuery() url.Values {
	q := url.Values{}
	for _, p := range []struct {
		name string
		v    Quorum
	}{{"rw", o.rw}, {"r", o.r}, {"w", o.w}, {"pr", o.pr}, {"pw", o.pw}, {"dw", o.dw}} {
		setQuorum(q, p.name, p.v)
	}
	return q
}

func setQuorum(q url.Values, name string, v Quorum) {
	if v != DefaultQuorum {
		q.Set(name, string(v))
	}
}

func setBool(q url.Values, name string, v *bool) {
	if v != nil {
		q.Set(name, strconv.FormatBool(*v))
	}
}
