package object

import (
	"errors"
	"time"
)

// Actor identifies the replica that coordinated a write: a vnode, spelled
// "<node id>/<partition>". Clients are never actors, so a clock has at most
// one entry per replica that ever coordinated a write of the key.
type Actor string

// Link is a Riak link (HTTP Link header), stored and returned as given.
type Link struct {
	Bucket string `msgpack:"b"`
	Key    string `msgpack:"k"`
	Tag    string `msgpack:"t"`
}

// Content is one sibling: a value and what describes it.
type Content struct {
	Value           []byte            `msgpack:"v"`
	ContentType     string            `msgpack:"ct"`
	Charset         string            `msgpack:"cs,omitempty"`
	ContentEncoding string            `msgpack:"ce,omitempty"`
	Meta            map[string]string `msgpack:"m,omitempty"` // X-Riak-Meta-* without the prefix
	Links           []Link            `msgpack:"l,omitempty"`
	LastModified    time.Time         `msgpack:"lm"`
	Deleted         bool              `msgpack:"d,omitempty"`
	// VTag names this sibling (ETag, ?vtag=). Update derives it from the
	// write's dot, so it is unique per write and stable across replicas.
	VTag string `msgpack:"vt"`
}

// Errors from decoding.
var (
	ErrCorrupt          = errors.New("object: corrupt encoding")
	ErrVersion          = errors.New("object: unsupported encoding version")
	ErrMalformedContext = errors.New("object: malformed causal context")
	ErrForeignContext   = errors.New("object: causal context belongs to another key")
)
