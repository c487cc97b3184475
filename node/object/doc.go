// Package object is cairn's versioned value: a DVVSet (dotted version vector
// set, Almeida, Baquero et al., "Scalable and Accurate Causality Tracking for
// Eventually Consistent Stores", as in Riak's dvvset.erl), the causal context
// a client reads and sends back, and the checksummed encoding both travel in.
//
// It is pure logic: no I/O, no clock, no randomness, no globals.
//
// # Model
//
// An Object is a sorted list of entries (actor, counter, values). Actors are
// replicas (vnodes), never clients, so an Object has at most one entry per
// replica that ever coordinated a write of the key. An entry's values are
// the siblings that replica coordinated and no later write has superseded,
// newest first; value i carries the implicit dot (actor, counter-i). Every
// dot (actor, k) with k <= counter-len(values) is known to be superseded.
//
// A Context is the join of an Object: a version vector actor→counter. It
// covers the dot (a, k) when its counter for a is at least k.
//
// # Invariants
//
//   - Entries are sorted by actor, actors are distinct and non-empty,
//     1 <= counter and len(values) <= counter.
//   - Update(ctx, c, a) removes exactly the siblings whose dots ctx covers,
//     keeps all others and adds c with the fresh dot (a, counter(a)+1),
//     where counter(a) is the greater of the Object's and ctx's.
//     A write with the context of a read therefore supersedes exactly what
//     that read saw; two writes with the same old context through one actor
//     give two siblings; a write with an empty context adds a sibling.
//   - Sync is commutative, associative and idempotent, so replicas that
//     exchange objects in any order converge; a sibling disappears only when
//     some write's context covered it.
//   - Objects are immutable. Update, Sync and LWW return new Objects whose
//     slices are their own, except that Sync returns one of its arguments
//     itself when it already includes the other (replicas that agree, the
//     common case of a read); the Content structs they hold are never mutated
//     once stored and never handed out (Values and Sibling return deep
//     copies), so Objects may share their byte slices and maps internally.
//   - Objects and Contexts are immutable values, safe to share between
//     goroutines without locks.
//   - Encode is deterministic (metadata keys are written sorted), so equal
//     Objects encode to equal bytes, which anti-entropy hashing relies on.
//   - Decode never panics, checks the version and a CRC-32C before parsing,
//     bounds every allocation by the input's length, and rejects anything
//     that breaks the invariants above with an error wrapping ErrCorrupt.
//
// LWW follows dvvset:lww: it keeps the clock and moves the winner to its
// entry's newest dot, so the losers count as superseded. When timestamps run
// against causality (clock skew), two replicas that resolved different
// sibling sets can merge to no sibling at all; stamping each write later
// than every sibling the coordinator holds makes that much rarer.
//
// Dot uniqueness is the caller's duty: each actor must coordinate writes on
// its own latest Object (a vnode's stored value), so that it never issues
// the same dot twice. A replica that loses its data must come back under a
// new actor name (for example with an incarnation suffix).
//
// # Usage
//
// A coordinating vnode a handles a put with the client's context:
//
//	ctx, err := object.DecodeContext(header, bindKey) // "" → zero Context
//	local := load()                                   // nil or object.New() if absent
//	c.LastModified = clock.Now()
//	next := local.Update(ctx, c, a)                   // delete: Content{Deleted: true}
//	if lastWriteWins { next = next.LWW() }
//	store(object.Encode(next)); replicate(next)
//
// A replica receiving an object merges it with what it holds:
//
//	merged := object.Sync(local, incoming)
//	if !local.Descends(incoming) { store(merged) }
//
// A get merges the replies and repairs every replica r with
// !r.Descends(merged). The client gets merged.Values() (siblings) and
// merged.Context().Encode(bindKey) to send back with its next write.
package object
