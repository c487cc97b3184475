package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/internal/syncbuf"
)

func TestBadgerPersistence(t *testing.T) {
	for _, policy := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		t.Run(policy.String(), func(t *testing.T) {
			cfg := DefaultLocalConfig()
			cfg.Dir = t.TempDir()
			cfg.Sync = policy
			b, err := OpenBadger(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 500 {
				if err := b.Put(Partition(i%4), fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := b.Put(2, []byte("big"), bytes.Repeat([]byte("x"), 100<<10)); err != nil {
				t.Fatal(err)
			}
			if err := b.Delete(0, []byte("k000")); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}

			b, err = OpenBadger(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			wantNotFound(t, b, 0, "k000")
			for i := 1; i < 500; i++ {
				if got := mustGet(t, b, Partition(i%4), fmt.Sprintf("k%03d", i)); string(got) != fmt.Sprintf("v%d", i) {
					t.Fatalf("k%03d = %q after reopen", i, got)
				}
			}
			if got := mustGet(t, b, 2, "big"); len(got) != 100<<10 {
				t.Fatalf("big value has %d bytes after reopen", len(got))
			}
			if n := len(collect(t, b, 1, "")); n != 125 {
				t.Fatalf("partition 1 has %d keys after reopen, want 125", n)
			}
		})
	}
}

func TestOpenBadgerErrors(t *testing.T) {
	cfg := DefaultLocalConfig()
	if _, err := OpenBadger(cfg); err == nil {
		t.Fatal("opened without a Dir")
	}
	cfg.Dir = t.TempDir()
	cfg.ValueThreshold = 0
	if _, err := OpenBadger(cfg); err == nil {
		t.Fatal("opened an invalid config")
	}
	cfg.ValueThreshold = DefaultLocalConfig().ValueThreshold
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := OpenBadger(cfg); err == nil {
		t.Fatal("opened the same directory twice")
	}
}

// fakeBadger opens a Badger under SyncInterval on a fake clock and reports
// every WaitDurable that has joined a group-commit round on the returned
// channel.
func fakeBadger(t *testing.T, interval time.Duration) (*Badger, *clock.Fake, <-chan struct{}) {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_000_000, 0))
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	cfg.Sync = SyncInterval
	cfg.SyncInterval = interval
	cfg.Clock = clk
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	joined := make(chan struct{}, 16)
	b.gc.mu.Lock()
	b.gc.onWait = func() { joined <- struct{}{} }
	b.gc.mu.Unlock()
	return b, clk, joined
}

func waitDone(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second): // a hang guard, not a wait
		t.Fatal("WaitDurable did not return")
		return nil
	}
}

func notDone(t *testing.T, done <-chan error, when string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("WaitDurable returned %v %s", err, when)
	default:
	}
}

// countSyncs wraps the group commit's fsync of b: every commit sends on the
// returned channel after its fsync, and blocks before it while hold is
// non-nil and not closed. Call before the first write: the commit
// goroutine reads the field only after a kick or tick, which happen after.
func countSyncs(b *Badger, hold chan struct{}) <-chan error {
	synced := make(chan error, 64)
	inner := b.gc.sync
	b.gc.sync = func() error {
		if hold != nil {
			<-hold
		}
		err := inner()
		synced <- err
		return err
	}
	return synced
}

// TestBadgerGroupCommit: under interval a write nobody waits for is synced
// by the next tick, and a WaitDurable does not wait for a tick: it starts a
// commit of its own.
func TestBadgerGroupCommit(t *testing.T) {
	const interval = 10 * time.Millisecond
	b, clk, joined := fakeBadger(t, interval)
	synced := countSyncs(b, nil)
	mustPut(t, b, 1, "unwaited", "v")
	clk.Advance(interval)
	if err := waitDone(t, synced); err != nil {
		t.Fatalf("tick commit: %v", err)
	}

	mustPut(t, b, 1, "k", "v")
	done := make(chan error, 1)
	go func() { done <- b.WaitDurable(context.Background()) }()
	<-joined
	// The clock stands still: the waiter's own commit releases it.
	if err := waitDone(t, done); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, synced); err != nil {
		t.Fatal(err)
	}
}

