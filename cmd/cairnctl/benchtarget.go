package main

import (
	"context"
	"errors"

	kv "github.com/cairnkv/cairn/client"
)

// clusterTarget runs bench operations on a cluster through the Go client,
// as an application would.
type clusterTarget struct {
	c           *kv.Client
	typ, bucket string
	read, write []kv.Option
	consistent  bool // the bucket's keys are strongly consistent
}

var _ benchTarget = (*clusterTarget)(nil)

const benchContentType = "application/octet-stream"

func (t *clusterTarget) do(ctx context.Context, op opKind, key string, value []byte) error {
	loc := kv.Location{Type: t.typ, Bucket: t.bucket, Key: key}
	switch op {
	case opRead:
		_, err := t.c.Get(ctx, loc, t.read...)
		return err
	case opUpdate:
		if t.consistent {
			return t.readWrite(ctx, loc, value)
		}
		return t.put(ctx, loc, value)
	case opRMW:
		return t.readWrite(ctx, loc, value)
	}
	return t.put(ctx, loc, value) // insert, put
}

// put is one Put without a context.
func (t *clusterTarget) put(ctx context.Context, loc kv.Location, value []byte) error {
	_, err := t.c.Put(ctx, kv.NewObject(loc, value, benchContentType), t.write...)
	return err
}

// readWrite is a Get, then a Put of value with the Get's context, which
// supersedes every sibling the Get saw. A missing key is the Get's error:
// there was nothing to modify. A conflict on a consistent bucket (another
// client wrote the key in between) is not retried: it is counted.
func (t *clusterTarget) readWrite(ctx context.Context, loc kv.Location, value []byte) error {
	obj, err := t.c.Get(ctx, loc, t.read...)
	if err != nil {
		return err
	}
	if obj == nil {
		return errors.New("bench: Get returned no object")
	}
	obj.SetValue(value, benchContentType)
	_, err = t.c.Put(ctx, obj, t.write...)
	return err
}
