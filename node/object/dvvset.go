package object

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Object is a DVVSet: the siblings of one key that no write has superseded,
// with the causal history that says which writes have been. The zero value
// and a nil *Object are both the empty object. Objects are immutable; see
// the package documentation for the invariants.
type Object struct {
	entries []entry // sorted by actor, actors distinct
}

// entry is one actor's part of an Object: values[i] is the sibling with dot
// (actor, counter-i); every dot of actor up to counter-len(values) has been
// superseded.
type entry struct {
	actor   Actor
	counter uint64
	values  []Content // newest first
}

// floor is the greatest counter of actor known to be superseded.
func (e *entry) floor() uint64 { return e.counter - uint64(len(e.values)) }

// New returns an empty object.
func New() *Object { return &Object{} }

func (o *Object) list() []entry {
	if o == nil {
		return nil
	}
	return o.entries
}

// Update returns the object after a write of c with causal context ctx,
// coordinated by actor (dvvset:update(dvvset:new(ctx, c), o, actor)): the
// siblings of o that ctx covers are gone, the others stay, and c is added
// with the fresh dot (actor, n+1), n being the greater of o's and ctx's
// counter for actor. c is copied, its LastModified is normalised to UTC and
// its VTag is derived from the new dot. A delete is an Update with
// Content{Deleted: true}.
//
// The caller must be the replica named actor, updating its own latest
// object, so that dots stay unique. Update panics if actor is empty.
func (o *Object) Update(ctx Context, c Content, actor Actor) *Object {
	if actor == "" {
		panic("object: Update with empty actor")
	}
	es, cs := o.list(), ctx.entries
	out := make([]entry, 0, len(es)+len(cs)+1)
	i, j := 0, 0
	for i < len(es) || j < len(cs) {
		switch {
		case j == len(cs) || (i < len(es) && es[i].actor < cs[j].actor):
			out = append(out, es[i].clone(len(es[i].values)))
			i++
		case i == len(es) || cs[j].actor < es[i].actor:
			out = append(out, entry{actor: cs[j].actor, counter: cs[j].counter})
			j++
		default:
			e, n := &es[i], cs[j].counter
			if n >= e.counter {
				out = append(out, entry{actor: e.actor, counter: n})
			} else {
				out = append(out, e.clone(int(min(uint64(len(e.values)), e.counter-n))))
			}
			i++
			j++
		}
	}

	k, found := slices.BinarySearchFunc(out, actor, func(e entry, a Actor) int {
		return strings.Compare(string(e.actor), string(a))
	})
	if !found {
		out = slices.Insert(out, k, entry{actor: actor})
	}
	e := &out[k]
	e.counter++
	c = cloneContent(c)
	c.LastModified = normalTime(c.LastModified)
	c.VTag = vtagFor(actor, e.counter, c.LastModified)
	values := make([]Content, 0, len(e.values)+1)
	e.values = append(append(values, c), e.values...)
	return &Object{entries: out}
}

// clone returns e with its newest n values in a slice of its own.
func (e *entry) clone(n int) entry {
	c := entry{actor: e.actor, counter: e.counter}
	if n > 0 {
		c.values = slices.Clone(e.values[:n])
	}
	return c
}

// Sync merges two replicas' objects (dvvset:sync): a sibling survives unless
// the other side knows it was superseded. Sync is commutative, associative
// and idempotent. A nil argument is the empty object. When one side already
// includes the other, as replicas that agree do, Sync returns that side
// itself (objects are immutable) rather than a copy.
func Sync(a, b *Object) *Object {
	switch {
	case a != nil && a.Descends(b):
		return a
	case b != nil && b.Descends(a):
		return b
	}
	as, bs := a.list(), b.list()
	out := make([]entry, 0, max(len(as), len(bs)))
	i, j := 0, 0
	for i < len(as) || j < len(bs) {
		switch {
		case j == len(bs) || (i < len(as) && as[i].actor < bs[j].actor):
			out = append(out, as[i].clone(len(as[i].values)))
			i++
		case i == len(as) || bs[j].actor < as[i].actor:
			out = append(out, bs[j].clone(len(bs[j].values)))
			j++
		default:
			src, n := mergeEntry(&as[i], &bs[j])
			out = append(out, src.clone(n))
			i++
			j++
		}
	}
	return &Object{entries: out}
}

// mergeEntry merges two entries of the same actor: the result has the
// greater counter and keeps the values above both floors, taken from src
// (its newest n). Under dot uniqueness two entries with equal counters hold
// the same values at the same dots; should they differ (LWW relabels a
// winner to its entry's newest dot), the greater vtags win, which keeps the
// merge commutative and associative.
func mergeEntry(a, b *entry) (src *entry, n int) {
	floor := max(a.floor(), b.floor())
	switch {
	case a.counter > b.counter:
		src = a
	case b.counter > a.counter:
		src = b
	default:
		k := int(a.counter - floor)
		src = a
		if compareVTags(a.values[:k], b.values[:k]) < 0 {
			src = b
		}
	}
	return src, int(src.counter - floor)
}

