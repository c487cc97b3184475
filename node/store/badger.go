package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/y"
)

// Badger is the production Engine: one Badger database per node holding
// every local vnode, keyed as described in keys.go.
type Badger struct {
	cfg Config
	db  *badger.DB
	// gc runs the group commits: immediate under SyncAlways (every write
	// waits for one); under SyncInterval on a ticker and at once for a
	// WaitDurable; nil under SyncNone.
	gc *groupCommit
	// syncer makes writes durable (Badger runs without SyncWrites).
	syncer *badgerSyncer

	// onApplied, if set (by tests), runs after Write has applied a batch
	// and before it waits for the group commit.
	onApplied func(batch []Op)

	// mu guards closed; inflight counts calls in progress so that Close
	// waits for them before closing the database under them. A call joins
	// inflight under mu and leaves without it, so a callback of Iterate may
	// call the engine while Close waits without deadlocking.
	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup

	// dropMu makes writes wait while DropPrefix runs: Badger itself would
	// fail them with ErrBlockedWrites.
	dropMu sync.RWMutex

	// cache is the row cache (nil when Config.CacheSize is 0).
	cache *rowCache
}

var _ Engine = (*Badger)(nil)

// OpenBadger opens (creating if needed) the database under cfg.Dir.
//
// Badger always runs without SyncWrites: the engine does its own syncing,
// with fsyncs of the files that hold unsynced writes (see badgerSyncer),
// in group commits (see groupCommit). Under SyncAlways every Write, Put,
// Delete and DropPartition, once applied, waits for a group commit that
// began after it and returns that commit's error: it returns only once
// fsynced, and concurrent writers share fsyncs. (Badger's own SyncWrites
// also fsyncs before returning, but syncs each transaction's WAL in turn
// on its one write goroutine, so concurrent writers queue for one fsync
// each.) Under SyncInterval a goroutine on cfg.Clock commits every
// cfg.SyncInterval and releases WaitDurable callers. Under SyncNone only
// Sync and Close sync.
// Block checksums are verified when a block is read from disk and value
// checksums when a value is read from the value log. A damaged value-log
// entry makes the read fail with ErrCorrupt (logged with the key). A damaged
// table block is different: Badger's table iterators keep the checksum
// error to themselves, so the keys in that block read as missing (or as
// an older version held in a deeper level) until read repair or
// anti-entropy rewrites them from a replica; the damaged bytes themselves
// are never returned.
func OpenBadger(cfg Config) (*Badger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		return nil, errors.New("store: Config.Dir is required for Badger")
	}
	opts := badger.DefaultOptions(cfg.Dir).
		WithSyncWrites(false).
		// Not WithLoggingLevel: it replaces the logger with Badger's own.
		WithLogger(badgerLogger{cfg.Logger}).
		WithMemTableSize(cfg.MemTableSize).
		WithNumMemtables(cfg.NumMemtables).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithNumCompactors(cfg.NumCompactors).
		WithBaseTableSize(cfg.TableSize).
		WithValueLogFileSize(cfg.ValueLogFileSize).
		WithValueThreshold(cfg.ValueThreshold).
		// Transactions here never read, so there is nothing to conflict;
		// per-key ordering is the node's job.
		WithDetectConflicts(false).
		// Badger's metrics are process-global expvars.
		WithMetricsEnabled(false).
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true)
	// One table size at every level (Badger doubles it per level): see
	// Config.TableSize. Badger has no With method for it.
	opts.TableSizeMultiplier = 1
	if cfg.BlockCacheSize == 0 {
		opts = opts.WithCompression(options.None)
	}
	db, err := badger.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("store: open badger in %s: %w", cfg.Dir, err)
	}
	b := &Badger{cfg: cfg, db: db, syncer: newBadgerSyncer(cfg.Dir), cache: newRowCache(cfg.CacheSize)}
	switch cfg.Sync {
	case SyncAlways:
		b.gc = newImmediateCommit(cfg.Clock, cfg.CommitDelay, b.syncer.sync, cfg.Logger)
	case SyncInterval:
		b.gc = newGroupCommit(cfg.Clock, cfg.SyncInterval, cfg.CommitDelay, b.syncer.sync, cfg.Logger)
	}
	return b, nil
}

