package gossip

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"
	"github.com/vmihailenco/msgpack/v5"
)

func TestMetaRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		meta    Meta
		leaving bool
	}{
		{Meta{}, false},
		{testMeta("n1"), false},
		{testMeta("n1"), true},
		{Meta{HTTPAddr: "[2001:db8::1]:8098", RingEpoch: 1<<64 - 1}, true},
	} {
		b, err := encodeMeta(tc.meta, tc.leaving)
		if err != nil {
			t.Fatalf("encodeMeta(%+v): %v", tc.meta, err)
		}
		got, leaving, err := decodeMeta(b)
		if err != nil || got != tc.meta || leaving != tc.leaving {
			t.Errorf("round trip of %+v, %v = %+v, %v, %v", tc.meta, tc.leaving, got, leaving, err)
		}
	}
}

func TestMetaSize(t *testing.T) {
	// The leaving flag is always encoded, so leaving cannot push a Meta
	// over the limit.
	m := testMeta("n1")
	a, _ := encodeMeta(m, false)
	b, _ := encodeMeta(m, true)
	if len(a) != len(b) {
		t.Errorf("encoded sizes differ with the leaving flag: %d, %d", len(a), len(b))
	}

	// Find the largest address that fits, then one byte more.
	fits := func(n int) error {
		_, err := encodeMeta(Meta{HTTPAddr: strings.Repeat("x", n)}, false)
		return err
	}
	n := 0
	for fits(n+1) == nil {
		n++
	}
	if n < 400 {
		t.Errorf("only %d bytes of address fit", n)
	}
	b, _ = encodeMeta(Meta{HTTPAddr: strings.Repeat("x", n)}, false)
	if len(b) > memberlist.MetaMaxSize {
		t.Errorf("encoded %d bytes, over %d", len(b), memberlist.MetaMaxSize)
	}
	if err := fits(n + 1); !errors.Is(err, ErrMetaTooLarge) || !strings.Contains(err.Error(), "512") {
		t.Errorf("one byte over: %v, want ErrMetaTooLarge naming the limit", err)
	}
}

func TestDecodeMetaToleratesOtherVersions(t *testing.T) {
	// A newer node may add keys; an older one may lack the leaving flag.
	b, err := msgpack.Marshal(map[string]any{"h": "h:1", "e": 3, "zz": "new field"})
	if err != nil {
		t.Fatal(err)
	}
	got, leaving, err := decodeMeta(b)
	if err != nil || got != (Meta{HTTPAddr: "h:1", RingEpoch: 3}) || leaving {
		t.Fatalf("decodeMeta = %+v, %v, %v", got, leaving, err)
	}
	if got, _, err := decodeMeta(nil); err != nil || got != (Meta{}) {
		t.Fatalf("decodeMeta(nil) = %+v, %v", got, err)
	}
	if _, _, err := decodeMeta([]byte{0xc1}); err == nil {
		t.Fatal("decodeMeta(garbage): no error")
	}
}
