package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Method names an Engine method, for fault injection.
type Method uint8

// The methods a Faulty engine can fail.
const (
	MethodGet Method = iota
	MethodPut
	MethodDelete
	MethodWrite
	MethodIterate
	MethodDropPartition
	MethodSync
	MethodWaitDurable
)

var methodNames = [...]string{"get", "put", "delete", "write", "iterate", "drop-partition", "sync", "wait-durable"}

func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", m)
}

// Call describes one call a fault rule may match. Key is the key of a Get,
// Put or Delete, each op's key of a Write in turn (the Write fails if any op
// matches), and the prefix of an Iterate; it is nil for DropPartition, Sync
// and WaitDurable, and Partition is zero for Sync and WaitDurable. Delete
// marks a Write's op that deletes its key (and is set for Delete). A
// rule's match function must not retain or modify Key.
type Call struct {
	Method    Method
	Partition Partition
	Key       []byte
	Delete    bool
}

// Faulty wraps an Engine and injects faults, in the manner of
// cockroachdb/pebble's vfs/errorfs: errors on chosen calls, and corrupted
// values on chosen reads. With no rules it is a transparent wrapper.
//
// An injected error is returned before the inner engine is called, so the
// failed call has no effect; it wraps the rule's error (ErrInjected when
// none was given). A read corruption flips every bit of one byte of the
// value returned by Get or passed to an Iterate callback, leaving the stored
// value intact; to damage what is stored, use CorruptStored.
type Faulty struct {
	inner Engine

	mu       sync.Mutex
	nextID   int
	errRules []errRule
	corrupts []corruptRule
}

type errRule struct {
	id     int
	method Method
	match  func(Call) bool
	err    error
}

type corruptRule struct {
	id     int
	match  func(p Partition, key []byte) bool
	offset int
}

var _ Engine = (*Faulty)(nil)

// NewFaulty wraps inner.
func NewFaulty(inner Engine) *Faulty { return &Faulty{inner: inner} }

// Inner returns the wrapped engine (to Crash a Mem, for instance).
func (f *Faulty) Inner() Engine { return f.inner }

// InjectError makes calls of method for which match returns true (every call
// when match is nil) fail with an error wrapping err (ErrInjected when err
// is nil). match runs on the caller's goroutine, under no lock of Faulty;
// it may count calls to fail only the nth. The returned function removes
// the rule.
func (f *Faulty) InjectError(method Method, match func(Call) bool, err error) (remove func()) {
	if err == nil {
		err = ErrInjected
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := f.nextID
	f.errRules = append(f.errRules, errRule{id: id, method: method, match: match, err: err})
	return func() { f.removeRule(id) }
}

// CorruptReads flips the byte at offset (modulo the value's length; empty
// values are returned as they are) of every value that Get returns or
// Iterate passes on for keys where match returns true (all keys when match
// is nil). The returned function removes the rule.
func (f *Faulty) CorruptReads(match func(p Partition, key []byte) bool, offset int) (remove func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := f.nextID
	f.corrupts = append(f.corrupts, corruptRule{id: id, match: match, offset: offset})
	return func() { f.removeRule(id) }
}

// Reset removes every rule.
func (f *Faulty) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errRules, f.corrupts = nil, nil
}

func (f *Faulty) removeRule(id int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errRules = deleteFunc(f.errRules, func(r errRule) bool { return r.id == id })
	f.corrupts = deleteFunc(f.corrupts, func(r corruptRule) bool { return r.id == id })
}

// deleteFunc is slices.DeleteFunc on a fresh slice, so that snapshots taken
// by rules() stay intact.
func deleteFunc[T any](s []T, del func(T) bool) []T {
	var out []T
	for _, x := range s {
		if !del(x) {
			out = append(out, x)
		}
	}
	return out
}

func (f *Faulty) rules() ([]errRule, []corruptRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errRules, f.corrupts
}

// fault returns the injected error for c, if a rule matches.
func (f *Faulty) fault(c Call) error {
	rules, _ := f.rules()
	for _, r := range rules {
		if r.method == c.Method && (r.match == nil || r.match(c)) {
			return fmt.Errorf("store: injected %s fault (partition %d, key %s): %w",
				c.Method, c.Partition, printableKey(c.Key), r.err)
		}
	}
	return nil
}

// corrupt flips a byte of v in place if a rule matches (p, key).
func (f *Faulty) corrupt(p Partition, key, v []byte) {
	if len(v) == 0 {
		return
	}
	_, rules := f.rules()
	for _, r := range rules {
		if r.match == nil || r.match(p, key) {
			flipByte(v, r.offset)
			return
		}
	}
}

func flipByte(v []byte, offset int) {
	i := offset % len(v)
	if i < 0 {
		i += len(v)
	}
	v[i] ^= 0xFF
}

