package object

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestContextDescendsMerge(t *testing.T) {
	ctx := func(spec string) Context { return mk(spec).Context() }
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"a:1[]", "", true},
		{"", "a:1[]", false},
		{"a:2[] b:1[]", "a:1[] b:1[]", true},
		{"a:2[]", "a:1[] b:1[]", false},
		{"a:1[] b:1[]", "a:2[]", false},
		{"a:3[] c:1[]", "c:1[]", true},
	} {
		a, b := ctx(tc.a), ctx(tc.b)
		if got := a.Descends(b); got != tc.want {
			t.Errorf("%v descends %v = %v, want %v", a, b, got, tc.want)
		}
		m := a.Merge(b)
		if !m.Descends(a) || !m.Descends(b) || !m.Equal(b.Merge(a)) {
			t.Errorf("Merge(%v, %v) = %v", a, b, m)
		}
		if a.Descends(b) && !m.Equal(a) {
			t.Errorf("Merge(%v, %v) = %v, want the first", a, b, m)
		}
	}
	c := ctx("a:3[] b:1[]")
	if c.Counter("a") != 3 || c.Counter("z") != 0 || c.Len() != 2 || c.IsZero() {
		t.Fatalf("accessors of %v", c)
	}
	if c.String() != "{a:3 b:1}" {
		t.Fatalf("String = %q", c.String())
	}
	if !(Context{}).IsZero() || !New().Context().IsZero() {
		t.Fatal("zero context")
	}
}

func TestContextEncoding(t *testing.T) {
	bind := []byte("default/users/alice")
	c := sample().Context()
	s := c.Encode(bind)
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		t.Fatalf("not standard base64: %q", s)
	}
	got, err := DecodeContext(s, bind)
	if err != nil || !got.Equal(c) {
		t.Fatalf("round trip: %v, %v; want %v", got, err, c)
	}
	if _, err := DecodeContext(s, []byte("default/users/bob")); !errors.Is(err, ErrForeignContext) {
		t.Fatalf("other key: %v", err)
	}
	if (Context{}).Encode(bind) != "" {
		t.Fatal("zero context does not encode as empty")
	}
	if got, err := DecodeContext("", bind); err != nil || !got.IsZero() {
		t.Fatalf("empty string: %v, %v", got, err)
	}

	raw, _ := base64.StdEncoding.DecodeString(s)
	for i := range raw {
		for x := 1; x < 256; x++ {
			flipped := append([]byte(nil), raw...)
			flipped[i] ^= byte(x)
			_, err := DecodeContext(base64.StdEncoding.EncodeToString(flipped), bind)
			if !errors.Is(err, ErrMalformedContext) {
				t.Fatalf("byte %d ^ %#x: %v", i, x, err)
			}
		}
	}
}

func TestDecodeContextRejects(t *testing.T) {
	bind := []byte("k")
	good := sample().Context().Encode(bind)
	many := make([]any, MaxContextEntries+1)
	for i := range many {
		many[i] = []any{fmt.Sprintf("a%05d", i), 1}
	}
	for _, tc := range []struct{ name, s string }{
		{"not base64", "!!!!"},
		{"url-safe alphabet", strings.NewReplacer("+", "-", "/", "_").Replace(sealContext(pack(t, []any{[]any{"a>>>?", 1}}), bind))}, // has a '+'
		{"unpadded", strings.TrimRight(sealContext(pack(t, []any{[]any{"ab", 1}}), bind), "=")},
		{"truncated", good[:len(good)-4]},
		{"too short", base64.StdEncoding.EncodeToString([]byte{1, 2, 3})},
		{"too long", strings.Repeat("A", 1<<20)},
		{"bad version", func() string {
			b, _ := base64.StdEncoding.DecodeString(sealContext(pack(t, []any{[]any{"a", 1}}), bind))
			b[0] = 9
			return base64.StdEncoding.EncodeToString(b)
		}()},
		{"no entries", sealContext(pack(t, []any{}), bind)},
		{"not an array", sealContext(pack(t, "x"), bind)},
		{"unsorted", sealContext(pack(t, []any{[]any{"b", 1}, []any{"a", 1}}), bind)},
		{"duplicate", sealContext(pack(t, []any{[]any{"a", 1}, []any{"a", 2}}), bind)},
		{"zero counter", sealContext(pack(t, []any{[]any{"a", 0}}), bind)},
		{"negative counter", sealContext(pack(t, []any{[]any{"a", -5}}), bind)},
		{"huge counter", sealContext(pack(t, []any{[]any{"a", uint64(1)<<62 + 1}}), bind)},
		{"empty actor", sealContext(pack(t, []any{[]any{"", 1}}), bind)},
		{"three fields", sealContext(pack(t, []any{[]any{"a", 1, 2}}), bind)},
		{"trailing", sealContext(append(pack(t, []any{[]any{"a", 1}}), 0), bind)},
		{"too many entries", sealContext(pack(t, many), bind)},
		{"array32 of 4G", sealContext([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, bind)},
	} {
		if _, err := DecodeContext(tc.s, bind); !errors.Is(err, ErrMalformedContext) {
			t.Errorf("%s: %v, want ErrMalformedContext", tc.name, err)
		}
	}
	if c, err := DecodeContext(sealContext(pack(t, many[:MaxContextEntries]), bind), bind); err != nil || c.Len() != MaxContextEntries {
		t.Fatalf("%d entries: %v", MaxContextEntries, err)
	}
}
