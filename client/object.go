package client

import (
	"fmt"
	"net/url"
	"time"
)

// DefaultType is the bucket type a Location with an empty Type names.
const DefaultType = "default"

// Location names a key. An empty Type is the "default" bucket type.
type Location struct {
	Type, Bucket, Key string
}

// String is type/bucket/key, for logs and messages.
func (l Location) String() string { return l.typ() + "/" + l.Bucket + "/" + l.Key }

func (l Location) typ() string { return typeOrDefault(l.Type) }

func typeOrDefault(t string) string {
	if t == "" {
		return DefaultType
	}
	return t
}

// validate checks what the client can check before sending.
func (l Location) validate() error {
	switch {
	case l.Bucket == "":
		return fmt.Errorf("%w: %s: empty bucket", ErrBadRequest, l)
	case l.Key == "":
		return fmt.Errorf("%w: %s: empty key", ErrBadRequest, l)
	}
	return nil
}

// path is the key's Riak path. Each part is escaped as the server decodes
// it: a "/" in a key is %2F, a space "+", a plus %2B.
func (l Location) path() string {
	return bucketPath(l.Type, l.Bucket) + "/keys/" + url.QueryEscape(l.Key)
}

func bucketPath(typ, bucket string) string {
	return typePath(typ) + "/buckets/" + url.QueryEscape(bucket)
}

func typePath(typ string) string { return "/types/" + url.QueryEscape(typeOrDefault(typ)) }

// Link is a Riak link from a value to another key of the same bucket type,
// with a tag.
type Link struct {
	Bucket, Key, Tag string
}

// Sibling is one version of a value: the value and what describes it.
type Sibling struct {
	Value           []byte
	ContentType     string // media type with any parameters but charset
	Charset         string
	ContentEncoding string
	// Meta is the user metadata (X-Riak-Meta-* headers without the
	// prefix). The server keeps names lowercased.
	Meta  map[string]string
	Links []Link
	// LastModified is set by the server (to the second, as HTTP dates go).
	LastModified time.Time
	// VTag identifies the sibling among its object's siblings.
	VTag string
	// Deleted marks a tombstone. The server does not return tombstones as
	// siblings (a key with only tombstones is not found), so it is set
	// only by resolvers and callers that build siblings themselves.
	Deleted bool
}

// Object is a key's value as read: every sibling and the causal context
// that a write must carry to supersede them.
type Object struct {
	Location Location
	// Siblings are the versions no write has superseded yet: one for a
	// fresh or resolved object, several after concurrent writes.
	Siblings []Sibling
	// Context is the causal context (X-Riak-Vclock), opaque. Empty for a
	// new key: a write without it never replaces what is stored, it adds
	// a sibling.
	Context string
}

// NewObject returns an object for a first write of loc: one sibling, no
// context.
func NewObject(loc Location, value []byte, contentType string) *Object {
	return &Object{Location: loc, Siblings: []Sibling{{Value: value, ContentType: contentType}}}
}

// Value returns the value of the object's only sibling, or of the first
// when it has siblings; nil when it has none.
func (o *Object) Value() []byte {
	if o == nil || len(o.Siblings) == 0 {
		return nil
	}
	return o.Siblings[0].Value
}

// HasSiblings reports whether the object has more than one sibling.
func (o *Object) HasSiblings() bool { return o != nil && len(o.Siblings) > 1 }

// SetValue replaces every sibling by one holding value, and keeps the
// Context: a Put of the object then supersedes all the siblings it had.
func (o *Object) SetValue(value []byte, contentType string) {
	o.Siblings = []Sibling{{Value: value, ContentType: contentType}}
}
