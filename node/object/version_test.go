package object

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// The version hashed by anti-entropy must tell replicas apart exactly when
// they hold different writes: equal objects give equal bytes (whatever
// their encoding round trip), and an object a merge would change gives
// different bytes from the merge.
func TestAppendVersionSeparatesStates(t *testing.T) {
	check(t, func(t *rapid.T) {
		a, b, _ := drawObjects(t, false)
		m := Sync(a, b)
		for _, o := range []*Object{a, b} {
			va, vm := o.AppendVersion(nil), m.AppendVersion(nil)
			if Equal(o, m) != bytes.Equal(va, vm) {
				t.Fatalf("Equal(%v, %v)=%v but versions equal=%v", o, m, Equal(o, m), bytes.Equal(va, vm))
			}
			raw, err := Encode(o)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back.AppendVersion(nil), va) {
				t.Fatalf("version of %v changed across an encoding round trip", o)
			}
		}
	})
}

func TestAppendVersionEmpty(t *testing.T) {
	var nilObj *Object
	if len(nilObj.AppendVersion(nil)) != 0 || len(New().AppendVersion(nil)) != 0 {
		t.Fatal("empty object has a version")
	}
}
