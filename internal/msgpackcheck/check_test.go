package msgpackcheck

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func TestCheck(t *testing.T) {
	nested := strings.Repeat("\x91", MaxNesting) + "\xc0"
	for _, tc := range []struct {
		name      string
		b         string
		ok        bool
		truncated bool
	}{
		{"nil", "\xc0", true, false},
		{"empty", "", false, true},
		{"trailing", "\xc0\xc0", false, false},
		{"unused code", "\xc1", false, false},
		{"array claiming 3 billion", "\xdd\xb6\xb6\xb6\x30\x30", false, true},
		{"map claiming more than is left", "\x83\xa1a\xc0", false, true},
		{"bin32 claiming 3 GB", "\xc6\xc6\xc6\xc6\xc6\xc4", false, true},
		{"ext32 claiming 1 GB", "\xc9W$\xfb\xd8\x30", false, true},
		{"str8 cut short", "\xd9\x05abc", false, true},
		{"str16 length cut short", "\xda\x00", false, true},
		{"fixext8 cut short", "\xd7\xff\x00\x00", false, true},
		{"nested to the limit", nested, true, false},
		{"nested too deep", "\x91" + nested, false, false},
		{"all the scalars", "\xdc\x00\x10\x01\xe0\xc2\xc3\xcc\x01\xcd\x00\x01\xce\x00\x00\x00\x01\xcf\x00\x00\x00\x00\x00\x00\x00\x01" +
			"\xd0\xff\xd1\xff\xff\xd2\xff\xff\xff\xff\xd3\xff\xff\xff\xff\xff\xff\xff\xff\xca\x00\x00\x00\x00" +
			"\xcb\x00\x00\x00\x00\x00\x00\x00\x00\xd4\x01\x00\xc7\x01\x01\x00", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.b))
			if (err == nil) != tc.ok {
				t.Fatalf("Check(%q) = %v, want ok %v", tc.b, err, tc.ok)
			}
			if errors.Is(err, ErrTruncated) != tc.truncated {
				t.Fatalf("Check(%q) = %v, want ErrTruncated %v", tc.b, err, tc.truncated)
			}
		})
	}
}

type sample struct {
	Name    string
	Count   int64
	Ratio   float64
	Blob    []byte
	Tags    map[string]string
	Nested  []sample
	When    time.Time
	Missing *sample
	Flag    bool
}

// encodings returns what msgpack makes of a spread of Go values, in both
// the map and the array encoding of structs.
func encodings(tb testing.TB) [][]byte {
	tb.Helper()
	rich := sample{
		Name: strings.Repeat("n", 300), Count: -1 << 40, Ratio: 0.5,
		Blob: bytes.Repeat([]byte{7}, 70000), Tags: map[string]string{"a": "b", "c": ""},
		Nested: []sample{{Name: "inner", When: time.Unix(1, 2).UTC()}},
		When:   time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
	}
	values := []any{
		nil, true, 0, -33, 1 << 20, uint64(1) << 63, 1.5, float32(2.5), "", "hi",
		strings.Repeat("x", 1<<16), []byte{}, make([]int, 20), map[string]any{},
		time.Unix(0, 0).UTC(), rich,
	}
	var out [][]byte
	for _, v := range values {
		b, err := msgpack.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.UseArrayEncodedStructs(true)
		if err := enc.Encode(v); err != nil {
			tb.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// Everything msgpack encodes passes the check, and no proper prefix of it
// does.
func TestCheckEncodings(t *testing.T) {
	for _, b := range encodings(t) {
		if err := Check(b); err != nil {
			t.Fatalf("Check(%.40q…): %v", b, err)
		}
		for n := range min(len(b), 2000) {
			if err := Check(b[:n]); err == nil {
				t.Fatalf("Check accepts a %d-byte prefix of %.40q…", n, b)
			}
		}
	}
}

// FuzzCheck: Check never panics, and whatever it accepts msgpack's own
// decoder skips as exactly one value, ending where Check did.
func FuzzCheck(f *testing.F) {
	for _, b := range encodings(f) {
		if len(b) < 1024 {
			f.Add(b)
		}
	}
	f.Add([]byte("\x93\xc0\xc0\xc0"))
	f.Add([]byte("\xdd\xb6\xb6\xb6\x30\x30"))
	f.Add([]byte("\x82\xa2op\x0c\xa1b\xc6\xc6\xc6\xc6\xc6\xc4"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if Check(b) != nil {
			return
		}
		r := bytes.NewReader(b)
		if err := msgpack.NewDecoder(r).Skip(); err != nil {
			t.Fatalf("Check accepts %q, which msgpack cannot skip: %v", b, err)
		}
		if r.Len() != 0 {
			t.Fatalf("Check accepts %q, of which msgpack skips all but %d bytes", b, r.Len())
		}
		if len(b) > 0 && Check(b[:len(b)-1]) == nil {
			t.Fatalf("Check accepts %q and its prefix", b)
		}
	})
}
