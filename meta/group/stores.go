package group

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Stores are where Raft keeps its log, its term and vote, and its
// snapshots.
type Stores struct {
	Log    raft.LogStore
	Stable raft.StableStore
	Snaps  raft.SnapshotStore
	closer io.Closer
}

// OpenStores opens the durable stores under dir: raft.db (bbolt, log and
// stable store, fsynced on every append) and snapshots/ (two retained).
func OpenStores(dir string, logger hclog.Logger) (*Stores, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("group: create %s: %w", dir, err)
	}
	db, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("group: open raft log: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, 2, logger)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("group: open snapshots: %w", err)
	}
	logs, err := raft.NewLogCache(512, db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("group: log cache: %w", err)
	}
	return &Stores{Log: logs, Stable: db, Snaps: snaps, closer: db}, nil
}

// InmemStores are volatile stores for tests. Reusing one across a
// Close and a new Open models a restart that kept its disk.
func InmemStores() *Stores {
	s := raft.NewInmemStore()
	return &Stores{Log: s, Stable: s, Snaps: raft.NewInmemSnapshotStore()}
}

// Close closes what OpenStores opened.
func (s *Stores) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}
