package object

import "encoding/binary"

// AppendVersion appends to b a canonical encoding of o's version: its
// clock and the dot, vtag and deleted flag of every sibling, without the
// values. Two replicas holding the same writes of a key append the same
// bytes whatever their encoding or map order; a replica that lacks a write,
// or still holds a superseded one, appends different bytes. Anti-entropy
// hashes it, as Riak hashes a vclock. A nil or empty object appends
// nothing.
func (o *Object) AppendVersion(b []byte) []byte {
	for _, e := range o.list() {
		b = binary.AppendUvarint(b, uint64(len(e.actor)))
		b = append(b, e.actor...)
		b = binary.AppendUvarint(b, e.counter)
		b = binary.AppendUvarint(b, uint64(len(e.values)))
		for i := range e.values {
			c := &e.values[i]
			b = binary.AppendUvarint(b, uint64(len(c.VTag)))
			b = append(b, c.VTag...)
			if c.Deleted {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
	}
	return b
}
