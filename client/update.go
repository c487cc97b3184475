package client

import (
	"context"
	"errors"
	"fmt"
)

// maxUpdateRetries bounds how often Update starts over after a conflict.
const maxUpdateRetries = 10

// Update is a read-modify-write of loc. It reads the key (its siblings
// resolved by the Config's Resolver; without one, fn sees them all), calls
// fn with what it read, and writes fn's object, which must have exactly
// one sibling, with the read's context. If the key does not exist, fn gets
// an Object with loc, no siblings and the Context of the tombstone, if
// any. fn returning nil and no error leaves the key as it is (Update then
// returns what it read); an error from fn ends Update with that error.
// Only fn's Siblings are used: the write always goes to loc with the
// read's context.
//
// On a strongly consistent bucket type a write whose context is no longer
// the current version's fails with ErrConflict: Update then reads again
// and calls fn again, up to 10 more times, with backoff, before it gives up
// with ErrConflict. fn may thus run more than once and must not have side
// effects of its own.
//
// On other bucket types a write never conflicts: a concurrent writer's
// value survives as a sibling of this one. Update then does the
// read-modify-write once, and the next read (the next Update) resolves the
// siblings. With a Resolver that merges (see Resolver), no update is lost;
// with one that picks (LastModifiedWins), one of two concurrent updates is.
//
// Update returns the stored object, its siblings resolved as a Get's would
// be; with ReturnBody(false), what such a Put returns (an Object with just
// the new Context, or nil). Options apply to the read (R, PR,
// NotFoundOK, BasicQuorum) and to the write (W, DW, PW); Timeout bounds
// each; IfNoneMatch is ignored. ctx bounds the whole Update.
func (c *Client) Update(ctx context.Context, loc Location, fn func(old *Object) (*Object, error), opts ...Option) (*Object, error) {
	if err := loc.validate(); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, fmt.Errorf("%w: Update of %s with a nil function", ErrBadRequest, loc)
	}
	putOpts := append(opts[:len(opts):len(opts)], func(o *options) {
		o.ifNoneMatch = false
		if o.returnBody == nil {
			t := true
			o.returnBody = &t
		}
	})
	for retry := 0; ; retry++ {
		old, err := c.Get(ctx, loc, opts...)
		if errors.Is(err, ErrNotFound) && old != nil {
			old.Siblings, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		readCtx := old.Context
		next, err := fn(old)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return old, nil
		}
		stored, err := c.Put(ctx, &Object{Location: loc, Siblings: next.Siblings, Context: readCtx}, putOpts...)
		if err == nil {
			return c.resolve(stored)
		}
		if !errors.Is(err, ErrConflict) || retry == maxUpdateRetries {
			return nil, err
		}
		c.log.Debug("client: update conflicted, reading again", "location", loc.String(), "retry", retry+1)
		if werr := c.backoff(ctx, retry+1); werr != nil {
			return nil, fmt.Errorf("client: Update of %s: %w (after %d conflicts, the last: %w)", loc, werr, retry+1, err)
		}
	}
}

// CreateIfAbsent stores s at loc only if the key does not exist:
// ErrConflict when it does. On a strongly consistent bucket type the check
// is atomic with the write; on others the server reads the key first, so
// two concurrent creates may both succeed and leave siblings. A key that
// was deleted counts as absent. Options: as for Put.
func (c *Client) CreateIfAbsent(ctx context.Context, loc Location, s Sibling, opts ...Option) error {
	o := &Object{Location: loc, Siblings: []Sibling{s}}
	_, err := c.Put(ctx, o, append(opts[:len(opts):len(opts)], IfNoneMatch(), ReturnBody(false))...)
	return err
}
