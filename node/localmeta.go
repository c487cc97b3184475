package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// metaPartition is the engine range that holds node-local metadata (bucket
// properties), outside every ring partition.
const metaPartition = store.Partition(math.MaxUint32)

var bucketPropsPrefix = []byte("bucket-props/")

// LocalMetadata is the Metadata of a node that runs alone, without the
// Raft metadata plane: the bucket types are fixed when it is made, and
// bucket property overrides are persisted in the engine (in a range
// outside every ring partition) and cached in memory.
//
// It never has a consistent bucket type, so its Strong methods always
// fail, and it refuses to change a type's properties: both belong to the
// metadata plane. It is safe for concurrent use.
type LocalMetadata struct {
	eng   store.Engine
	types map[string]Props // including DefaultType; fixed

	mu      sync.RWMutex
	buckets map[string]Props // by string(BucketPrefix(type, bucket))
}

var _ Metadata = (*LocalMetadata)(nil)

// NewLocalMetadata loads the bucket property overrides stored in eng.
// defaults are the default type's properties and types the others; none
// may be consistent.
func NewLocalMetadata(eng store.Engine, defaults Props, types map[string]Props) (*LocalMetadata, error) {
	m := &LocalMetadata{eng: eng, types: map[string]Props{DefaultType: defaults}, buckets: map[string]Props{}}
	for name, p := range types {
		m.types[name] = p
	}
	for name, p := range m.types {
		if p.Consistent {
			return nil, fmt.Errorf("node: bucket type %q: %w: consistent types need the metadata plane", name, ErrBadProps)
		}
	}
	err := eng.Iterate(metaPartition, bucketPropsPrefix, func(key, value []byte) error {
		var p Props
		if err := json.Unmarshal(value, &p); err != nil {
			return fmt.Errorf("node: stored props of %q: %w", key, err)
		}
		m.buckets[string(key[len(bucketPropsPrefix):])] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("node: load bucket props: %w", err)
	}
	return m, nil
}

// TypeProps implements Metadata.
func (m *LocalMetadata) TypeProps(typ string) (Props, error) {
	p, ok := m.types[typ]
	if !ok {
		return Props{}, fmt.Errorf("%w: %q", ErrUnknownBucketType, typ)
	}
	return p, nil
}

// BucketProps implements Metadata.
func (m *LocalMetadata) BucketProps(typ, bucket string) (Props, error) {
	p, err := m.TypeProps(typ)
	if err != nil {
		return p, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if bp, ok := m.buckets[string(BucketPrefix(typ, bucket))]; ok {
		return bp, nil
	}
	return p, nil
}

// SetTypeProps implements Metadata: it always fails (ErrUnknownBucketType
// for a type that does not exist, ErrBadRequest otherwise), because a
// node's own types come from its configuration.
func (m *LocalMetadata) SetTypeProps(_ context.Context, typ string, _ []byte) (Props, error) {
	p, err := m.TypeProps(typ)
	if err != nil {
		return p, err
	}
	return p, fmt.Errorf("%w: bucket types are changed through the metadata plane; this node runs without one", ErrBadRequest)
}

// SetBucketProps implements Metadata. A bucket may not change its type's
// consistent.
func (m *LocalMetadata) SetBucketProps(_ context.Context, typ, bucket string, raw []byte) (Props, error) {
	if bucket == "" {
		return Props{}, fmt.Errorf("%w: empty bucket", ErrBadRequest)
	}
	tp, err := m.TypeProps(typ)
	if err != nil {
		return tp, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := tp
	id := string(BucketPrefix(typ, bucket))
	if bp, ok := m.buckets[id]; ok {
		cur = bp
	}
	next, err := cur.Merge(raw)
	if err != nil {
		return cur, err
	}
	if err := next.Validate(); err != nil {
		return cur, err
	}
	if next.Consistent != tp.Consistent {
		return cur, fmt.Errorf("%w: a bucket cannot change its type's consistent", ErrBadProps)
	}
	b, err := json.Marshal(next)
	if err != nil {
		return cur, err
	}
	if err := m.eng.Put(metaPartition, append(append([]byte{}, bucketPropsPrefix...), id...), b); err != nil {
		return cur, fmt.Errorf("node: store bucket props: %w", err)
	}
	m.buckets[id] = next
	return next, nil
}

// ResetBucketProps implements Metadata.
func (m *LocalMetadata) ResetBucketProps(_ context.Context, typ, bucket string) error {
	if _, err := m.TypeProps(typ); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id := string(BucketPrefix(typ, bucket))
	err := m.eng.Delete(metaPartition, append(append([]byte{}, bucketPropsPrefix...), id...))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("node: reset bucket props: %w", err)
	}
	delete(m.buckets, id)
	return nil
}

// StrongGet implements Metadata; it always fails (see noStrong).
func (m *LocalMetadata) StrongGet(_ context.Context, loc Location) (*object.Object, error) {
	return nil, m.noStrong(loc.Type)
}

// StrongPut implements Metadata; it always fails (see noStrong).
func (m *LocalMetadata) StrongPut(_ context.Context, loc Location, _ object.Content, _ PutOptions) (*object.Object, error) {
	return nil, m.noStrong(loc.Type)
}

// StrongDelete implements Metadata; it always fails (see noStrong).
func (m *LocalMetadata) StrongDelete(_ context.Context, loc Location, _ DeleteOptions) error {
	return m.noStrong(loc.Type)
}

// StrongList implements Metadata; it always fails (see noStrong).
func (m *LocalMetadata) StrongList(_ context.Context, typ, _ string, _ func(string) error) error {
	return m.noStrong(typ)
}

// noStrong is the answer to a strong operation: ErrUnknownBucketType for a
// type that does not exist, ErrBadRequest for one that does (and so is not
// consistent).
func (m *LocalMetadata) noStrong(typ string) error {
	if _, err := m.TypeProps(typ); err != nil {
		return err
	}
	return fmt.Errorf("%w: bucket type %q is not consistent: consistent types need the metadata plane, and this node runs without one", ErrBadRequest, typ)
}
