package node

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/node/object"
)

// MemMetadata is an in-memory Metadata with the metadata plane's rules and
// none of its replication: bucket types (consistent ones included), bucket
// properties and the keys of consistent types in maps under one lock, so
// every operation is trivially linearizable. Tests use it to run a node
// with consistent bucket types without a Raft group; Fail makes it answer
// as a plane without a quorum would.
type MemMetadata struct {
	clock clock.Clock

	mu      sync.Mutex
	types   map[string]Props
	buckets map[string]Props          // by string(BucketPrefix(type, bucket))
	strong  map[string]*object.Object // by string(Location.Bytes()); tombstones kept
	fail    error
	epoch   uint64 // what CommittedRingEpoch confirms
}

var (
	_ Metadata      = (*MemMetadata)(nil)
	_ RingConfirmer = (*MemMetadata)(nil)
)

// memStrongActor is the DVV actor of every strong write, as in the
// metadata plane: one total order of writes needs one actor.
const memStrongActor object.Actor = "raft"

// NewMemMetadata returns a MemMetadata with the default type's properties
// and further (active) types; clk stamps tombstones.
func NewMemMetadata(clk clock.Clock, defaults Props, types map[string]Props) *MemMetadata {
	m := &MemMetadata{
		clock:   clk,
		types:   map[string]Props{DefaultType: defaults},
		buckets: map[string]Props{},
		strong:  map[string]*object.Object{},
	}
	for name, p := range types {
		m.types[name] = p
	}
	return m
}

// SetCommittedRing sets the ring epoch CommittedRingEpoch confirms, as
// the group would once it committed that ring.
func (m *MemMetadata) SetCommittedRing(epoch uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.epoch = epoch
}

// CommittedRingEpoch implements RingConfirmer: the epoch SetCommittedRing
// set (0 until then, which confirms nothing newer than the members'
// rings), or Fail's error.
func (m *MemMetadata) CommittedRingEpoch(ctx context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admit(ctx); err != nil {
		return 0, err
	}
	return m.epoch, nil
}

// Fail makes every call that needs the group (property changes, strong
// operations and the ring's confirmation, but not reads of properties or
// StrongList, which are local) return err, until Fail(nil). Use an error
// wrapping ErrUnavailable to act out a plane without a leader.
func (m *MemMetadata) Fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

// TypeProps implements Metadata.
func (m *MemMetadata) TypeProps(typ string) (Props, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.typeProps(typ)
}

// BucketProps implements Metadata.
func (m *MemMetadata) BucketProps(typ, bucket string) (Props, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bucketProps(typ, bucket)
}

// SetTypeProps implements Metadata.
func (m *MemMetadata) SetTypeProps(ctx context.Context, typ string, raw []byte) (Props, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admit(ctx); err != nil {
		return Props{}, err
	}
	cur, err := m.typeProps(typ)
	if err != nil {
		return cur, err
	}
	next, err := mergeFixed(cur, cur, raw)
	if err != nil {
		return cur, err
	}
	m.types[typ] = next
	return next, nil
}

// SetBucketProps implements Metadata.
func (m *MemMetadata) SetBucketProps(ctx context.Context, typ, bucket string, raw []byte) (Props, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admit(ctx); err != nil {
		return Props{}, err
	}
	if bucket == "" {
		return Props{}, fmt.Errorf("%w: empty bucket", ErrBadRequest)
	}
	tp, err := m.typeProps(typ)
	if err != nil {
		return tp, err
	}
	cur, _ := m.bucketProps(typ, bucket)
	next, err := mergeFixed(tp, cur, raw)
	if err != nil {
		return cur, err
	}
	m.buckets[string(BucketPrefix(typ, bucket))] = next
	return next, nil
}

// ResetBucketProps implements Metadata.
func (m *MemMetadata) ResetBucketProps(ctx context.Context, typ, bucket string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admit(ctx); err != nil {
		return err
	}
	if _, err := m.typeProps(typ); err != nil {
		return err
	}
	delete(m.buckets, string(BucketPrefix(typ, bucket)))
	return nil
}

// StrongGet implements Metadata.
func (m *MemMetadata) StrongGet(ctx context.Context, loc Location) (*object.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admitStrong(ctx, loc.Type, loc.Bucket); err != nil {
		return nil, err
	}
	return found(m.strong[string(loc.Bytes())])
}