// enter registers a call, or returns ErrClosed. Pair with exit.
func (b *Badger) enter() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	b.inflight.Add(1)
	return nil
}

func (b *Badger) exit() { b.inflight.Done() }

// Get implements Engine.
func (b *Badger) Get(p Partition, key []byte) ([]byte, error) {
	if err := checkKey(p, key); err != nil {
		return nil, err
	}
	if err := b.enter(); err != nil {
		return nil, err
	}
	defer b.exit()
	k := encodeKey(p, key)
	var ticket fillTicket
	if b.cache != nil {
		if v, ok := b.cache.get(k); ok {
			return v, nil
		}
		ticket = b.cache.ticket(k)
	}
	var v []byte
	err := b.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(k)
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		if err == nil && lostValue(item, v) {
			err = errLostValue
		}
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, b.readError("get", p, key, err)
	}
	if v == nil {
		v = []byte{}
	}
	if b.cache != nil {
		b.cache.fill(ticket, k, v)
	}
	return v, nil
}

// Put implements Engine.
func (b *Badger) Put(p Partition, key, value []byte) error {
	return b.Write([]Op{{Partition: p, Key: key, Value: value}})
}

// Delete implements Engine.
func (b *Badger) Delete(p Partition, key []byte) error {
	return b.Write([]Op{{Partition: p, Key: key, Delete: true}})
}

// Write implements Engine with one Badger transaction. Under SyncAlways it
// then waits for a group commit that began after the transaction returned;
// if that commit fails, Write returns its error (wrapped), and the batch,
// although applied and visible to readers, is not known to be durable.
func (b *Badger) Write(batch []Op) error {
	if err := checkBatch(batch, b.cfg.MemTableSize, b.cfg.ValueThreshold); err != nil {
		return err
	}
	if err := b.enter(); err != nil {
		return err
	}
	defer b.exit()
	if err := b.apply(batch); err != nil {
		return err
	}
	if hook := b.onApplied; hook != nil {
		hook(batch)
	}
	if err := b.waitSynced(); err != nil {
		return fmt.Errorf("store: write %d ops: %w", len(batch), err)
	}
	return nil
}

