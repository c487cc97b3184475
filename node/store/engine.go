package store

import (
	"context"
	"errors"
)

// Partition identifies a vnode by its partition index on the ring. Every key
// an Engine holds belongs to exactly one partition, and one partition's keys
// form one contiguous, independently scannable and droppable range.
type Partition = uint32

// Op is one write in a batch handed to Engine.Write: a put of Value under
// (Partition, Key), or a delete of that key when Delete is set (Value is then
// ignored).
type Op struct {
	Partition Partition
	Key       []byte
	Value     []byte
	Delete    bool
}

// Errors returned by engines. Engines wrap them with %w and context, so test
// with errors.Is.
var (
	// ErrNotFound: Get found no value under the key.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed: the engine has been closed (or, for Mem, crashed and not
	// yet reopened).
	ErrClosed = errors.New("store: closed")
	// ErrStop is returned by an Iterate callback to end the iteration
	// early; Iterate then returns nil.
	ErrStop = errors.New("store: stop iteration")
	// ErrInvalidKey: the key is longer than MaxKeySize, or (partition, key)
	// would land in the range Badger reserves for itself (see checkKey).
	ErrInvalidKey = errors.New("store: invalid key")
	// ErrBatchTooLarge: a Write (or a single large Put) does not fit in one
	// atomic transaction; see Config.MaxBatchBytes. Split it.
	ErrBatchTooLarge = errors.New("store: batch too large")
	// ErrCorrupt: the engine itself detected corruption of what it read
	// (Badger's block or value-log checksum). Values are checksummed again
	// one layer up by the object decoder; this error is for damage the
	// engine can see on its own.
	ErrCorrupt = errors.New("store: corrupt data")
	// ErrInjected is the default error a Faulty engine injects.
	ErrInjected = errors.New("store: injected fault")
)

// Engine is the storage seam below a node: a sorted key-value map partitioned
// by vnode. Badger is the production implementation, Mem the in-memory one
// for tests and the simulator, Faulty an error-injecting wrapper of either.
//
// Concurrency: every method is safe for concurrent use. Writes to the same
// key race in the usual way (one of them wins); read-modify-write atomicity
// is the caller's business (the node serialises writes per key). An Iterate
// callback may call any other method of the same engine, including writes,
// except Close; what it sees of those writes is unspecified.
//
// Ownership: the engine never retains the key, value or Op slices passed in
// (the caller may reuse them as soon as the call returns) and never returns
// its own memory from Get: the slice Get returns belongs to the caller. The
// key and value slices handed to an Iterate callback are valid only until the
// callback returns and must not be modified; copy what you keep.
//
// Errors: Get returns ErrNotFound for a missing key; every method returns
// ErrClosed once Close has begun; oversized keys give ErrInvalidKey and
// oversized batches ErrBatchTooLarge. Errors are wrapped, so compare with
// errors.Is. An engine never returns a value other than the one stored under
// the key: when it cannot produce that value it returns an error.
//
// Durability is governed by the engine's SyncPolicy: a write that returned is
// durable (survives power loss) at once under SyncAlways, after the next group
// commit under SyncInterval, and only after Sync or Close under SyncNone.
// WaitDurable is how a caller (a DW quorum) waits for that. A write that
// fails because the disk failed to sync it may still have been applied and
// be visible to readers; it is not known to be durable.
type Engine interface {
	// Get returns a copy of the value stored under (p, key), or
	// ErrNotFound. A stored empty value comes back as a non-nil empty slice.
	Get(p Partition, key []byte) ([]byte, error)
	// Put stores value under (p, key), replacing any previous value.
	Put(p Partition, key, value []byte) error
	// Delete removes (p, key). Deleting a missing key is not an error.
	Delete(p Partition, key []byte) error
	// Write applies the batch atomically: after a crash either every op is
	// visible or none is, and no reader sees a part of it. Ops apply in
	// order, so a later op on the same key wins.
	Write(batch []Op) error
	// Iterate calls fn for every key of partition p that starts with prefix
	// (nil or empty: all of p), in ascending byte order, on a consistent
	// snapshot taken when Iterate starts. If fn returns ErrStop, Iterate
	// stops and returns nil; any other error stops it and is returned as is.
	Iterate(p Partition, prefix []byte, fn func(key, value []byte) error) error
	// IterateFrom is Iterate over every key of p from start on (keys >=
	// start), so that a long scan can resume where it stopped without
	// reading what it already read.
	IterateFrom(p Partition, start []byte, fn func(key, value []byte) error) error
	// DropPartition deletes every key of p. Other partitions are untouched.
	// It may block writes to the whole engine while it runs (Badger).
	DropPartition(p Partition) error
	// Sync makes every write that returned before the call durable.
	Sync() error
	// WaitDurable returns once every write that returned before the call
	// is durable under the engine's policy: at once under SyncAlways, after
	// a group commit it starts at once under SyncInterval, and at once under SyncNone,
	// which promises nothing (call Sync if you need durability there). It
	// returns ctx.Err() if ctx ends first, and the sync error if the group
	// commit failed.
	WaitDurable(ctx context.Context) error
	// Close flushes and releases the engine. Writes that returned before
	// Close are durable once it returns nil. Every later call of any
	// method, Close included, returns ErrClosed.
	Close() error
}
