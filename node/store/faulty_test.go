package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

func TestFaultyInjectedErrors(t *testing.T) {
	inner := NewMem()
	f := NewFaulty(inner)
	mustPut(t, f, 1, "bad-key", "v")
	mustPut(t, f, 1, "good", "v")

	diskErr := errors.New("EIO")
	remove := f.InjectError(MethodGet, KeyHasPrefix([]byte("bad")), diskErr)
	if _, err := f.Get(1, []byte("bad-key")); !errors.Is(err, diskErr) {
		t.Fatalf("Get: %v, want the injected error", err)
	} else if err == diskErr {
		t.Fatal("injected error is not wrapped with context")
	}
	mustGet(t, f, 1, "good")
	remove()
	mustGet(t, f, 1, "bad-key")

	// Default error, Put: the failed call has no effect.
	remove = f.InjectError(MethodPut, OnPartition(2), nil)
	if err := f.Put(2, []byte("k"), []byte("v")); !errors.Is(err, ErrInjected) {
		t.Fatalf("Put: %v, want ErrInjected", err)
	}
	wantNotFound(t, inner, 2, "k")
	mustPut(t, f, 3, "k", "v")
	remove()

	// A batch fails as a whole if any op matches.
	remove = f.InjectError(MethodWrite, KeyHasPrefix([]byte("bad")), nil)
	err := f.Write([]Op{
		{Partition: 4, Key: []byte("fine"), Value: []byte("v")},
		{Partition: 4, Key: []byte("bad"), Value: []byte("v")},
	})
	if !errors.Is(err, ErrInjected) {
		t.Fatalf("Write: %v", err)
	}
	wantNotFound(t, inner, 4, "fine")
	remove()

	for _, tc := range []struct {
		m    Method
		call func() error
	}{
		{MethodDelete, func() error { return f.Delete(1, []byte("good")) }},
		{MethodIterate, func() error { return f.Iterate(1, nil, func(k, v []byte) error { return nil }) }},
		{MethodDropPartition, func() error { return f.DropPartition(1) }},
		{MethodSync, f.Sync},
		{MethodWaitDurable, func() error { return f.WaitDurable(context.Background()) }},
	} {
		remove := f.InjectError(tc.m, nil, nil)
		if err := tc.call(); !errors.Is(err, ErrInjected) {
			t.Errorf("%v: %v, want ErrInjected", tc.m, err)
		}
		remove()
		if err := tc.call(); err != nil {
			t.Errorf("%v after removing the rule: %v", tc.m, err)
		}
	}
}

func TestFaultyOnce(t *testing.T) {
	f := NewFaulty(NewMem())
	f.InjectError(MethodPut, Once(nil), nil)
	if err := f.Put(1, []byte("k"), []byte("v")); !errors.Is(err, ErrInjected) {
		t.Fatalf("first Put: %v", err)
	}
	mustPut(t, f, 1, "k", "v")
	f.Reset()
}

func TestFaultyCorruptReads(t *testing.T) {
	inner := NewMem()
	f := NewFaulty(inner)
	stored := []byte("the stored value")
	if err := f.Put(1, []byte("victim"), stored); err != nil {
		t.Fatal(err)
	}
	mustPut(t, f, 1, "bystander", "untouched")

	remove := f.CorruptReads(func(p Partition, key []byte) bool { return bytes.Equal(key, []byte("victim")) }, 4)
	got := mustGet(t, f, 1, "victim")
	if bytes.Equal(got, stored) {
		t.Fatal("corrupted read returned the stored bytes")
	}
	if diff := diffBytes(got, stored); diff != 1 || got[4] != stored[4]^0xFF {
		t.Fatalf("want byte 4 flipped, got %q (%d bytes differ)", got, diff)
	}
	if again := mustGet(t, inner, 1, "victim"); !bytes.Equal(again, stored) {
		t.Fatalf("reading corrupted the store: %q", again)
	}
	seen := map[string][]byte{}
	if err := f.Iterate(1, nil, func(k, v []byte) error {
		seen[string(k)] = bytes.Clone(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(seen["victim"], stored) || string(seen["bystander"]) != "untouched" {
		t.Fatalf("Iterate: %q", seen)
	}
	if again := mustGet(t, inner, 1, "victim"); !bytes.Equal(again, stored) {
		t.Fatalf("iterating corrupted the store: %q", again)
	}
	remove()
	if got := mustGet(t, f, 1, "victim"); !bytes.Equal(got, stored) {
		t.Fatalf("after removing the rule: %q", got)
	}

	// Offsets wrap; empty values pass through.
	f.CorruptReads(nil, -1)
	mustPut(t, f, 2, "empty", "")
	if got := mustGet(t, f, 2, "empty"); len(got) != 0 {
		t.Fatalf("empty value = %q", got)
	}
	if got := mustGet(t, f, 1, "victim"); got[len(got)-1] != stored[len(stored)-1]^0xFF {
		t.Fatalf("offset -1 did not flip the last byte: %q", got)
	}
}

func TestCorruptStored(t *testing.T) {
	for name, open := range map[string]engineFactory{
		"mem":    func(t *testing.T) Engine { return NewMem() },
		"badger": func(t *testing.T) Engine { return openBadgerForTest(t, SyncNone) },
	} {
		t.Run(name, func(t *testing.T) {
			f := NewFaulty(open(t))
			stored := []byte("checksummed payload")
			if err := f.Put(1, []byte("k"), stored); err != nil {
				t.Fatal(err)
			}
			if err := f.CorruptStored(1, []byte("k"), 3); err != nil {
				t.Fatal(err)
			}
			got := mustGet(t, f.Inner(), 1, "k")
			if diffBytes(got, stored) != 1 || got[3] != stored[3]^0xFF {
				t.Fatalf("stored value now %q", got)
			}
			if err := f.CorruptStored(1, []byte("missing"), 0); !errors.Is(err, ErrNotFound) {
				t.Fatalf("corrupting a missing key: %v", err)
			}
		})
	}
}

func diffBytes(a, b []byte) int {
	if len(a) != len(b) {
		return -1
	}
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}
