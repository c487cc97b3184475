package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// badgerSyncer makes every write that returned so far durable, for a Badger
// opened without SyncWrites (the interval and none policies).
//
// db.Sync alone does not: it syncs the WAL of the current memtable and the
// current value-log file only. When a memtable fills, Badger starts a new
// one and flushes the old one to a table in the background; until that
// table is written, the old memtable's writes live only in its WAL file
// (NNNNN.mem), which nothing syncs. Likewise a value-log file (NNNNNN.vlog)
// that fills is closed without a sync when SyncWrites is off. So after
// db.Sync the syncer also fsyncs every older WAL still present, every
// older value-log file that may have been written since the previous sync
// (numbered at or above the newest one then), and the directory when a file
// has appeared. Both kinds of file are numbered in creation order, so the
// newest of each is the current one, which db.Sync covered; if a new one
// appeared after db.Sync ran, the one db.Sync covered is now older and is
// fsynced again, which is harmless. In the steady state (no file filled
// since the last sync) the cost is db.Sync's alone.
//
// Badger writes these files through shared memory maps; on Linux an fsync
// of the file writes back its mapped pages too.
type badgerSyncer struct {
	db  *badger.DB
	dir string

	mu        sync.Mutex
	vlogFloor uint64          // value-log files below this were synced once full
	known     map[string]bool // files seen by the previous sync
	// dirf is the directory, kept open (lazily) and rewound for each
	// listing: opening and closing it on every sync (200 a second under
	// the interval policy) was most of a listing's cost. nil until the
	// first sync and after close.
	dirf *os.File
	// watch, where the system has one, says whether the directory's
	// entries may have changed since listed was taken; while they have
	// not, listed is reused and the directory is not read at all (Badger
	// adds or removes a file only when a memtable or value-log file fills
	// or a table is written). nil: list every time.
	watch  *dirWatch
	listed []string // the last listing; nil when there is none to reuse
}

func newBadgerSyncer(db *badger.DB, dir string) *badgerSyncer {
	return &badgerSyncer{db: db, dir: dir, known: map[string]bool{}}
}

// names lists the directory's file names through the kept descriptor, or
// returns the previous listing when the watch says nothing has changed
// since. The caller must not modify the result.
func (s *badgerSyncer) names() ([]string, error) {
	if s.dirf == nil {
		// The watch starts before the first listing, so that it sees
		// every change made after that listing.
		if w, err := newDirWatch(s.dir); err == nil {
			s.watch = w
		}
		f, err := os.Open(s.dir)
		if err != nil {
			s.closeLocked()
			return nil, err
		}
		s.dirf = f
	} else {
		if s.watch != nil && s.listed != nil && !s.watch.changed() {
			return s.listed, nil
		}
		if _, err := s.dirf.Seek(0, io.SeekStart); err != nil {
			s.listed = nil
			return nil, err
		}
	}
	names, err := s.dirf.Readdirnames(-1)
	if err != nil {
		s.listed = nil
		return nil, err
	}
	s.listed = names
	return names, nil
}

// close releases the directory descriptor and the watch; a later sync
// opens them again.
func (s *badgerSyncer) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *badgerSyncer) closeLocked() error {
	var errs []error
	if s.watch != nil {
		errs = append(errs, s.watch.close())
		s.watch = nil
	}
	if s.dirf != nil {
		errs = append(errs, s.dirf.Close())
		s.dirf = nil
	}
	s.listed = nil
	return errors.Join(errs...)
}

type numberedFile struct {
	name string
	n    uint64
}

func (s *badgerSyncer) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.db.Sync(); err != nil {
		return err
	}
	names, err := s.names()
	if err != nil {
		return fmt.Errorf("list %s: %w", s.dir, err)
	}
	var wals, vlogs []numberedFile
	for _, name := range names {
		if n, ok := fileNumber(name, ".mem"); ok {
			wals = append(wals, numberedFile{name, n})
		} else if n, ok := fileNumber(name, ".vlog"); ok && n >= s.vlogFloor {
			vlogs = append(vlogs, numberedFile{name, n})
		}
	}
	seen := make(map[string]bool, len(wals)+len(vlogs))
	appeared := false
	if err := s.syncOlder(wals, seen, &appeared); err != nil {
		return err
	}
	if err := s.syncOlder(vlogs, seen, &appeared); err != nil {
		return err
	}
	if appeared {
		if err := s.dirf.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", s.dir, err)
		}
	}
	for _, f := range vlogs {
		s.vlogFloor = max(s.vlogFloor, f.n)
	}
	s.known = seen
	return nil
}

// syncOlder fsyncs every file of files but the newest (the current one,
// which db.Sync covered), noting in seen the names and in appeared whether
// one is new since the previous sync.
func (s *badgerSyncer) syncOlder(files []numberedFile, seen map[string]bool, appeared *bool) error {
	var newest uint64
	for _, f := range files {
		newest = max(newest, f.n)
	}
	for _, f := range files {
		seen[f.name] = true
		if !s.known[f.name] {
			*appeared = true
		}
		if f.n == newest {
			continue
		}
		if err := fsyncPath(filepath.Join(s.dir, f.name)); err != nil {
			return err
		}
	}
	return nil
}

// fileNumber parses Badger's numbered file names ("000042.vlog").
func fileNumber(name, suffix string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, suffix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(base, 10, 64)
	return n, err == nil
}

// fsyncPath fsyncs a file or directory. A file that has gone (a WAL whose
// memtable reached a table, a value-log file collected) needs nothing.
func fsyncPath(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}
