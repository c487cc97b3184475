package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/cairnkv/cairn/node/store"
)

// metaPartition is the engine range that holds node-local metadata (bucket
// properties), outside every ring partition.
const metaPartition = store.Partition(math.MaxUint32)

var bucketPropsPrefix = []byte("bucket-props/")

// propsStore keeps bucket properties: the default type's properties from
// the config, overridden per bucket by what SetBucketProps stored. It
// persists overrides in the engine and caches them in memory.
type propsStore struct {
	eng   store.Engine
	types map[string]Props // including DefaultType

	mu      sync.RWMutex
	buckets map[string]Props // by string(BucketPrefix(type, bucket))
}

func loadProps(eng store.Engine, defaults Props, types map[string]Props) (*propsStore, error) {
	s := &propsStore{eng: eng, types: map[string]Props{DefaultType: defaults}, buckets: map[string]Props{}}
	for name, p := range types {
		s.types[name] = p
	}
	err := eng.Iterate(metaPartition, bucketPropsPrefix, func(key, value []byte) error {
		var p Props
		if err := json.Unmarshal(value, &p); err != nil {
			return fmt.Errorf("node: stored props of %q: %w", key, err)
		}
		s.buckets[string(key[len(bucketPropsPrefix):])] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("node: load bucket props: %w", err)
	}
	return s, nil
}

func (s *propsStore) typeProps(typ string) (Props, error) {
	p, ok := s.types[typ]
	if !ok {
		return Props{}, fmt.Errorf("%w: %q", ErrUnknownBucketType, typ)
	}
	return p, nil
}

func (s *propsStore) get(typ, bucket string) (Props, error) {
	p, err := s.typeProps(typ)
	if err != nil {
		return p, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if bp, ok := s.buckets[string(BucketPrefix(typ, bucket))]; ok {
		return bp, nil
	}
	return p, nil
}

func (s *propsStore) set(typ, bucket string, raw []byte) (Props, error) {
	if bucket == "" {
		return Props{}, fmt.Errorf("%w: empty bucket", ErrBadRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.typeProps(typ)
	if err != nil {
		return cur, err
	}
	id := string(BucketPrefix(typ, bucket))
	if bp, ok := s.buckets[id]; ok {
		cur = bp
	}
	next, err := cur.Merge(raw)
	if err != nil {
		return cur, err
	}
	if err := next.Validate(); err != nil {
		return cur, err
	}
	b, err := json.Marshal(next)
	if err != nil {
		return cur, err
	}
	if err := s.eng.Put(metaPartition, append(append([]byte{}, bucketPropsPrefix...), id...), b); err != nil {
		return cur, fmt.Errorf("node: store bucket props: %w", err)
	}
	s.buckets[id] = next
	return next, nil
}

func (s *propsStore) reset(typ, bucket string) error {
	if _, err := s.typeProps(typ); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := string(BucketPrefix(typ, bucket))
	err := s.eng.Delete(metaPartition, append(append([]byte{}, bucketPropsPrefix...), id...))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("node: reset bucket props: %w", err)
	}
	delete(s.buckets, id)
	return nil
}

// BucketProps implements KV.
func (n *Node) BucketProps(_ context.Context, typ, bucket string) (Props, error) {
	return n.props.get(typ, bucket)
}

// SetBucketProps implements KV.
func (n *Node) SetBucketProps(_ context.Context, typ, bucket string, raw []byte) (Props, error) {
	p, err := n.props.set(typ, bucket, raw)
	if err == nil {
		n.log.Info("bucket properties changed", "type", typ, "bucket", bucket)
	}
	return p, err
}

// ResetBucketProps implements KV.
func (n *Node) ResetBucketProps(_ context.Context, typ, bucket string) error {
	return n.props.reset(typ, bucket)
}