func TestBadgerGroupCommitContext(t *testing.T) {
	b, _, joined := fakeBadger(t, time.Hour)
	hold := make(chan struct{})
	synced := countSyncs(b, hold)
	mustPut(t, b, 1, "k", "v")

	// The waiter's commit is held before its fsync; cancelling the wait
	// returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.WaitDurable(ctx) }()
	<-joined
	cancel()
	if err := waitDone(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	close(hold)
	if err := waitDone(t, synced); err != nil {
		t.Fatal(err)
	}
	// The abandoned round does not disturb the next one.
	go func() { done <- b.WaitDurable(context.Background()) }()
	<-joined
	if err := waitDone(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestBadgerSyncReleasesWaiters(t *testing.T) {
	b, _, joined := fakeBadger(t, time.Hour)
	mustPut(t, b, 1, "k", "v")
	done := make(chan error, 1)
	go func() { done <- b.WaitDurable(context.Background()) }()
	<-joined
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := waitDone(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestBadgerCloseReleasesWaiters(t *testing.T) {
	b, _, joined := fakeBadger(t, time.Hour)
	mustPut(t, b, 1, "k", "v")
	const waiters = 3
	done := make(chan error, waiters)
	for range waiters {
		go func() { done <- b.WaitDurable(context.Background()) }()
	}
	for range waiters {
		<-joined
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	for range waiters {
		if err := waitDone(t, done); err != nil {
			t.Fatalf("waiter released by Close got %v", err)
		}
	}
}

func TestBadgerWaitDurableImmediatePolicies(t *testing.T) {
	for _, policy := range []SyncPolicy{SyncAlways, SyncNone} {
		b := openBadgerForTest(t, policy)
		mustPut(t, b, 1, "k", "v")
		// No clock is advanced and no commit runs: it must not block.
		if err := b.WaitDurable(context.Background()); err != nil {
			t.Fatalf("%v: %v", policy, err)
		}
	}
}

// TestBatchLimitMatchesBadger: a batch that checkBatch accepts is one
// Badger accepts too, at the edge of the limit, for values kept in the tree
// and in the value log.
func TestBatchLimitMatchesBadger(t *testing.T) {
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	cfg.Sync = SyncNone
	cfg.MemTableSize = 1 << 20
	cfg.ValueThreshold = 1 << 10
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, valueLen := range []int{100, int(cfg.ValueThreshold) - 1, int(cfg.ValueThreshold)} {
		var batch []Op
		var size int64
		value := make([]byte, valueLen)
		for i := 0; ; i++ {
			op := Op{Partition: 1, Key: fmt.Appendf(nil, "k%d-%07d", valueLen, i), Value: value}
			cost := opCost(len(op.Key), len(op.Value), cfg.ValueThreshold)
			if checkBatchSize(len(batch)+1, size+cost, cfg.MemTableSize) != nil {
				break
			}
			batch = append(batch, op)
			size += cost
		}
		if err := checkBatch(batch, cfg.MemTableSize, cfg.ValueThreshold); err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			t.Fatalf("value %d: empty batch", valueLen)
		}
		if err := b.Write(batch); err != nil {
			t.Fatalf("value %d: the largest batch checkBatch accepts (%d ops) fails in badger: %v", valueLen, len(batch), err)
		}
		more := append(batch, Op{Partition: 1, Key: []byte("one-more"), Value: make([]byte, valueLen)})
		if err := b.Write(more); !errors.Is(err, ErrBatchTooLarge) {
			t.Fatalf("value %d: one op more: %v, want ErrBatchTooLarge", valueLen, err)
		}
		t.Logf("value %d bytes: %d ops per batch", valueLen, len(batch))
	}
}

// damageFile flips a byte in the middle of the first occurrence of value in
// the only file of dir matching glob.
func damageFile(t *testing.T, dir, glob string, value []byte) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, glob))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(data, value)
		if i < 0 {
			continue
		}
		data[i+len(value)/2] ^= 0xFF
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("value not found in %s/%s", dir, glob)
}

// corruptionConfig: no block cache (every read goes to the file) and so no
// compression (the value can be found in the file).
func corruptionConfig(t *testing.T, logs *syncbuf.Buffer) Config {
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	cfg.Sync = SyncNone
	cfg.BlockCacheSize = 0
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	return cfg
}

// TestBadgerDetectsValueLogCorruption damages a value in the value log on
// disk: the read fails with ErrCorrupt and the key is logged.
func TestBadgerDetectsValueLogCorruption(t *testing.T) {
	var logs syncbuf.Buffer
	cfg := corruptionConfig(t, &logs)
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	value := bytes.Repeat([]byte("0123456789abcdef"), int(cfg.ValueThreshold)/16+1)
	if err := b.Put(1, []byte("victim"), value); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(1, []byte("after"), bytes.Repeat([]byte("z"), int(cfg.ValueThreshold))); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	damageFile(t, cfg.Dir, "*.vlog", value)

	b, err = OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := b.Get(1, []byte("victim"))
	if !errors.Is(err, ErrCorrupt) || got != nil {
		t.Fatalf("Get of a damaged value = %d bytes, %v; want ErrCorrupt", len(got), err)
	}
	if !strings.Contains(logs.String(), "victim") {
		t.Fatalf("corruption was not logged with the key; log:\n%s", logs.String())
	}
	err = b.Iterate(1, nil, func(k, v []byte) error { return nil })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Iterate over a damaged value: %v, want ErrCorrupt", err)
	}
	// Badger may also give up on the entries after the damage: they too
	// come back as ErrCorrupt, never as other bytes.
	if got, err := b.Get(1, []byte("after")); err == nil && len(got) != int(cfg.ValueThreshold) ||
		err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("neighbour: %d bytes, %v", len(got), err)
	}
}