// StrongPut implements Metadata.
func (m *MemMetadata) StrongPut(ctx context.Context, loc Location, c object.Content, opts PutOptions) (*object.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admitStrong(ctx, loc.Type, loc.Bucket); err != nil {
		return nil, err
	}
	key := string(loc.Bytes())
	cur := m.strong[key]
	live := !cur.IsEmpty() && !cur.IsTombstone()
	switch {
	case opts.IfNoneMatch:
		if live {
			return nil, fmt.Errorf("%w: the key exists and the write asked for none (If-None-Match)", ErrConflict)
		}
	case opts.Context.IsZero():
		if live {
			return nil, fmt.Errorf("%w: the key exists; send the causal context of the version you replace", ErrConflict)
		}
	case cur == nil:
		return nil, fmt.Errorf("%w: the key does not exist; create it without a causal context", ErrConflict)
	case !opts.Context.Equal(cur.Context()):
		return nil, fmt.Errorf("%w: the key was changed since you read it; read it again and resend with its causal context", ErrConflict)
	}
	c.Deleted = false
	next := cur.Update(cur.Context(), c, memStrongActor)
	m.strong[key] = next
	return next, nil
}

// StrongDelete implements Metadata.
func (m *MemMetadata) StrongDelete(ctx context.Context, loc Location, opts DeleteOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.admitStrong(ctx, loc.Type, loc.Bucket); err != nil {
		return err
	}
	key := string(loc.Bytes())
	cur := m.strong[key]
	if cur.IsEmpty() || cur.IsTombstone() {
		return ErrNotFound
	}
	if !opts.Context.Equal(cur.Context()) {
		return fmt.Errorf("%w: the key was changed since you read it, or no causal context was sent; send the current version's", ErrConflict)
	}
	m.strong[key] = cur.Update(cur.Context(), object.Content{Deleted: true, LastModified: m.clock.Now()}, memStrongActor)
	return nil
}

// StrongList implements Metadata.
func (m *MemMetadata) StrongList(ctx context.Context, typ, bucket string, fn func(key string) error) error {
	m.mu.Lock()
	var keys []string
	err := m.strongType(typ, bucket)
	if err == nil {
		prefix := string(BucketPrefix(typ, bucket))
		for k, o := range m.strong {
			if strings.HasPrefix(k, prefix) && !o.IsEmpty() && !o.IsTombstone() {
				keys = append(keys, k[len(prefix):])
			}
		}
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// admit fails a call that needs the group: an injected failure, or a
// caller that has given up. m.mu is held.
func (m *MemMetadata) admit(ctx context.Context) error {
	if m.fail != nil {
		return m.fail
	}
	return ctx.Err()
}

// admitStrong is admit for a strong operation on a bucket, which must be
// of a consistent type. m.mu is held.
func (m *MemMetadata) admitStrong(ctx context.Context, typ, bucket string) error {
	if err := m.admit(ctx); err != nil {
		return err
	}
	return m.strongType(typ, bucket)
}

// strongType checks that bucket's properties are consistent. m.mu is held.
func (m *MemMetadata) strongType(typ, bucket string) error {
	p, err := m.bucketProps(typ, bucket)
	if err != nil {
		return err
	}
	if !p.Consistent {
		return fmt.Errorf("%w: bucket type %q is not consistent", ErrBadRequest, typ)
	}
	return nil
}

func (m *MemMetadata) typeProps(typ string) (Props, error) {
	p, ok := m.types[typ]
	if !ok {
		return Props{}, fmt.Errorf("%w: %q", ErrUnknownBucketType, typ)
	}
	return p, nil
}

func (m *MemMetadata) bucketProps(typ, bucket string) (Props, error) {
	p, err := m.typeProps(typ)
	if err != nil {
		return p, err
	}
	if bp, ok := m.buckets[string(BucketPrefix(typ, bucket))]; ok {
		return bp, nil
	}
	return p, nil
}

// mergeFixed merges raw into cur and validates the result, which may not
// change the type's consistent, nor, for a consistent type, its n_val.
func mergeFixed(typ, cur Props, raw []byte) (Props, error) {
	next, err := cur.Merge(raw)
	if err != nil {
		return cur, err
	}
	if err := next.Validate(); err != nil {
		return cur, err
	}
	if next.Consistent != typ.Consistent {
		return cur, fmt.Errorf("%w: consistent cannot change", ErrBadProps)
	}
	if typ.Consistent && next.NVal != typ.NVal {
		return cur, fmt.Errorf("%w: the n_val of a consistent type cannot change", ErrBadProps)
	}
	return next, nil
}
