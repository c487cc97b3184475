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
	"sync/atomic"
)

// badgerSyncer makes every write that returned so far durable, for a Badger
// opened without SyncWrites (the engine does its own syncing).
//
// It does not call db.Sync. db.Sync msyncs the current memtable's WAL and
// the current value-log file, in two blocking system calls, every time;
// but cairn's values are almost all below ValueThreshold, so they live in
// the LSM tree (the WAL) and the value log is rarely written. Instead the
// syncer fsyncs the current WAL (the newest NNNNN.mem, kept open) and the
// current value-log file only when a write may have reached it: Write
// reports, before it applies, any value of ValueThreshold bytes or more
// (noteValueLog, Badger's own test for the value log), and so does a value
// log GC, which copies values into it. One blocking system call per group
// commit instead of two is worth it on a node with one P: each one that
// outlasts sysmon's tick hands the P to another thread. On Linux an fsync
// of a file writes back the pages written through its shared memory map,
// which is how Badger writes these files.
//
// The current files are not all it syncs. When a memtable fills, Badger
// starts a new one and flushes the old one to a table in the background;
// until that table is written, the old memtable's writes live only in its
// WAL file, which nothing else syncs. Likewise a value-log file that fills
// is closed without a sync when SyncWrites is off. So the syncer also
// fsyncs every older WAL still present, every older value-log file that
// may have been written since the previous sync (numbered at or above the
// newest one then), and the directory when a file has appeared. Both kinds
// of file are numbered in creation order, so the newest of each is the
// current one. A write that returned before a sync began is in a file that
// existed when the sync listed the directory, or in a table Badger has
// synced. In the steady state (no file filled since the last sync) the
// cost is one fsync.
type badgerSyncer struct {
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

	// wal is the newest WAL file, open while it is the newest (walName);
	// nil until the first sync and after close.
	wal     *os.File
	walName string

	// valueLog says that a write may have reached the value log since the
	// last sync began (noteValueLog); it starts true, so the first sync
	// covers whatever Badger replayed or wrote while opening.
	valueLog atomic.Bool

	// onFsync, if set (by tests), is called with the name of each file
	// fsynced ("" for the directory), under mu; an error it returns fails
	// the sync as the fsync's own would.
	onFsync func(name string) error
}

func newBadgerSyncer(dir string) *badgerSyncer {
	s := &badgerSyncer{dir: dir, known: map[string]bool{}}
	s.valueLog.Store(true)
	return s
}

// noteValueLog records that a write may reach the value log: the next sync
// fsyncs the current value-log file too. Call it before the write is
// applied, so that any sync that begins after the write returns sees it.
func (s *badgerSyncer) noteValueLog() { s.valueLog.Store(true) }

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
	if s.wal != nil {
		errs = append(errs, s.wal.Close())
		s.wal, s.walName = nil, ""
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
	// Taken before anything is synced: a write noted after this is covered
	// by the next sync, which its caller waits for.
	valueLog := s.valueLog.Swap(false)
	err := s.syncLocked(valueLog)
	if err != nil && valueLog {
		s.valueLog.Store(true) // the next sync tries the value log again
	}
	return err
}

func (s *badgerSyncer) syncLocked(valueLog bool) error {
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
	curWAL, curVlog := newestFile(wals), newestFile(vlogs)
	if len(wals) > 0 {
		if err := s.syncWAL(curWAL.name); err != nil {
			return err
		}
	}
	if len(vlogs) > 0 && valueLog {
		if err := s.fsync(curVlog.name); err != nil {
			return err
		}
	}
	seen := make(map[string]bool, len(wals)+len(vlogs))
	appeared := false
	if err := s.syncOlder(wals, curWAL, seen, &appeared); err != nil {
		return err
	}
	if err := s.syncOlder(vlogs, curVlog, seen, &appeared); err != nil {
		return err
	}
	if appeared {
		if err := s.dirf.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", s.dir, err)
		}
		if err := s.fsynced(""); err != nil {
			return err
		}
	}
	for _, f := range vlogs {
		s.vlogFloor = max(s.vlogFloor, f.n)
	}
	s.known = seen
	return nil
}

// syncWAL fsyncs the current WAL through the descriptor kept open for it,
// opening it first when name is new. A WAL that has gone was flushed to a
// table, which Badger synced.
func (s *badgerSyncer) syncWAL(name string) error {
	if s.walName != name {
		if s.wal != nil {
			_ = s.wal.Close() // read-only: nothing to lose
			s.wal, s.walName = nil, ""
		}
		f, err := os.Open(filepath.Join(s.dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		s.wal, s.walName = f, name
	}
	if err := s.wal.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", s.wal.Name(), err)
	}
	return s.fsynced(name)
}

// newestFile returns the highest-numbered of files (the zero value when
// there are none).
func newestFile(files []numberedFile) numberedFile {
	var newest numberedFile
	for _, f := range files {
		if f.n >= newest.n {
			newest = f
		}
	}
	return newest
}

func (s *badgerSyncer) fsync(name string) error {
	if err := fsyncPath(filepath.Join(s.dir, name)); err != nil {
		return err
	}
	return s.fsynced(name)
}

func (s *badgerSyncer) fsynced(name string) error {
	if s.onFsync != nil {
		return s.onFsync(name)
	}
	return nil
}

// syncOlder fsyncs every file of files but current (the newest, which
// syncLocked handles), noting in seen the names and in appeared whether
// one is new since the previous sync.
func (s *badgerSyncer) syncOlder(files []numberedFile, current numberedFile, seen map[string]bool, appeared *bool) error {
	for _, f := range files {
		seen[f.name] = true
		if !s.known[f.name] {
			*appeared = true
		}
		if f.name == current.name {
			continue
		}
		if err := s.fsync(f.name); err != nil {
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