// TestBadgerNeverServesDamagedBlock damages an SSTable block. Badger's point
// reads treat a block that fails its checksum as holding nothing (its table
// iterators keep the error to themselves), so the key reads as missing,
// which read repair and anti-entropy then restore from a replica. What must
// never happen is the damaged bytes coming back.
func TestBadgerNeverServesDamagedBlock(t *testing.T) {
	var logs syncbuf.Buffer
	cfg := corruptionConfig(t, &logs)
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Neighbours on both sides put the victim in a block that opening the
	// table does not read (it reads the first and last keys).
	value := bytes.Repeat([]byte("0123456789abcdef"), 8)
	filler := bytes.Repeat([]byte("f"), 100)
	for i := range 200 {
		for _, p := range []Partition{0, 2} {
			if err := b.Put(p, fmt.Appendf(nil, "filler%03d", i), filler); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Put(1, []byte("victim"), value); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // flushes the memtable to a table
		t.Fatal(err)
	}
	damageFile(t, cfg.Dir, "*.sst", value)

	b, err = OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := b.Get(1, []byte("victim"))
	if err == nil {
		t.Fatalf("Get of a damaged block served %q", got)
	}
	if !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Get of a damaged block: %v", err)
	}
	// Keys in other blocks are intact (the victim's block neighbours are
	// lost with it).
	for _, k := range []string{"filler000", "filler100"} {
		if got := mustGet(t, b, 0, k); !bytes.Equal(got, filler) {
			t.Fatalf("partition 0 %s = %q", k, got)
		}
	}
	if got := mustGet(t, b, 2, "filler199"); !bytes.Equal(got, filler) {
		t.Fatalf("partition 2 filler199 = %q", got)
	}
}