// apply runs batch in one transaction (without waiting for a sync).
func (b *Badger) apply(batch []Op) error {
	b.dropMu.RLock()
	defer b.dropMu.RUnlock()
	var kbuf [2][]byte
	keys := kbuf[:0]
	valueLog := false
	for i := range batch {
		keys = append(keys, encodeKey(batch[i].Partition, batch[i].Key))
		// Badger's own test: such a value goes to the value log.
		valueLog = valueLog || !batch[i].Delete && int64(len(batch[i].Value)) >= b.cfg.ValueThreshold
	}
	if valueLog {
		b.syncer.noteValueLog() // before the write, so every later sync sees it
	}
	if b.gc != nil {
		// Ended after noteWrite, and before the caller waits for a commit.
		b.gc.beginWrite()
		defer b.gc.endWrite()
	}
	var cw cacheWrite
	if b.cache != nil {
		b.cache.begin(&cw, keys)
	}
	err := b.db.Update(func(txn *badger.Txn) error {
		for i := range batch {
			op := &batch[i]
			k := keys[i]
			var err error
			if op.Delete {
				err = txn.Delete(k)
			} else {
				err = txn.Set(k, op.Value)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if b.cache != nil {
		b.cache.end(&cw, keys, batch, err == nil)
	}
	if errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("%w: %v", ErrBatchTooLarge, err)
	}
	if err != nil {
		return fmt.Errorf("store: write %d ops: %w", len(batch), err)
	}
	if b.gc != nil {
		b.gc.noteWrite()
	}
	return nil
}

// waitSynced, under SyncAlways, waits for a group commit that began after
// the caller's write returned (the caller called noteWrite before) and
// returns its error. Under the other policies it returns nil at once.
//
// It runs inside enter/exit: Close waits for it, and the commit goroutine
// keeps running until then, so the caller is always released by a commit
// that covers its write.
func (b *Badger) waitSynced() error {
	if b.cfg.Sync != SyncAlways {
		return nil
	}
	if err := b.gc.wait(context.Background()); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// Iterate implements Engine with a prefix iterator in a read transaction.
func (b *Badger) Iterate(p Partition, prefix []byte, fn func(key, value []byte) error) error {
	return b.iterate(p, prefix, prefix, fn)
}

// IterateFrom implements Engine.
func (b *Badger) IterateFrom(p Partition, start []byte, fn func(key, value []byte) error) error {
	return b.iterate(p, nil, start, fn)
}

// iterate visits the keys of p under prefix from start on.
func (b *Badger) iterate(p Partition, prefix, start []byte, fn func(key, value []byte) error) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.exit()
	pfx := encodeKey(p, prefix)
	from := pfx
	if bytes.Compare(start, prefix) > 0 {
		from = encodeKey(p, start)
	}
	return b.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = pfx
		// Values are read one at a time in the callback, without copies.
		opts.PrefetchValues = false
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(from); it.ValidForPrefix(pfx); it.Next() {
			item := it.Item()
			k := item.Key()[partitionLen:]
			k = k[:len(k):len(k)]
			var ferr error
			err := item.Value(func(v []byte) error {
				if lostValue(item, v) {
					return errLostValue
				}
				ferr = fn(k, v[:len(v):len(v)])
				return nil
			})
			if err != nil {
				return b.readError("iterate", p, k, err)
			}
			if errors.Is(ferr, ErrStop) {
				return nil
			}
			if ferr != nil {
				return ferr
			}
		}
		return nil
	})
}

// DropPartition implements Engine with Badger's DropPrefix, which reclaims
// the space at once. While it runs (it flushes the memtables and rewrites
// the tables that hold the partition: from milliseconds to seconds with the
// size of the database) every write to the engine waits.
func (b *Badger) DropPartition(p Partition) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.exit()
	if err := b.dropPrefix(p); err != nil {
		return err
	}
	if err := b.waitSynced(); err != nil {
		return fmt.Errorf("store: drop partition %d: %w", p, err)
	}
	return nil
}

// dropPrefix runs DropPrefix while writes wait.
func (b *Badger) dropPrefix(p Partition) error {
	b.dropMu.Lock()
	defer b.dropMu.Unlock()
	err := b.db.DropPrefix(partitionPrefix(p))
	if b.cache != nil {
		// Even a failed drop may have removed some of the keys.
		b.cache.dropPartition(p)
	}
	if err != nil {
		return fmt.Errorf("store: drop partition %d: %w", p, err)
	}
	if b.gc != nil {
		b.gc.noteWrite()
	}
	return nil
}

// Sync implements Engine. Under SyncAlways and SyncInterval it is a group
// commit, so it also releases the writers or WaitDurable callers waiting
// for one.
func (b *Badger) Sync() error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.exit()
	var err error
	if b.gc != nil {
		err = b.gc.commit()
	} else {
		err = b.syncer.sync()
	}
	if err != nil {
		return fmt.Errorf("store: sync: %w", err)
	}
	return nil
}

// SyncStats returns the group commit's figures (zero under SyncNone).
func (b *Badger) SyncStats() SyncStats {
	if b.gc == nil {
		return SyncStats{}
	}
	return b.gc.stats()
}

// WaitDurable implements Engine. Under SyncAlways it returns at once:
// every write returned durable.
func (b *Badger) WaitDurable(ctx context.Context) error {
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	if b.cfg.Sync != SyncInterval {
		return nil
	}
	return b.gc.wait(ctx)
}

// Close implements Engine. It waits for calls in progress (under SyncAlways,
// writers waiting for a group commit are released by commits that keep
// running until they have all returned), makes every write durable with a
// final commit, which releases any WaitDurable caller with its result, and
// closes the database.
func (b *Badger) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.closed = true
	b.mu.Unlock()
	b.inflight.Wait()
	var errs []error
	if b.gc != nil {
		if err := b.gc.close(); err != nil {
			errs = append(errs, fmt.Errorf("store: final group commit: %w", err))
		}
	} else if err := b.syncer.sync(); err != nil {
		errs = append(errs, fmt.Errorf("store: sync before close: %w", err))
	}
	if err := b.syncer.close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close the directory: %w", err))
	}
	if err := b.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("store: close badger: %w", err))
	}
	return errors.Join(errs...)
}

