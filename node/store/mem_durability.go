package store

import (
	"time"
)

// undoRecord remembers what a write replaced, so that Crash can take the
// write back. Records are kept oldest first.
type undoRecord struct {
	at  time.Time
	p   Partition
	k   string
	old []byte
	had bool
}

// writeTime is the time a write happens under the model: the clock's, never
// earlier than the previous write's. Under SyncInterval it also forgets the
// undo records that the last commit made durable. Call with mu held.
func (m *Mem) writeTime() time.Time {
	if m.cfg.Sync == SyncAlways {
		return time.Time{}
	}
	now := m.cfg.Clock.Now()
	if now.Before(m.last) {
		now = m.last
	}
	m.last = now
	if m.cfg.Sync == SyncInterval {
		m.trimDurable(m.lastCommit(now))
	}
	return now
}

// record notes a change about to be made. Call with mu held.
func (m *Mem) record(p Partition, k string, old []byte, had bool, at time.Time) {
	if m.cfg.Sync == SyncAlways {
		return
	}
	m.undo = append(m.undo, undoRecord{at: at, p: p, k: k, old: old, had: had})
}

// lastCommit is the latest group-commit time at or before now.
func (m *Mem) lastCommit(now time.Time) time.Time {
	if now.Before(m.epoch) {
		return m.epoch
	}
	n := now.Sub(m.epoch) / m.cfg.SyncInterval
	return m.epoch.Add(n * m.cfg.SyncInterval)
}

// nextCommit is the first group-commit time strictly after now: the one that
// covers a write made at now.
func (m *Mem) nextCommit(now time.Time) time.Time {
	return m.lastCommit(now).Add(m.cfg.SyncInterval)
}

// trimDurable forgets the records of writes made before commit.
func (m *Mem) trimDurable(commit time.Time) {
	i := 0
	for i < len(m.undo) && m.undo[i].at.Before(commit) {
		i++
	}
	if i == 0 {
		return
	}
	n := copy(m.undo, m.undo[i:])
	clear(m.undo[n:])
	m.undo = m.undo[:n]
}

// markAllDurable is Sync: nothing written so far can be lost. Call with mu
// held.
func (m *Mem) markAllDurable() {
	m.undo = nil
	close(m.synced)
	m.synced = make(chan struct{})
}

// Crash simulates a power loss followed by a restart: it discards every
// write that was not yet durable under the policy (see Mem), wakes
// WaitDurable callers with ErrClosed, and leaves the engine open with a
// fresh group-commit schedule starting now. On a closed Mem it is a plain
// restart.
func (m *Mem) Crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	keep := 0 // undo records at or after keep are lost writes
	switch m.cfg.Sync {
	case SyncInterval:
		commit := m.lastCommit(now)
		for keep < len(m.undo) && m.undo[keep].at.Before(commit) {
			keep++
		}
	case SyncNone:
		// Nothing since the last Sync is durable.
	}
	for i := len(m.undo) - 1; i >= keep; i-- {
		r := &m.undo[i]
		m.restore(r.p, r.k, r.old, r.had)
	}
	m.undo = nil
	m.closed = false
	m.epoch = now
	m.last = time.Time{}
	close(m.crashed)
	m.crashed = make(chan struct{})
}

// restore puts back what a write replaced, without recording it.
func (m *Mem) restore(p Partition, k string, old []byte, had bool) {
	part := m.parts[p]
	if part == nil {
		part = &memPart{vals: make(map[string][]byte)}
		m.parts[p] = part
	}
	cur, has := part.vals[k]
	if has {
		m.bytes -= int64(len(cur))
	} else if had {
		m.keys++
		m.bytes += int64(len(k))
	}
	if had {
		part.vals[k] = old
		m.bytes += int64(len(old))
		if !has {
			part.dirty = true
		}
		return
	}
	if has {
		delete(part.vals, k)
		m.keys--
		m.bytes -= int64(len(k))
		part.dirty = true
	}
}
