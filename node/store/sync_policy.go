package store

import "fmt"

// SyncPolicy says when an engine's writes reach stable storage.
type SyncPolicy int

const (
	// SyncAlways fsyncs before a write returns; WaitDurable returns at
	// once. Badger does it by immediate group commit: a Put, Delete, Write
	// or DropPartition, once applied, waits for a commit (the fsyncs a
	// SyncInterval commit does) that began after it, and returns that
	// commit's error. There is no timer: a commit starts as soon as
	// someone waits and none is running, and while writers keep waiting
	// the commits run back to back, each covering every write that
	// returned during the one before. Concurrent writers thus share
	// fsyncs; a lone writer pays one per write. A write is visible to
	// readers once applied, before its fsync completes; one whose fsync
	// failed returns the error and, though visible, is not known to be
	// durable. See DefaultConfig for figures.
	SyncAlways SyncPolicy = iota
	// SyncInterval (timed group commit) returns writes unsynced and
	// fsyncs everything written so far every Config.SyncInterval. A power
	// loss loses at most the last interval. WaitDurable does not wait for
	// the tick: it starts a group commit at once (shared with every other
	// waiter), so a DW write costs what it costs under SyncAlways.
	SyncInterval
	// SyncNone never fsyncs on its own; only Sync and Close do. Data in the
	// OS page cache survives a crash of the process (kill -9) but not of
	// the machine. WaitDurable returns at once and promises nothing.
	SyncNone
)

var syncPolicyNames = [...]string{SyncAlways: "always", SyncInterval: "interval", SyncNone: "none"}

// String returns "always", "interval" or "none".
func (s SyncPolicy) String() string {
	if s < 0 || int(s) >= len(syncPolicyNames) {
		return fmt.Sprintf("SyncPolicy(%d)", int(s))
	}
	return syncPolicyNames[s]
}

// ParseSyncPolicy parses "always", "interval" or "none".
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	for i, name := range syncPolicyNames {
		if s == name {
			return SyncPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("store: unknown sync policy %q (want always, interval or none)", s)
}

func (s SyncPolicy) valid() bool { return s >= 0 && int(s) < len(syncPolicyNames) }

// MarshalText implements encoding.TextMarshaler (for flag.TextVar, JSON).
func (s SyncPolicy) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("store: invalid sync policy %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *SyncPolicy) UnmarshalText(b []byte) error {
	p, err := ParseSyncPolicy(string(b))
	if err != nil {
		return err
	}
	*s = p
	return nil
}
