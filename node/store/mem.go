package store

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"
)

// Mem is an in-memory Engine for tests and the simulator. It enforces the
// same key and batch limits as Badger, so code tested on Mem does not fail
// on Badger for want of splitting a batch.
//
// Mem also models durability, to let the simulator test what a power loss
// does under each policy. Crash discards every write that the policy had not
// yet made durable and reopens the engine:
//
//   - SyncAlways: every write that returned is durable; Crash loses nothing.
//   - SyncInterval: group commits happen at every multiple of SyncInterval
//     on the configured clock, counted from when the engine was created (or
//     last crashed). A write is durable once a commit time has passed after
//     it (a write at exactly a commit time waits for the next one), or
//     once a WaitDurable (which commits at once, as Badger's does) returned
//     after it; Crash keeps what was durable and loses the rest. With a
//     clock.Fake this is deterministic: there is no goroutine.
//   - SyncNone: only Sync and Close make writes durable.
//
// Sync and Close make everything durable. A Crash of a closed Mem is a
// restart after a clean shutdown: all data survives and the engine reopens.
// Under SyncNone the record of undurable writes grows until Sync is called.
// The clock must not run backwards.
type Mem struct {
	cfg Config

	mu     sync.RWMutex
	parts  map[Partition]*memPart
	closed bool
	keys   int64
	bytes  int64

	// Durability model (see mem_durability.go); unused under SyncAlways.
	epoch   time.Time // group commits at epoch + k*SyncInterval
	last    time.Time // latest write time, to keep undo in time order
	undo    []undoRecord
	synced  chan struct{} // closed (and replaced) by Sync and Close
	crashed chan struct{} // closed (and replaced) by Crash
}

var _ Engine = (*Mem)(nil)

// memPart is one vnode: a map for lookups plus its keys in sorted order,
// rebuilt lazily when keys were added or removed since the last iteration.
type memPart struct {
	vals   map[string][]byte
	sorted []string
	dirty  bool
}

// NewMem returns an empty Mem. With no argument it uses DefaultLocalConfig
// with SyncAlways (nothing is ever lost); otherwise the zero fields of cfg[0]
// (Logger, Clock, sizes, SyncInterval) are taken from DefaultLocalConfig. It
// panics if the result fails Validate.
func NewMem(cfg ...Config) *Mem {
	c := DefaultLocalConfig()
	c.Sync = SyncAlways
	if len(cfg) > 0 {
		c = withLocalDefaults(cfg[0])
	}
	if err := c.Validate(); err != nil {
		panic(err)
	}
	m := &Mem{
		cfg:     c,
		parts:   make(map[Partition]*memPart),
		synced:  make(chan struct{}),
		crashed: make(chan struct{}),
	}
	m.epoch = c.Clock.Now()
	return m
}

