package node

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/syncbuf"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
)

// TestCorruptionOnBadger flips a byte of a value stored on disk by Badger,
// through the error-injecting wrapper, and checks the whole path: the read
// is detected, logged with the key, never served, and repaired.
func TestCorruptionOnBadger(t *testing.T) {
	sc := store.DefaultLocalConfig()
	sc.Dir = t.TempDir()
	sc.Sync = store.SyncAlways
	bdb, err := store.OpenBadger(sc)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	eng := store.NewFaulty(bdb)
	logs := &syncbuf.Buffer{}
	cfg := DefaultLocalConfig("n1")
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	n, err := New(cfg, eng, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ctx := context.Background()
	l := Location{Type: DefaultType, Bucket: "b", Key: "precious"}
	if _, err := n.Put(ctx, l, object.Content{Value: []byte("do not lose me"), ContentType: "text/plain"}, DefaultPutOptions()); err != nil {
		t.Fatal(err)
	}
	n.WaitIdle()
	pl := n.Ring().Preflist(l.Bytes(), 3)

	// Corrupt the stored bytes of two of the three replicas.
	for _, vn := range pl[:2] {
		if err := eng.CorruptStored(store.Partition(vn.Partition), l.Bytes(), 17); err != nil {
			t.Fatal(err)
		}
	}
	// r=quorum cannot be met by one good replica: an error, not data.
	o, err := n.Get(ctx, l, DefaultGetOptions())
	if !errors.Is(err, ErrQuorumNotMet) || o != nil {
		t.Fatalf("get with two corrupt replicas: %v, %v", o, err)
	}
	if !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("quorum error does not say why: %v", err)
	}
	if !strings.Contains(logs.String(), "key=default/b/precious") {
		t.Errorf("corruption not logged with the key:\n%s", logs)
	}
	// The failed read still repaired both replicas from the good one.
	n.WaitIdle()
	o, err = n.Get(ctx, l, GetOptions{R: QuorumAll, PR: QuorumDefault})
	if err != nil || string(o.Values()[0].Value) != "do not lose me" {
		t.Fatalf("after read repair: %v, %v", o, err)
	}
	// Each corrupt copy is seen by the read and again by its repair.
	if got := n.Stats().CorruptReads; got < 2 {
		t.Errorf("corrupt reads = %d, want at least 2", got)
	}

	// Corruption injected on the read path (a flaky disk returning bad
	// bytes) is caught the same way, for every replica.
	remove := eng.CorruptReads(func(store.Partition, []byte) bool { return true }, 5)
	o, err = n.Get(ctx, l, GetOptions{R: QuorumOne, PR: QuorumDefault})
	remove()
	if err == nil || o != nil {
		t.Fatalf("get with every read corrupted served %v, %v", o, err)
	}
	n.WaitIdle()
}

// TestUnparseableReplicaIsRepaired stores, on one replica, bytes whose
// checksum is right but which do not parse (as a bug writing them would
// leave). A replica checks only the checksum before sending its bytes to
// a coordinator, so the coordinator must tell them corrupt and repair them.
func TestUnparseableReplicaIsRepaired(t *testing.T) {
	c := newTestCluster(t, 3)
	l := Location{Type: DefaultType, Bucket: "b", Key: "k"}
	pl := c.primaries(l)
	coord, victim := c.node(pl[0].Node), pl[1]
	if _, err := cput(t, coord, l, "precious", DefaultPutOptions()); err != nil {
		t.Fatal(err)
	}
	c.idle()
	body := []byte{1, 0x91, 0xc0} // version 1, then [nil]: not an entry
	bad := binary.BigEndian.AppendUint32(body, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	if err := object.Verify(bad); err != nil {
		t.Fatalf("the bytes should pass the checksum: %v", err)
	}
	if err := c.node(victim.Node).eng.Put(store.Partition(victim.Partition), l.Bytes(), bad); err != nil {
		t.Fatal(err)
	}
	o, err := coord.Get(context.Background(), l, GetOptions{R: QuorumAll, PR: QuorumDefault})
	if !errors.Is(err, ErrQuorumNotMet) || o != nil {
		t.Fatalf("r=all with an unparseable replica: %v, %v", o, err)
	}
	c.idle()
	if o := c.stored(victim, l); o == nil || !equal(values(o), []string{"precious"}) {
		t.Fatalf("the unparseable replica was not repaired: %v", o)
	}
}