// RunGC rewrites value-log files in which at least discardRatio (0 < r < 1;
// 0.5 is usual) of the data is stale, until none is left. Only values of
// ValueThreshold bytes or more live in the value log, so with the default
// threshold this is rarely needed; a node may call it on a slow schedule.
func (b *Badger) RunGC(discardRatio float64) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.exit()
	for {
		err := b.gcOneFile(discardRatio)
		switch {
		case err == nil:
			continue
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return nil
		default:
			return fmt.Errorf("store: value log gc: %w", err)
		}
	}
}

// gcOneFile runs one round of Badger's value-log GC, which copies the live
// values of one file to the current value log and memtable, then deletes
// the file. Without SyncWrites Badger does not fsync the copies before the
// deletion, so a power loss in between could lose values that were
// durable long ago. But Badger defers the deletion while any iterator is
// open: one held across the round and closed after a sync makes the copies
// durable first. (If that sync fails the file is deleted all the same, and
// the error is returned.)
func (b *Badger) gcOneFile(discardRatio float64) error {
	txn := b.db.NewTransaction(false)
	defer txn.Discard()
	opts := badger.DefaultIteratorOptions
	opts.PrefetchValues = false
	pin := txn.NewIterator(opts)
	b.syncer.noteValueLog() // the copies go to the current value-log file
	err := b.db.RunValueLogGC(discardRatio)
	if err == nil {
		if serr := b.syncer.sync(); serr != nil {
			err = fmt.Errorf("sync the rewritten values: %w", serr)
		}
	}
	pin.Close() // deletes the rewritten file unless another iterator is open
	return err
}

// Stats returns approximate figures for monitoring.
func (b *Badger) Stats() (Stats, error) {
	if err := b.enter(); err != nil {
		return Stats{}, err
	}
	defer b.exit()
	var s Stats
	for _, t := range b.db.Tables() {
		s.Keys += int64(t.KeyCount)
	}
	entries, err := os.ReadDir(b.cfg.Dir)
	if err != nil {
		return s, fmt.Errorf("store: stats: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			s.Bytes += info.Size()
		}
	}
	return s, nil
}

// readError maps a Badger read error. A checksum mismatch is logged with
// the key and reported as ErrCorrupt: the bytes are damaged and must come
// from a replica instead.
func (b *Badger) readError(op string, p Partition, key []byte, err error) error {
	if errors.Is(err, errLostValue) || isChecksumError(err) {
		b.cfg.Logger.Error("store: corrupt data on read", "op", op, "partition", p, "key", printableKey(key), "err", err)
		return fmt.Errorf("%w: %s partition %d key %s: %v", ErrCorrupt, op, p, printableKey(key), err)
	}
	return fmt.Errorf("store: %s partition %d key %s: %w", op, p, printableKey(key), err)
}

// errLostValue stands for a value Badger failed to read from its value log.
var errLostValue = errors.New("badger could not read the value from the value log (see its log)")

// lostValue reports whether Badger handed back v in place of a value it
// could not read. When a read from the value log fails (a checksum
// mismatch, a truncated file) Badger logs the error and returns an empty
// value with no error (Item.yieldItemValue). The item still knows the
// stored length: exact for a value in the tree, within a few bytes of the
// header for one in the value log, which is at least ValueThreshold (≥ 64)
// bytes long, so a real empty value has ValueSize 0.
func lostValue(item *badger.Item, v []byte) bool {
	return len(v) == 0 && item.ValueSize() > 0
}

// isChecksumError recognises y.ErrChecksumMismatch. Badger flattens its
// error chains (y.Wrap formats with %+v outside debug builds), so only the
// text is left to go by.
func isChecksumError(err error) bool {
	return strings.Contains(err.Error(), y.ErrChecksumMismatch.Error())
}

// printableKey quotes a key for messages, cut to a readable length.
func printableKey(key []byte) string {
	const max = 64
	if len(key) > max {
		return fmt.Sprintf("%q…(%d bytes)", key[:max], len(key))
	}
	return fmt.Sprintf("%q", key)
}