func compareVTags(a, b []Content) int {
	for i := range a {
		if c := strings.Compare(a[i].VTag, b[i].VTag); c != 0 {
			return c
		}
	}
	return 0
}

// Descends reports whether o already includes everything other holds:
// Sync(o, other) equals o. A replica r needs read repair when
// !r.Descends(merged).
func (o *Object) Descends(other *Object) bool {
	es, os := o.list(), other.list()
	i := 0
	for j := range os {
		for i < len(es) && es[i].actor < os[j].actor {
			i++
		}
		if i == len(es) || es[i].actor != os[j].actor {
			return false
		}
		src, n := mergeEntry(&es[i], &os[j])
		if src != &es[i] || n != len(es[i].values) {
			return false
		}
	}
	return true
}

// Values returns deep copies of the siblings, ordered by actor and then by
// counter, oldest first: the same order on every replica.
func (o *Object) Values() []Content {
	n := o.Len()
	if n == 0 {
		return nil
	}
	out := make([]Content, 0, n)
	for _, e := range o.list() {
		for i := len(e.values) - 1; i >= 0; i-- {
			out = append(out, cloneContent(e.values[i]))
		}
	}
	return out
}

// Sibling returns a deep copy of the sibling named vtag.
func (o *Object) Sibling(vtag string) (Content, bool) {
	for _, e := range o.list() {
		for i := range e.values {
			if e.values[i].VTag == vtag {
				return cloneContent(e.values[i]), true
			}
		}
	}
	return Content{}, false
}

// Context returns the object's causal context (dvvset:join): for each actor,
// the greatest counter the object has seen.
func (o *Object) Context() Context {
	es := o.list()
	if len(es) == 0 {
		return Context{}
	}
	out := make([]clockEntry, len(es))
	for i, e := range es {
		out[i] = clockEntry{actor: e.actor, counter: e.counter}
	}
	return Context{entries: out}
}

// Len returns the number of siblings.
func (o *Object) Len() int {
	n := 0
	for _, e := range o.list() {
		n += len(e.values)
	}
	return n
}

// IsEmpty reports whether o has no siblings: the key was never written (or
// its tombstone was reaped). An empty object may still carry a clock.
func (o *Object) IsEmpty() bool { return o.Len() == 0 }

// LastModified returns the greatest LastModified of o's siblings (the zero
// time for an empty object), without copying any of them.
func (o *Object) LastModified() time.Time {
	var t time.Time
	for _, e := range o.list() {
		for i := range e.values {
			if lm := e.values[i].LastModified; lm.After(t) {
				t = lm
			}
		}
	}
	return t
}

// IsTombstone reports whether o has siblings and all of them are deletes.
func (o *Object) IsTombstone() bool {
	n := 0
	for _, e := range o.list() {
		for i := range e.values {
			if !e.values[i].Deleted {
				return false
			}
			n++
		}
	}
	return n > 0
}

// LWW returns o reduced to its last-written sibling, the one with the
// greatest LastModified (ties broken by the greater VTag), with the clock
// kept (dvvset:lww): the winner takes its entry's newest dot and every other
// sibling is dropped. It is how allow_mult=false and last_write_wins
// resolve; apply it after every Update and Sync of such a key.
func (o *Object) LWW() *Object {
	es := o.list()
	wi, wj := -1, -1
	for i := range es {
		for j := range es[i].values {
			if wi < 0 || newer(&es[i].values[j], &es[wi].values[wj]) {
				wi, wj = i, j
			}
		}
	}
	out := make([]entry, len(es))
	for i := range es {
		out[i] = entry{actor: es[i].actor, counter: es[i].counter}
	}
	if wi >= 0 {
		out[wi].values = []Content{es[wi].values[wj]}
	}
	return &Object{entries: out}
}

// Equal reports whether a and b hold the same clock and the same siblings
// at the same dots. Nil and empty objects are equal.
func Equal(a, b *Object) bool {
	as, bs := a.list(), b.list()
	if len(as) != len(bs) {
		return false
	}
	for i := range as {
		x, y := &as[i], &bs[i]
		if x.actor != y.actor || x.counter != y.counter || len(x.values) != len(y.values) {
			return false
		}
		for k := range x.values {
			if !contentEqual(&x.values[k], &y.values[k]) {
				return false
			}
		}
	}
	return true
}

// Size approximates the encoded size of o in bytes: its values, their
// metadata and the clock.
func (o *Object) Size() int {
	n := 8
	for _, e := range o.list() {
		n += len(e.actor) + 12
		for i := range e.values {
			n += contentSize(&e.values[i])
		}
	}
	return n
}

// String renders the clock and sibling vtags, for logs and test failures.
func (o *Object) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range o.list() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%d{", e.actor, e.counter)
		for k := range e.values {
			if k > 0 {
				b.WriteByte(',')
			}
			b.WriteString(e.values[k].VTag)
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return b.String()
}