func withLocalDefaults(c Config) Config {
	d := DefaultLocalConfig()
	if c.SyncInterval == 0 {
		c.SyncInterval = d.SyncInterval
	}
	if c.MemTableSize == 0 {
		c.MemTableSize = d.MemTableSize
	}
	if c.NumMemtables == 0 {
		c.NumMemtables = d.NumMemtables
	}
	if c.NumCompactors == 0 {
		c.NumCompactors = d.NumCompactors
	}
	if c.TableSize == 0 {
		c.TableSize = d.TableSize
	}
	if c.ValueLogFileSize == 0 {
		c.ValueLogFileSize = d.ValueLogFileSize
	}
	if c.ValueThreshold == 0 {
		c.ValueThreshold = d.ValueThreshold
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.Clock == nil {
		c.Clock = d.Clock
	}
	return c
}

// Get implements Engine.
func (m *Mem) Get(p Partition, key []byte) ([]byte, error) {
	if err := checkKey(p, key); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	part := m.parts[p]
	if part == nil {
		return nil, ErrNotFound
	}
	v, ok := part.vals[string(key)]
	if !ok {
		return nil, ErrNotFound
	}
	return append([]byte{}, v...), nil
}

// Put implements Engine.
func (m *Mem) Put(p Partition, key, value []byte) error {
	return m.Write([]Op{{Partition: p, Key: key, Value: value}})
}

// Delete implements Engine.
func (m *Mem) Delete(p Partition, key []byte) error {
	return m.Write([]Op{{Partition: p, Key: key, Delete: true}})
}

// Write implements Engine; the batch is applied under one lock.
func (m *Mem) Write(batch []Op) error {
	if err := checkBatch(batch, m.cfg.MemTableSize, m.cfg.ValueThreshold); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	at := m.writeTime()
	for i := range batch {
		op := &batch[i]
		k := string(op.Key)
		if op.Delete {
			m.del(op.Partition, k, at)
		} else {
			m.set(op.Partition, k, append([]byte{}, op.Value...), at)
		}
	}
	return nil
}

// set stores v (owned by m) under (p, k), recording the old value for Crash.
func (m *Mem) set(p Partition, k string, v []byte, at time.Time) {
	part := m.parts[p]
	if part == nil {
		part = &memPart{vals: make(map[string][]byte)}
		m.parts[p] = part
	}
	old, had := part.vals[k]
	m.record(p, k, old, had, at)
	if had {
		m.bytes -= int64(len(old))
	} else {
		m.keys++
		m.bytes += int64(len(k))
		// Keys loaded in ascending order keep the sorted slice valid.
		if !part.dirty && (len(part.sorted) == 0 || part.sorted[len(part.sorted)-1] < k) {
			part.sorted = append(part.sorted, k)
		} else {
			part.dirty = true
		}
	}
	m.bytes += int64(len(v))
	part.vals[k] = v
}

func (m *Mem) del(p Partition, k string, at time.Time) {
	part := m.parts[p]
	if part == nil {
		return
	}
	old, had := part.vals[k]
	if !had {
		return
	}
	m.record(p, k, old, true, at)
	delete(part.vals, k)
	m.keys--
	m.bytes -= int64(len(k) + len(old))
	part.dirty = true
}

// Iterate implements Engine. It copies the matching entries' references
// under the lock (values are never modified in place, so that is a
// snapshot), then calls fn without holding it.
func (m *Mem) Iterate(p Partition, prefix []byte, fn func(key, value []byte) error) error {
	return m.iterate(p, prefix, prefix, fn)
}

// IterateFrom implements Engine.
func (m *Mem) IterateFrom(p Partition, start []byte, fn func(key, value []byte) error) error {
	return m.iterate(p, nil, start, fn)
}

// iterate visits the keys of p under prefix from start on.
func (m *Mem) iterate(p Partition, prefix, start []byte, fn func(key, value []byte) error) error {
	type entry struct {
		k string
		v []byte
	}
	var snap []entry
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	if part := m.parts[p]; part != nil {
		if part.dirty {
			part.sorted = part.sorted[:0]
			for k := range part.vals {
				part.sorted = append(part.sorted, k)
			}
			sort.Strings(part.sorted)
			part.dirty = false
		}
		pfx := string(prefix)
		from := max(pfx, string(start))
		for i := sort.SearchStrings(part.sorted, from); i < len(part.sorted); i++ {
			k := part.sorted[i]
			if !strings.HasPrefix(k, pfx) {
				break
			}
			snap = append(snap, entry{k, part.vals[k]})
		}
	}
	m.mu.Unlock()
	// The callback gets scratch copies, so it cannot damage the store.
	var kb, vb []byte
	for _, e := range snap {
		kb = append(kb[:0], e.k...)
		vb = append(vb[:0], e.v...)
		if err := fn(kb, vb); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// DropPartition implements Engine.
func (m *Mem) DropPartition(p Partition) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	part := m.parts[p]
	if part == nil {
		return nil
	}
	at := m.writeTime()
	for k, v := range part.vals {
		m.record(p, k, v, true, at)
		m.keys--
		m.bytes -= int64(len(k) + len(v))
	}
	delete(m.parts, p)
	return nil
}

// Sync implements Engine: everything written so far becomes durable.
func (m *Mem) Sync() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.markAllDurable()
	return nil
}

// WaitDurable implements Engine. Under SyncInterval it commits at once, as
// Badger's group commit does for a waiter: every write so far survives a
// later Crash.
func (m *Mem) WaitDurable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.cfg.Sync == SyncInterval {
		m.markAllDurable()
	}
	return nil
}

// Close implements Engine. Like Badger's, it makes every write durable.
func (m *Mem) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.markAllDurable()
	m.closed = true
	return nil
}

// Stats returns the exact number of keys and bytes of keys and values.
func (m *Mem) Stats() (Stats, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Stats{}, ErrClosed
	}
	return Stats{Keys: m.keys, Bytes: m.bytes}, nil
}

// Dump returns a copy of every key and value of partition p, for tests that
// compare replicas.
func (m *Mem) Dump(p Partition) (map[string][]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	out := make(map[string][]byte)
	if part := m.parts[p]; part != nil {
		for k, v := range part.vals {
			out[k] = bytes.Clone(v)
		}
	}
	return out, nil
}
