package object

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"iter"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/vmihailenco/msgpack/v5"
)

// Context is a causal context: a version vector, the join of an Object. A
// client reads it with a value and sends it back with its next write of the
// same key, so that the write supersedes exactly what was read. The zero
// Context is the empty one (a blind write). Contexts are immutable values.
type Context struct {
	entries []clockEntry // sorted by actor, actors distinct, counters >= 1
}

type clockEntry struct {
	actor   Actor
	counter uint64
}

// Limits on a context from outside; an Object's clock has one entry per
// replica that coordinated a write, so real contexts are far smaller.
const (
	// MaxContextEntries is the most actors DecodeContext accepts.
	MaxContextEntries = 1024
	// maxContextBytes bounds the decoded size DecodeContext accepts.
	maxContextBytes = 256 << 10
	// maxContextCounter is the greatest counter DecodeContext accepts. It
	// leaves 2^62 writes of headroom below maxCounter, so that a forged
	// context cannot drive a stored object's counter out of range.
	maxContextCounter = 1 << 62

	contextVersion = 1
	bindHashLen    = 8
)

// IsZero reports whether c is the empty context.
func (c Context) IsZero() bool { return len(c.entries) == 0 }

// Len returns the number of actors in c.
func (c Context) Len() int { return len(c.entries) }

// Actors yields the clock's actors in order.
func (c Context) Actors() iter.Seq[Actor] {
	return func(yield func(Actor) bool) {
		for _, e := range c.entries {
			if !yield(e.actor) {
				return
			}
		}
	}
}

// Counter returns c's counter for actor, 0 if it has none.
func (c Context) Counter(actor Actor) uint64 {
	for _, e := range c.entries {
		if e.actor == actor {
			return e.counter
		}
	}
	return 0
}

// Descends reports whether c has seen everything other has: every counter of
// other is at most c's counter for the same actor.
func (c Context) Descends(other Context) bool {
	i := 0
	for _, oe := range other.entries {
		for i < len(c.entries) && c.entries[i].actor < oe.actor {
			i++
		}
		if i == len(c.entries) || c.entries[i].actor != oe.actor || c.entries[i].counter < oe.counter {
			return false
		}
	}
	return true
}

// Equal reports whether c and other are the same version vector.
func (c Context) Equal(other Context) bool {
	if len(c.entries) != len(other.entries) {
		return false
	}
	for i := range c.entries {
		if c.entries[i] != other.entries[i] {
			return false
		}
	}
	return true
}

// Merge returns the least context that descends both c and other.
func (c Context) Merge(other Context) Context {
	a, b := c.entries, other.entries
	out := make([]clockEntry, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].actor < b[j].actor):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].actor < a[i].actor:
			out = append(out, b[j])
			j++
		default:
			out = append(out, clockEntry{actor: a[i].actor, counter: max(a[i].counter, b[j].counter)})
			i++
			j++
		}
	}
	if len(out) == 0 {
		return Context{}
	}
	return Context{entries: out}
}

// String renders c as {actor:counter ...}.
func (c Context) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range c.entries {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d", e.actor, e.counter)
	}
	b.WriteByte('}')
	return b.String()
}

// Encode returns c as an opaque string for the X-Riak-Vclock header:
// standard base64 of a version byte, the 8-byte xxhash of bind (the key's
// storage bytes, so that a context sent back to another key is detected),
// the msgpack entries [[actor, counter], ...] and a big-endian CRC-32C of
// all that precedes it. The zero Context encodes as "".
func (c Context) Encode(bind []byte) string {
	if c.IsZero() {
		return ""
	}
	var buf bytes.Buffer
	buf.Grow(1 + bindHashLen + 8 + len(c.entries)*24 + 4)
	buf.WriteByte(contextVersion)
	var h [bindHashLen]byte
	binary.BigEndian.PutUint64(h[:], xxhash.Sum64(bind))
	buf.Write(h[:])

	enc := msgpack.GetEncoder()
	enc.Reset(&buf)
	// Writes to a bytes.Buffer cannot fail.
	_ = enc.EncodeArrayLen(len(c.entries))
	for _, e := range c.entries {
		_ = enc.EncodeArrayLen(2)
		_ = enc.EncodeString(string(e.actor))
		_ = enc.EncodeUint(e.counter)
	}
	msgpack.PutEncoder(enc)

	b := binary.BigEndian.AppendUint32(buf.Bytes(), crc32.Checksum(buf.Bytes(), castagnoli))
	return base64.StdEncoding.EncodeToString(b)
}

// DecodeContext parses a string made by Context.Encode for the key whose
// storage bytes are bind. The empty string is the zero Context. Errors wrap
// ErrMalformedContext (not base64, too long, unknown version, checksum
// mismatch, bad msgpack, unsorted or duplicate actors, zero counters, more
// than MaxContextEntries actors) or ErrForeignContext (made for another key).
func DecodeContext(s string, bind []byte) (Context, error) {
	if s == "" {
		return Context{}, nil
	}
	if base64.StdEncoding.DecodedLen(len(s)) > maxContextBytes {
		return Context{}, fmt.Errorf("%w: %d characters", ErrMalformedContext, len(s))
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return Context{}, fmt.Errorf("%w: %v", ErrMalformedContext, err)
	}
	if len(b) < 1+bindHashLen+1+4 {
		return Context{}, fmt.Errorf("%w: %d bytes is too short", ErrMalformedContext, len(b))
	}
	if b[0] != contextVersion {
		return Context{}, fmt.Errorf("%w: unknown version %d", ErrMalformedContext, b[0])
	}
	end := len(b) - 4
	if got, want := crc32.Checksum(b[:end], castagnoli), binary.BigEndian.Uint32(b[end:]); got != want {
		return Context{}, fmt.Errorf("%w: checksum mismatch", ErrMalformedContext)
	}
	if binary.BigEndian.Uint64(b[1:1+bindHashLen]) != xxhash.Sum64(bind) {
		return Context{}, ErrForeignContext
	}
	c, err := decodeClock(b[1+bindHashLen : end])
	if err != nil {
		return Context{}, fmt.Errorf("%w: %v", ErrMalformedContext, err)
	}
	return c, nil
}

func decodeClock(body []byte) (Context, error) {
	r := newReader(body)
	defer r.close()
	n, err := r.arrayLen(3)
	if err != nil {
		return Context{}, err
	}
	if n > MaxContextEntries {
		return Context{}, fmt.Errorf("%d entries, at most %d allowed", n, MaxContextEntries)
	}
	if n == 0 {
		return Context{}, fmt.Errorf("no entries")
	}
	out := make([]clockEntry, n)
	for i := range out {
		if err := r.fixedArray(2); err != nil {
			return Context{}, fmt.Errorf("entry %d: %w", i, err)
		}
		actor, err := r.str()
		if err != nil {
			return Context{}, fmt.Errorf("entry %d: actor: %w", i, err)
		}
		counter, err := r.uint()
		if err != nil {
			return Context{}, fmt.Errorf("entry %d: counter: %w", i, err)
		}
		switch {
		case actor == "":
			return Context{}, fmt.Errorf("entry %d: empty actor", i)
		case i > 0 && actor <= string(out[i-1].actor):
			return Context{}, fmt.Errorf("entry %d: actors not sorted and distinct", i)
		case counter == 0 || counter > maxContextCounter:
			return Context{}, fmt.Errorf("entry %d: counter %d out of range", i, counter)
		}
		out[i] = clockEntry{actor: Actor(actor), counter: counter}
	}
	if err := r.end(); err != nil {
		return Context{}, err
	}
	return Context{entries: out}, nil
}
