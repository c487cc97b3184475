package object

import (
	"errors"
	"testing"
)

func seedObjects() []*Object {
	o := New().Update(Context{}, val("one"), "n1/0")
	return []*Object{
		New(),
		o,
		o.Update(Context{}, Content{Deleted: true}, "n2/16"),
		sample(),
		sample().LWW(),
	}
}

// FuzzDecode feeds Decode arbitrary bytes, both as they come (which mostly
// exercises the framing) and framed with a valid checksum (which reaches
// the msgpack parser). Decode must not panic, its errors must wrap
// ErrCorrupt or ErrVersion, and whatever it accepts must satisfy the
// invariants and survive another round trip.
func FuzzDecode(f *testing.F) {
	for _, o := range seedObjects() {
		b, err := Encode(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[1 : len(b)-checksumLen]) // the body alone
	}
	f.Add([]byte{})
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, in := range [][]byte{b, sealObject(b)} {
			o, err := Decode(in)
			// Verify is Decode's first half: what it refuses, Decode
			// refuses with the same error; what Decode takes, it takes.
			if verr := Verify(in); verr != nil && (err == nil || err.Error() != verr.Error()) {
				t.Fatalf("Verify: %v, Decode: %v", verr, err)
			} else if verr == nil && err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Verify passed, Decode: %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
					t.Fatalf("error %v wraps neither sentinel", err)
				}
				continue
			}
			checkInvariants(t, o)
			again, err := Encode(o)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			back, err := Decode(again)
			if err != nil {
				t.Fatalf("decode of re-encoding: %v", err)
			}
			if !Equal(o, back) {
				t.Fatalf("round trip:\n %v\n %v", o, back)
			}
			// The operations must cope with anything Decode accepts.
			_ = Sync(o, back).Descends(o)
			_ = o.LWW().Values()
			_ = o.Update(o.Context(), val("x"), "fuzz").Len()
		}
	})
}

// FuzzDecodeContext does the same for causal contexts.
func FuzzDecodeContext(f *testing.F) {
	bind := []byte("default/b/k")
	for _, o := range seedObjects() {
		f.Add(o.Context().Encode(bind), bind)
		f.Add(o.Context().Encode(bind), []byte("other"))
	}
	f.Add("AQ==", bind)
	f.Add("not base64", bind)
	f.Fuzz(func(t *testing.T, s string, bind []byte) {
		for _, in := range []string{s, sealContext([]byte(s), bind)} {
			c, err := DecodeContext(in, bind)
			if err != nil {
				if !errors.Is(err, ErrMalformedContext) && !errors.Is(err, ErrForeignContext) {
					t.Fatalf("error %v wraps neither sentinel", err)
				}
				continue
			}
			back, err := DecodeContext(c.Encode(bind), bind)
			if err != nil {
				t.Fatalf("decode of re-encoding: %v", err)
			}
			if !back.Equal(c) {
				t.Fatalf("round trip: %v vs %v", c, back)
			}
			if !c.Descends(c) || !c.Merge(back).Equal(c) {
				t.Fatalf("context %v does not descend itself", c)
			}
			_ = New().Update(c, val("x"), "fuzz")
		}
	})
}
