package object

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestEncodeDecodeSample(t *testing.T) {
	o := sample()
	if o.Len() != 3 || o.Context().Len() != 4 {
		t.Fatalf("sample is %v", o)
	}
	b := mustEncode(t, o)
	if b[0] != formatVersion {
		t.Fatalf("version byte %d", b[0])
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(got, o) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, o)
	}
	want := o.Values()
	for i, c := range got.Values() {
		if c.LastModified != want[i].LastModified.UTC() || c.LastModified.Location() != time.UTC {
			t.Errorf("sibling %d: LastModified %v, want %v", i, c.LastModified, want[i].LastModified)
		}
	}
	// The decoded object owns its memory.
	for i := range b {
		b[i] = 0
	}
	if !Equal(got, o) {
		t.Fatal("decoded object shares memory with its input")
	}
}

func TestEncodeDeterministic(t *testing.T) {
	// Map iteration order is random; the encoding must not be.
	meta := map[string]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		meta[k] = k + k
	}
	o := New().Update(Context{}, Content{Meta: meta}, "a")
	first := mustEncode(t, o)
	for range 20 {
		if !bytes.Equal(first, mustEncode(t, o)) {
			t.Fatal("encoding differs between calls")
		}
	}
}

func TestDecodeTimeEdges(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Unix(0, 0),
		time.Unix(-1, 999999999),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1500, 6, 1, 0, 0, 0, 0, time.UTC), // before UnixNano's range
	} {
		o := New().Update(Context{}, Content{LastModified: tm}, "a")
		got, err := Decode(mustEncode(t, o))
		if err != nil {
			t.Fatal(err)
		}
		lm := got.Values()[0].LastModified
		if !lm.Equal(tm) || lm != tm.UTC() {
			t.Errorf("LastModified %v, want %v", lm, tm)
		}
	}
}

// Every single-byte change of an encoding is detected: the CRC-32C catches
// all bursts up to 32 bits.
func TestDecodeDetectsEveryByteFlip(t *testing.T) {
	b := mustEncode(t, sample())
	for i := range b {
		orig := b[i]
		for x := 1; x < 256; x++ {
			b[i] = orig ^ byte(x)
			o, err := Decode(b)
			if err == nil {
				t.Fatalf("byte %d ^ %#x: decoded %v", i, x, o)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("byte %d ^ %#x: error %v wraps neither sentinel", i, x, err)
			}
			if i == 0 && !errors.Is(err, ErrVersion) {
				t.Fatalf("version byte %#x: %v, want ErrVersion", b[0], err)
			}
		}
		b[i] = orig
	}
	if _, err := Decode(b); err != nil {
		t.Fatal(err)
	}
}

func TestDecodeTruncated(t *testing.T) {
	b := mustEncode(t, sample())
	for n := range len(b) {
		if _, err := Decode(b[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%d of %d bytes: %v", n, len(b), err)
		}
	}
	if _, err := Decode(append(bytes.Clone(b), 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("extra byte: %v", err)
	}
}

// Bodies with a valid checksum that break the invariants or lie about
// lengths are rejected, without large allocations.
func TestDecodeRejectsInvalidBodies(t *testing.T) {
	content := []any{[]byte("v"), "", "", "", map[string]string{}, []any{}, 0, 0, false, "vt"}
	entry := func(actor string, counter uint64, values ...any) []any {
		if values == nil {
			values = []any{}
		}
		return []any{actor, counter, values}
	}
	pad := make([]byte, 16) // so that length checks, not the element minimum, fire
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"not an array", pack(t, "x")},
		{"nil entries", pack(t, nil)},
		{"entry too short", pack(t, []any{[]any{"a", 1}})},
		{"entry too long", pack(t, []any{[]any{"a", 1, []any{}, 4}})},
		{"empty actor", pack(t, []any{entry("", 1)})},
		{"unsorted actors", pack(t, []any{entry("b", 1), entry("a", 1)})},
		{"duplicate actors", pack(t, []any{entry("a", 1), entry("a", 2)})},
		{"zero counter", pack(t, []any{entry("a", 0)})},
		{"negative counter", pack(t, []any{[]any{"a", -1, []any{}}})},
		{"huge counter", pack(t, []any{entry("a", 1<<63+1)})},
		{"more values than counter", pack(t, []any{entry("a", 1, content, content)})},
		{"content with 9 fields", pack(t, []any{entry("a", 1, content[:9])})},
		{"content with 11 fields", pack(t, []any{entry("a", 1, append(append([]any{}, content...), 1))})},
		{"nanoseconds out of range", pack(t, []any{entry("a", 1, []any{nil, "", "", "", map[string]string{}, []any{}, 0, uint64(1e9), false, ""})})},
		{"string for bytes", pack(t, []any{entry("a", 1, []any{1, "", "", "", map[string]string{}, []any{}, 0, 0, false, ""})})},
		{"bool for counter", pack(t, []any{[]any{"a", true, []any{}}})},
		{"trailing bytes", append(pack(t, []any{entry("a", 1)}), 0xc0)},
		{"array32 of 4G entries", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}},
		{"values array32 of 4G", []byte{0x91, 0x93, 0xa1, 'a', 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff}},
		{"bin32 of 4G", append([]byte{0x91, 0x93, 0xa1, 'a', 0x01, 0x91, 0x9a, 0xc6, 0xff, 0xff, 0xff, 0xff}, pad...)},
		{"str32 actor of 4G", []byte{0x91, 0x93, 0xdb, 0xff, 0xff, 0xff, 0xff}},
		{"map32 meta of 4G", append([]byte{0x91, 0x93, 0xa1, 'a', 0x01, 0x91, 0x9a, 0xc0, 0xa0, 0xa0, 0xa0, 0xdf, 0xff, 0xff, 0xff, 0xff}, pad...)},
	} {
		var o *Object
		var err error
		allocs := testing.AllocsPerRun(1, func() { o, err = Decode(sealObject(tc.body)) })
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, %v; want ErrCorrupt", tc.name, o, err)
		}
		if allocs > 50 {
			t.Errorf("%s: %v allocations", tc.name, allocs)
		}
	}
	// The same builders make a valid object, so the cases above fail for
	// the reason they name.
	valid := pack(t, []any{entry("a", 2, content), entry("b", 1)})
	if _, err := Decode(sealObject(valid)); err != nil {
		t.Fatalf("valid body: %v", err)
	}
}

func TestDecodeVersion(t *testing.T) {
	b := mustEncode(t, sample())
	b[0] = 2
	if _, err := Decode(b); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 2: %v", err)
	}
	if _, err := Decode(nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("nil: %v", err)
	}
}

func TestVerify(t *testing.T) {
	o := New().Update(Context{}, Content{Value: []byte("v")}, "a")
	b, err := Encode(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(b); err != nil {
		t.Fatalf("Verify of an encoding: %v", err)
	}
	flipped := slices.Clone(b)
	flipped[len(flipped)/2] ^= 0x10
	versioned := slices.Clone(b)
	versioned[0] = formatVersion + 1
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"short", b[:5], ErrCorrupt},
		{"flipped bit", flipped, ErrCorrupt},
		{"version", versioned, ErrVersion},
	} {
		if err := Verify(c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = Verify(b) }); n != 0 {
		t.Errorf("Verify allocates %.0f times", n)
	}
}