// Get implements Engine.
func (f *Faulty) Get(p Partition, key []byte) ([]byte, error) {
	if err := f.fault(Call{Method: MethodGet, Partition: p, Key: key}); err != nil {
		return nil, err
	}
	v, err := f.inner.Get(p, key)
	if err == nil {
		f.corrupt(p, key, v) // v is ours to change
	}
	return v, err
}

// Put implements Engine.
func (f *Faulty) Put(p Partition, key, value []byte) error {
	if err := f.fault(Call{Method: MethodPut, Partition: p, Key: key}); err != nil {
		return err
	}
	return f.inner.Put(p, key, value)
}

// Delete implements Engine.
func (f *Faulty) Delete(p Partition, key []byte) error {
	if err := f.fault(Call{Method: MethodDelete, Partition: p, Key: key, Delete: true}); err != nil {
		return err
	}
	return f.inner.Delete(p, key)
}

// Write implements Engine.
func (f *Faulty) Write(batch []Op) error {
	for i := range batch {
		if err := f.fault(Call{Method: MethodWrite, Partition: batch[i].Partition, Key: batch[i].Key, Delete: batch[i].Delete}); err != nil {
			return err
		}
	}
	return f.inner.Write(batch)
}

// Iterate implements Engine.
func (f *Faulty) Iterate(p Partition, prefix []byte, fn func(key, value []byte) error) error {
	return f.iterate(p, prefix, fn, f.inner.Iterate)
}

// IterateFrom implements Engine; faults match it as MethodIterate with
// the start key as the key.
func (f *Faulty) IterateFrom(p Partition, start []byte, fn func(key, value []byte) error) error {
	return f.iterate(p, start, fn, f.inner.IterateFrom)
}

func (f *Faulty) iterate(p Partition, key []byte, fn func(key, value []byte) error,
	inner func(Partition, []byte, func(key, value []byte) error) error) error {
	if err := f.fault(Call{Method: MethodIterate, Partition: p, Key: key}); err != nil {
		return err
	}
	_, corrupts := f.rules()
	if len(corrupts) == 0 {
		return inner(p, key, fn)
	}
	var buf []byte
	return inner(p, key, func(k, v []byte) error {
		// The inner engine's slice must not be changed: corrupt a copy.
		buf = append(buf[:0], v...)
		f.corrupt(p, k, buf)
		return fn(k, buf)
	})
}

// DropPartition implements Engine.
func (f *Faulty) DropPartition(p Partition) error {
	if err := f.fault(Call{Method: MethodDropPartition, Partition: p}); err != nil {
		return err
	}
	return f.inner.DropPartition(p)
}

// Sync implements Engine.
func (f *Faulty) Sync() error {
	if err := f.fault(Call{Method: MethodSync}); err != nil {
		return err
	}
	return f.inner.Sync()
}

// WaitDurable implements Engine.
func (f *Faulty) WaitDurable(ctx context.Context) error {
	if err := f.fault(Call{Method: MethodWaitDurable}); err != nil {
		return err
	}
	return f.inner.WaitDurable(ctx)
}

// Close implements Engine; faults are never injected into it.
func (f *Faulty) Close() error { return f.inner.Close() }

// CorruptStored damages the value stored under (p, key) in the inner
// engine, bypassing every rule: it reads the value, flips the byte at offset
// (modulo its length) and writes it back.
func (f *Faulty) CorruptStored(p Partition, key []byte, offset int) error {
	return CorruptValue(f.inner, p, key, offset)
}

// CorruptValue damages the value stored under (p, key) in e: it reads it,
// flips every bit of the byte at offset (modulo the length) and writes the
// result back raw, as a disk error that the engine cannot see would. The
// value must not be empty.
func CorruptValue(e Engine, p Partition, key []byte, offset int) error {
	v, err := e.Get(p, key)
	if err != nil {
		return fmt.Errorf("store: corrupt value: %w", err)
	}
	if len(v) == 0 {
		return errors.New("store: corrupt value: value is empty")
	}
	flipByte(v, offset)
	return e.Put(p, key, v)
}

// Matchers for fault rules.

// KeyHasPrefix matches calls on keys that start with prefix, in any
// partition.
func KeyHasPrefix(prefix []byte) func(Call) bool {
	prefix = bytes.Clone(prefix)
	return func(c Call) bool { return bytes.HasPrefix(c.Key, prefix) }
}

// OnPartition matches calls on partition p.
func OnPartition(p Partition) func(Call) bool {
	return func(c Call) bool { return c.Partition == p }
}

// Once wraps match (nil: every call) so that it matches only the first call
// it would have matched.
func Once(match func(Call) bool) func(Call) bool {
	var fired atomic.Bool
	return func(c Call) bool {
		if match != nil && !match(c) {
			return false
		}
		return fired.CompareAndSwap(false, true)
	}
}
