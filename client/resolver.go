package client

// Resolver turns a key's siblings into the one value the application
// keeps. It is called with at least two siblings; the slice and the
// siblings are the caller's for the call only, and the Resolver may return
// one of them or a new Sibling (a merge). It must be deterministic enough
// that clients resolving the same siblings agree, and safe for concurrent
// use. An error fails the read.
//
// A Resolver that merges (a set union, a counter) must be able to take its
// own output as input: siblings of merged values are merged again.
type Resolver interface {
	Resolve(loc Location, siblings []Sibling) (Sibling, error)
}

// ResolverFunc is a function that is a Resolver.
type ResolverFunc func(loc Location, siblings []Sibling) (Sibling, error)

// Resolve calls f.
func (f ResolverFunc) Resolve(loc Location, siblings []Sibling) (Sibling, error) {
	return f(loc, siblings)
}

// LastModifiedWins keeps the sibling modified last; ties go to the
// greater VTag, so every client picks the same one. A tombstone loses to
// any value. The server dates siblings to the second, so among writes in
// the same second the pick is arbitrary (but agreed): use it where losing
// one of two concurrent writes is acceptable, and a merging Resolver where
// it is not.
var LastModifiedWins Resolver = ResolverFunc(lastModifiedWins)

func lastModifiedWins(_ Location, siblings []Sibling) (Sibling, error) {
	best := 0
	for i := 1; i < len(siblings); i++ {
		if newer(siblings[i], siblings[best]) {
			best = i
		}
	}
	return siblings[best], nil
}

// newer reports whether a beats b for LastModifiedWins.
func newer(a, b Sibling) bool {
	if a.Deleted != b.Deleted {
		return b.Deleted
	}
	if !a.LastModified.Equal(b.LastModified) {
		return a.LastModified.After(b.LastModified)
	}
	return a.VTag > b.VTag
}
