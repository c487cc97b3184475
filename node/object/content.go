package object

import (
	"bytes"
	"maps"
	"slices"
	"time"
)

// cloneContent returns c with its own copies of every slice and map, so
// neither the caller nor the package can reach the other's memory.
func cloneContent(c Content) Content {
	c.Value = bytes.Clone(c.Value)
	c.Meta = maps.Clone(c.Meta)
	c.Links = slices.Clone(c.Links)
	return c
}

// contentEqual reports whether a and b describe the same sibling. Nil and
// empty slices and maps are equal; times compare as instants.
func contentEqual(a, b *Content) bool {
	return a.VTag == b.VTag &&
		a.Deleted == b.Deleted &&
		a.ContentType == b.ContentType &&
		a.Charset == b.Charset &&
		a.ContentEncoding == b.ContentEncoding &&
		a.LastModified.Equal(b.LastModified) &&
		bytes.Equal(a.Value, b.Value) &&
		maps.Equal(a.Meta, b.Meta) &&
		slices.Equal(a.Links, b.Links)
}

// contentSize approximates the encoded size of c.
func contentSize(c *Content) int {
	n := 32 + len(c.Value) + len(c.ContentType) + len(c.Charset) +
		len(c.ContentEncoding) + len(c.VTag)
	for k, v := range c.Meta {
		n += len(k) + len(v) + 4
	}
	for _, l := range c.Links {
		n += len(l.Bucket) + len(l.Key) + len(l.Tag) + 4
	}
	return n
}

// newer reports whether a wins over b under last-write-wins: the later
// LastModified, and on a tie the greater VTag, so every replica picks the
// same winner.
func newer(a, b *Content) bool {
	if !a.LastModified.Equal(b.LastModified) {
		return a.LastModified.After(b.LastModified)
	}
	return a.VTag > b.VTag
}

// normalTime strips the monotonic reading and the location, so that a time
// survives Encode/Decode unchanged.
func normalTime(t time.Time) time.Time {
	return t.UTC()
}