func TestBadgerStatsAndGC(t *testing.T) {
	b := openBadgerForTest(t, SyncNone).(*Badger)
	for i := range 100 {
		if err := b.Put(1, fmt.Appendf(nil, "k%d", i), make([]byte, 100<<10)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := b.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Bytes < 10<<20 {
		t.Fatalf("Stats.Bytes = %d after writing 10 MiB", s.Bytes)
	}
	if err := b.RunGC(0.5); err != nil {
		t.Fatal(err)
	}
}

func TestBadgerLoggerFiltersInfo(t *testing.T) {
	var logs syncbuf.Buffer
	l := badgerLogger{slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	l.Infof("chatty %d\n", 1)
	l.Debugf("chattier")
	l.Warningf("careful %s\n", "now")
	l.Errorf("broken")
	out := logs.String()
	if strings.Contains(out, "chatty") {
		t.Fatalf("info got through: %s", out)
	}
	if !strings.Contains(out, `level=WARN msg="careful now" component=badger`) || !strings.Contains(out, "level=ERROR msg=broken") {
		t.Fatalf("warnings or errors lost: %s", out)
	}
}

// TestBadgerSyncerCoversRotatedFiles fills several memtables and value-log
// files, then checks that Sync visited the files db.Sync alone would miss.
func TestBadgerSyncerCoversRotatedFiles(t *testing.T) {
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	cfg.Sync = SyncNone
	cfg.MemTableSize = 1 << 20
	cfg.ValueLogFileSize = 1 << 20
	cfg.ValueThreshold = 1 << 10
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	firstFloor := b.syncer.vlogFloor
	value := make([]byte, 2<<10) // to the value log
	for i := range 3000 {        // ~6 MiB: several value-log files
		if err := b.Put(1, fmt.Appendf(nil, "k%05d", i), value); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	vlogs, _ := filepath.Glob(filepath.Join(cfg.Dir, "*.vlog"))
	var newest uint64
	for _, f := range vlogs {
		n, ok := fileNumber(filepath.Base(f), ".vlog")
		if !ok {
			t.Fatalf("unexpected value-log name %s", f)
		}
		newest = max(newest, n)
	}
	if len(vlogs) < 3 || b.syncer.vlogFloor != newest || newest <= firstFloor {
		t.Fatalf("%d value-log files, newest %d; syncer floor %d (was %d)", len(vlogs), newest, b.syncer.vlogFloor, firstFloor)
	}
	mems, _ := filepath.Glob(filepath.Join(cfg.Dir, "*.mem"))
	for _, f := range mems {
		if _, ok := fileNumber(filepath.Base(f), ".mem"); !ok {
			t.Fatalf("unexpected WAL name %s", f)
		}
	}
	if len(b.syncer.known) == 0 {
		t.Fatal("syncer saw no files")
	}
}

// openSyncerTestBadger opens an engine under SyncNone, whose Sync runs the
// syncer directly, with a 1 KiB ValueThreshold; it is closed at the end of
// the test.
func openSyncerTestBadger(t *testing.T) (*Badger, Config) {
	t.Helper()
	cfg := DefaultLocalConfig()
	cfg.Dir = t.TempDir()
	cfg.Sync = SyncNone
	cfg.ValueThreshold = 1 << 10
	b, err := OpenBadger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b, cfg
}

// TestBadgerSyncerValueLogOnlyWhenWritten checks what a sync fsyncs: the
// current WAL always, the current value-log file only after a value of
// ValueThreshold bytes or more was written. It also checks the premise, on
// this version of Badger, that a smaller value never reaches the value log:
// past its header the file stays zero until a large value is written.
func TestBadgerSyncerValueLogOnlyWhenWritten(t *testing.T) {
	b, cfg := openSyncerTestBadger(t)
	var synced []string
	b.syncer.onFsync = func(name string) error { synced = append(synced, name); return nil }
	syncKinds := func() (wal, vlog bool) {
		t.Helper()
		synced = nil
		if err := b.Sync(); err != nil {
			t.Fatal(err)
		}
		for _, name := range synced {
			wal = wal || strings.HasSuffix(name, ".mem")
			vlog = vlog || strings.HasSuffix(name, ".vlog")
		}
		return wal, vlog
	}
	// valueLogWritten reports whether anything follows the value log's
	// header (Badger writes it through a shared map, which reads see).
	valueLogWritten := func() bool {
		t.Helper()
		vlogs, _ := filepath.Glob(filepath.Join(cfg.Dir, "*.vlog"))
		if len(vlogs) != 1 {
			t.Fatalf("value-log files %v, want one", vlogs)
		}
		data, err := os.ReadFile(vlogs[0])
		if err != nil {
			t.Fatal(err)
		}
		const header = 20 // Badger's vlogHeaderSize
		return len(data) > header && slices.ContainsFunc(data[header:], func(c byte) bool { return c != 0 })
	}

	if wal, vlog := syncKinds(); !wal || !vlog {
		t.Fatalf("first sync: fsynced %v, want the WAL and the value log", synced)
	}
	small := bytes.Repeat([]byte{'s'}, int(cfg.ValueThreshold)-1)
	for i := range 50 {
		if err := b.Put(1, fmt.Appendf(nil, "small%d", i), small); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(1, []byte("small0")); err != nil {
		t.Fatal(err)
	}
	if wal, vlog := syncKinds(); !wal || vlog {
		t.Fatalf("after values below the threshold: fsynced %v, want the WAL alone", synced)
	}
	if valueLogWritten() {
		t.Fatal("a value below ValueThreshold reached the value log: the syncer would miss it")
	}
	big := bytes.Repeat([]byte{'b'}, int(cfg.ValueThreshold))
	if err := b.Write([]Op{{Partition: 1, Key: []byte("s"), Value: small}, {Partition: 1, Key: []byte("big"), Value: big}}); err != nil {
		t.Fatal(err)
	}
	if !valueLogWritten() {
		t.Fatal("a value of ValueThreshold bytes did not reach the value log")
	}
	if wal, vlog := syncKinds(); !wal || !vlog {
		t.Fatalf("after a value at the threshold: fsynced %v, want the WAL and the value log", synced)
	}
	if wal, vlog := syncKinds(); !wal || vlog {
		t.Fatalf("with nothing new: fsynced %v, want the WAL alone", synced)
	}
	if got, err := b.Get(1, []byte("big")); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("big = %d bytes, %v", len(got), err)
	}
}

// TestBadgerSyncerRetriesValueLogAfterFailure: a sync that fails after it
// took the note of a value-log write leaves the note for the next one, so
// that a later successful sync, which callers take as durable, fsyncs the
// value log even though nothing was written to it since.
func TestBadgerSyncerRetriesValueLogAfterFailure(t *testing.T) {
	b, cfg := openSyncerTestBadger(t)
	if err := b.Sync(); err != nil { // takes the note Open leaves
		t.Fatal(err)
	}
	failure := errors.New("injected fsync failure")
	var synced []string
	failVlog := true
	b.syncer.onFsync = func(name string) error {
		if strings.HasSuffix(name, ".vlog") && failVlog {
			return failure
		}
		synced = append(synced, name)
		return nil
	}
	if err := b.Put(1, []byte("big"), bytes.Repeat([]byte{'b'}, int(cfg.ValueThreshold))); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(); !errors.Is(err, failure) {
		t.Fatalf("sync with the value log failing: %v, want the injected failure", err)
	}
	failVlog = false
	synced = nil
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(synced, func(name string) bool { return strings.HasSuffix(name, ".vlog") }) {
		t.Fatalf("the sync after a failed one fsynced %v: the value log written before the failure was skipped", synced)
	}
	synced = nil
	if err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(synced, func(name string) bool { return strings.HasSuffix(name, ".vlog") }) {
		t.Fatalf("with nothing new since a successful sync: fsynced %v, want the WAL alone", synced)
	}
}
