package object

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

// The cases of Riak's dvvset.erl update_test, through this API.
func TestUpdateRiakExamples(t *testing.T) {
	a0 := New().Update(Context{}, val("v1"), "a")
	a1 := a0.Update(a0.Context(), val("v2"), "a")
	a2 := a1.Update(a1.Context(), val("v3"), "b")
	a3 := a1.Update(a0.Context(), val("v4"), "b")
	a4 := a1.Update(a0.Context(), val("v5"), "a")
	for _, tc := range []struct {
		name string
		got  *Object
		want string
	}{
		{"first write", a0, "a:1[v1]"},
		{"read-modify-write", a1, "a:2[v2]"},
		{"through another actor", a2, "a:2[] b:1[v3]"},
		{"stale context, other actor", a3, "a:2[v2] b:1[v4]"},
		{"stale context, same actor", a4, "a:3[v5,v2]"},
		{"blind write", a1.Update(Context{}, val("v6"), "a"), "a:3[v6,v2]"},
		{"context ahead of the object", New().Update(a1.Context(), val("v7"), "a"), "a:3[v7]"},
		{"context with unknown actor", a0.Update(mk("z:4[]").Context(), val("v8"), "b"), "a:1[v1] b:1[v8] z:4[]"},
	} {
		if got := shape(tc.got); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// The cases of Riak's dvvset.erl sync_test and more.
func TestSyncExamples(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"a:1[]", "a:2[v2,v1]", "a:2[v2]"},
		{"a:1[v1]", "a:2[v2]", "a:2[v2]"},
		{"a:2[] b:1[v3]", "a:2[] c:1[v3]", "a:2[] b:1[v3] c:1[v3]"},
		{"x:1[]", "a:1[v1]", "a:1[v1] x:1[]"},
		{"a:1[v1]", "b:1[v2]", "a:1[v1] b:1[v2]"},
		{"a:3[v3,v2]", "a:4[v4,v3]", "a:4[v4,v3]"},
		{"a:3[v3,v2,v1]", "a:4[v4,v3,v2]", "a:4[v4,v3,v2]"},
		{"a:5[v5]", "a:3[v3,v2]", "a:5[v5]"},
		{"a:5[v5,v4,v3]", "a:3[v3]", "a:5[v5,v4,v3]"},
		{"a:5[v5,v4,v3]", "a:2[]", "a:5[v5,v4,v3]"},
		{"a:5[v5,v4,v3]", "a:3[]", "a:5[v5,v4]"},
		{"a:5[v5,v4,v3]", "a:4[]", "a:5[v5]"},
		{"", "a:1[v1]", "a:1[v1]"},
		{"", "", ""},
	} {
		a, b := mk(tc.a), mk(tc.b)
		if got := shape(Sync(a, b)); got != tc.want {
			t.Errorf("Sync(%s, %s) = %s, want %s", tc.a, tc.b, got, tc.want)
		}
		if got := shape(Sync(b, a)); got != tc.want {
			t.Errorf("Sync(%s, %s) = %s, want %s", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestDescendsExamples(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"a:1[v1]", "", true},
		{"", "a:1[v1]", false},
		{"a:2[v2]", "a:1[v1]", true},
		{"a:1[v1]", "a:2[v2]", false},
		{"a:2[v2]", "a:2[v2,v1]", true},  // knows v1 was superseded
		{"a:2[v2,v1]", "a:2[v2]", false}, // does not
		{"a:1[v1]", "b:1[v2]", false},
		{"a:1[v1] b:1[v2]", "b:1[v2]", true},
		{"a:3[v3,v2]", "a:2[v2,v1]", true},
		{"a:3[v3,v2,v1]", "a:2[v2]", false},
	} {
		if got := mk(tc.a).Descends(mk(tc.b)); got != tc.want {
			t.Errorf("%q descends %q = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSameContextSameActorTwoSiblings(t *testing.T) {
	o := New().Update(Context{}, val("v1"), "a")
	ctx := o.Context()
	o = o.Update(ctx, val("x"), "a").Update(ctx, val("y"), "a")
	if got := shape(o); got != "a:3[y,x]" {
		t.Fatalf("got %s, want a:3[y,x]", got)
	}
}

func TestDeleteAndTombstone(t *testing.T) {
	o := New()
	if o.IsTombstone() || !o.IsEmpty() {
		t.Fatal("new object: want empty, not a tombstone")
	}
	o = o.Update(Context{}, val("v1"), "a")
	del := o.Update(o.Context(), Content{Deleted: true}, "b")
	if !del.IsTombstone() || del.IsEmpty() || del.Len() != 1 {
		t.Fatalf("delete with context: %v tombstone=%v", del, del.IsTombstone())
	}
	// A delete without the context leaves the value as a sibling.
	blind := o.Update(Context{}, Content{Deleted: true}, "b")
	if blind.IsTombstone() || blind.Len() != 2 {
		t.Fatalf("blind delete: %v tombstone=%v", blind, blind.IsTombstone())
	}
	// A write after the delete, with its context, brings the key back.
	back := del.Update(del.Context(), val("v2"), "a")
	if back.IsTombstone() || back.Len() != 1 {
		t.Fatalf("write after delete: %v", back)
	}
}

func TestLWW(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := func(v string, d time.Duration) Content {
		return Content{Value: []byte(v), LastModified: t0.Add(d)}
	}
	o := New().Update(Context{}, c("old", 0), "a")
	o = o.Update(Context{}, c("newest", 2*time.Second), "a")
	o = o.Update(Context{}, c("mid", time.Second), "b")
	l := o.LWW()
	if got := shape(l); got != "a:2[newest] b:1[]" {
		t.Fatalf("LWW = %s", got)
	}
	if !l.Context().Equal(o.Context()) {
		t.Fatal("LWW changed the clock")
	}
	// A winner that is not its entry's newest takes the newest dot.
	o = New().Update(Context{}, c("late", time.Hour), "a").Update(Context{}, c("early", 0), "a")
	if got := shape(o.LWW()); got != "a:2[late]" {
		t.Fatalf("LWW = %s", got)
	}
	// Ties go to the greater vtag, the same on every replica.
	o = New().Update(Context{}, c("x", 0), "a").Update(Context{}, c("y", 0), "b")
	vs := o.Values()
	want := vs[0]
	if vs[1].VTag > want.VTag {
		want = vs[1]
	}
	if got := o.LWW().Values(); len(got) != 1 || got[0].VTag != want.VTag {
		t.Fatalf("tie: LWW kept %v, want %s", got, want.VTag)
	}
	if l := New().LWW(); !l.IsEmpty() {
		t.Fatal("LWW of empty")
	}
}

// LWW moves a winner to its entry's newest dot, so two replicas can hold
// different values at one dot; Sync must still be commutative.
func TestSyncAfterLWWRelabel(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	o := New().Update(Context{}, Content{Value: []byte("late"), LastModified: t0.Add(time.Hour)}, "a")
	o = o.Update(Context{}, Content{Value: []byte("early"), LastModified: t0}, "a")
	l := o.LWW()
	if shape(o) != "a:2[early,late]" || shape(l) != "a:2[late]" {
		t.Fatalf("setup: %s, %s", shape(o), shape(l))
	}
	ab, ba := Sync(l, o), Sync(o, l)
	if !Equal(ab, ba) {
		t.Fatalf("Sync not commutative: %v vs %v", ab, ba)
	}
	if ab.Len() != 1 || l.Descends(o) != Equal(Sync(l, o), l) || o.Descends(l) != Equal(Sync(o, l), o) {
		t.Fatalf("Sync = %v", ab)
	}
	third := o.Update(Context{}, val("more"), "b")
	if !Equal(Sync(Sync(l, o), third), Sync(l, Sync(o, third))) {
		t.Fatal("Sync not associative")
	}
}

func TestValuesOrderAndSibling(t *testing.T) {
	o := mk("a:1[a1] b:3[b3,b2] c:5[c5]")
	var got []string
	for _, c := range o.Values() {
		got = append(got, string(c.Value))
	}
	if want := []string{"a1", "b2", "b3", "c5"}; !slices.Equal(got, want) {
		t.Fatalf("Values order %v, want %v", got, want)
	}
	if o.Len() != 4 {
		t.Fatalf("Len = %d", o.Len())
	}
	if c, ok := o.Sibling("b2"); !ok || string(c.Value) != "b2" {
		t.Fatalf("Sibling(b2) = %v, %v", c, ok)
	}
	if _, ok := o.Sibling("nope"); ok {
		t.Fatal("Sibling(nope) found")
	}
}

// Objects are immutable: nothing done to a result, to the Content passed
// in or to what Values returns reaches another object.
func TestNoSharing(t *testing.T) {
	o := sample()
	before, _ := Encode(o)
	unchanged := func(what string) {
		t.Helper()
		if after, _ := Encode(o); !bytes.Equal(before, after) {
			t.Fatalf("%s changed the original", what)
		}
	}
	scribble := func(r *Object) {
		for i := range r.entries {
			r.entries[i].counter += 100
			for k := range r.entries[i].values {
				r.entries[i].values[k].VTag = "scribbled"
			}
		}
		r.entries = append(r.entries[:0], entry{actor: "zz", counter: 1})
	}

	c := val("mutable")
	u := o.Update(o.Context(), c, "n1/0")
	c.Value[0] = 'X'
	if got := u.Values(); len(got) != 1 || string(got[0].Value) != "mutable" {
		t.Fatalf("Update kept the caller's slice: %v", got)
	}
	scribble(u)
	unchanged("Update")

	for _, r := range []*Object{Sync(o, mk("a:1[x]")), Sync(mk("a:1[x]"), o), o.LWW(), o.Update(Context{}, val("b"), "a")} {
		if r == o {
			t.Fatalf("%v came back as the original", r)
		}
		scribble(r)
		unchanged("result mutation")
	}
	// A side that already includes the other is returned itself: objects
	// are immutable, so no copy is needed.
	o2 := sample()
	if Sync(o2, o2) != o2 || Sync(o2, nil) != o2 || Sync(New(), o2) != o2 {
		t.Fatal("Sync copied a side that includes the other")
	}

	for _, v := range o.Values() {
		if len(v.Value) > 0 {
			v.Value[0] ^= 0xff
		}
		for k := range v.Meta {
			v.Meta[k] = "scribbled"
		}
		for i := range v.Links {
			v.Links[i].Tag = "scribbled"
		}
	}
	unchanged("Values mutation")

	for _, v := range o.Values() {
		s, _ := o.Sibling(v.VTag)
		if len(s.Value) > 0 {
			s.Value[0] ^= 0xff
		}
	}
	unchanged("Sibling mutation")
}

func TestVTag(t *testing.T) {
	t0 := time.Unix(1700000000, 5)
	v := vtagFor("n1/0", 7, t0)
	if len(v) != 22 {
		t.Fatalf("vtag %q has %d characters", v, len(v))
	}
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			t.Fatalf("vtag %q is not alphanumeric", v)
		}
	}
	if vtagFor("n1/0", 7, t0.In(time.FixedZone("x", 3600))) != v {
		t.Fatal("vtag depends on the time zone")
	}
	seen := map[string]bool{v: true}
	for _, other := range []string{
		vtagFor("n1/0", 8, t0), vtagFor("n1/1", 7, t0), vtagFor("n1/0", 7, t0.Add(1)), vtagFor("n1/0", 7, time.Time{}),
	} {
		if seen[other] {
			t.Fatalf("vtag collision %q", other)
		}
		seen[other] = true
	}
	o := New().Update(Context{}, Content{LastModified: t0, VTag: "client-chosen"}, "n1/0")
	if got := o.Values()[0].VTag; got != vtagFor("n1/0", 1, t0) {
		t.Fatalf("Update vtag %q", got)
	}
}

func TestUpdateNormalisesTime(t *testing.T) {
	local := time.Now().In(time.FixedZone("x", -7*3600)) // carries a monotonic reading
	o := New().Update(Context{}, Content{LastModified: local}, "a")
	got := o.Values()[0].LastModified
	if got != local.UTC() || got.Location() != time.UTC || !got.Equal(local) {
		t.Fatalf("LastModified %v (%v), want %v in UTC", got, got.Location(), local)
	}
}

func TestNilObject(t *testing.T) {
	var o *Object
	if !o.IsEmpty() || o.IsTombstone() || o.Len() != 0 || o.Values() != nil || !o.Context().IsZero() {
		t.Fatal("nil object is not empty")
	}
	if !Equal(o, New()) || !o.Descends(New()) || !New().Descends(o) || o.Descends(mk("a:1[x]")) {
		t.Fatal("nil object compares wrongly")
	}
	if got := shape(o.Update(Context{}, val("v"), "a")); got != "a:1[v]" {
		t.Fatalf("nil.Update = %s", got)
	}
	if got := shape(Sync(nil, nil)); got != "" {
		t.Fatalf("Sync(nil, nil) = %s", got)
	}
	if b, err := Encode(o); err != nil {
		t.Fatal(err)
	} else if d, err := Decode(b); err != nil || !d.IsEmpty() {
		t.Fatalf("Decode(Encode(nil)) = %v, %v", d, err)
	}
}

func TestUpdateEmptyActorPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New().Update(Context{}, val("v"), "")
}

func TestEqual(t *testing.T) {
	a := sample()
	b, _ := Decode(mustEncode(t, a))
	if !Equal(a, b) {
		t.Fatal("decoded sample not Equal")
	}
	for name, change := range map[string]func(c *Content){
		"value":    func(c *Content) { c.Value = append(c.Value, '!') },
		"meta":     func(c *Content) { c.Meta = map[string]string{"x": "y"} },
		"links":    func(c *Content) { c.Links = append(c.Links, Link{}) },
		"time":     func(c *Content) { c.LastModified = c.LastModified.Add(1) },
		"deleted":  func(c *Content) { c.Deleted = !c.Deleted },
		"vtag":     func(c *Content) { c.VTag += "x" },
		"type":     func(c *Content) { c.ContentType += "x" },
		"charset":  func(c *Content) { c.Charset += "x" },
		"encoding": func(c *Content) { c.ContentEncoding += "x" },
	} {
		b, _ := Decode(mustEncode(t, a))
		change(&b.entries[1].values[0])
		if Equal(a, b) {
			t.Errorf("changing %s keeps Equal", name)
		}
	}
	b, _ = Decode(mustEncode(t, a))
	b.entries[0].counter++
	if Equal(a, b) {
		t.Error("changing a counter keeps Equal")
	}
	if Equal(a, New()) || !Equal(nil, New()) {
		t.Error("Equal with empty")
	}
}

func TestSize(t *testing.T) {
	o := sample()
	b := mustEncode(t, o)
	if s := o.Size(); s < len(b)/2 || s > 2*len(b)+64 {
		t.Fatalf("Size %d for %d encoded bytes", s, len(b))
	}
	big := New().Update(Context{}, Content{Value: make([]byte, 1<<20)}, "a")
	if big.Size() < 1<<20 {
		t.Fatalf("Size %d below the value's length", big.Size())
	}
}

func mustEncode(t testing.TB, o *Object) []byte {
	t.Helper()
	b, err := Encode(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLastModified(t *testing.T) {
	if !New().LastModified().IsZero() {
		t.Fatal("empty object has a last-modified time")
	}
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	o := New().Update(Context{}, Content{Value: []byte("a"), LastModified: t1.Add(time.Hour)}, "x")
	o = o.Update(Context{}, Content{Value: []byte("b"), LastModified: t1}, "y")
	if got := o.LastModified(); !got.Equal(t1.Add(time.Hour)) {
		t.Fatalf("LastModified = %v, want the newest sibling's %v", got, t1.Add(time.Hour))
	}
}
