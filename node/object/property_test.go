package object

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// drawObjects runs a random history and returns three replicas' objects.
// With lww, some replicas are LWW-resolved at random points too, so the
// algebra is checked on relabelled winners as well.
func drawObjects(t *rapid.T, lww bool) (a, b, c *Object) {
	s := newSim(t, false)
	s.relabels = lww
	ops := rapid.IntRange(0, 40).Draw(t, "ops")
	for range ops {
		if lww && rapid.IntRange(0, 5).Draw(t, "lww") == 0 {
			r := s.replica("lww replica")
			s.replicas[r] = s.replicas[r].LWW()
			continue
		}
		s.run(1)
	}
	pick := func(label string) *Object { return s.replicas[s.replica(label)] }
	return pick("a"), pick("b"), pick("c")
}

func TestSyncAlgebra(t *testing.T) {
	for _, lww := range []bool{false, true} {
		name := "plain"
		if lww {
			name = "with-lww"
		}
		t.Run(name, func(t *testing.T) {
			check(t, func(t *rapid.T) {
				a, b, c := drawObjects(t, lww)
				if ab, ba := Sync(a, b), Sync(b, a); !Equal(ab, ba) {
					t.Fatalf("not commutative:\n a=%v\n b=%v\n ab=%v\n ba=%v", a, b, ab, ba)
				}
				if l, r := Sync(Sync(a, b), c), Sync(a, Sync(b, c)); !Equal(l, r) {
					t.Fatalf("not associative:\n a=%v\n b=%v\n c=%v\n l=%v\n r=%v", a, b, c, l, r)
				}
				if aa := Sync(a, a); !Equal(aa, a) {
					t.Fatalf("not idempotent: %v vs %v", aa, a)
				}
				if !Equal(Sync(a, nil), a) || !Equal(Sync(nil, a), a) || !Equal(Sync(New(), a), a) {
					t.Fatalf("empty is not the identity for %v", a)
				}
				m := Sync(a, b)
				if !m.Descends(a) || !m.Descends(b) {
					t.Fatalf("Sync(a, b) = %v does not descend both %v and %v", m, a, b)
				}
				if got, want := m.Context(), a.Context().Merge(b.Context()); !got.Equal(want) {
					t.Fatalf("Sync context %v, want %v", got, want)
				}
				for _, p := range [][2]*Object{{a, b}, {b, a}, {a, m}, {m, a}, {a, a}} {
					x, y := p[0], p[1]
					if got, want := x.Descends(y), Equal(Sync(x, y), x); got != want {
						t.Fatalf("Descends(%v, %v) = %v, Sync equal = %v", x, y, got, want)
					}
					if x.Descends(y) && !x.Context().Descends(y.Context()) {
						t.Fatalf("object descends but context does not: %v %v", x, y)
					}
				}
				if Equal(a, b) != (a.Descends(b) && b.Descends(a)) {
					t.Fatalf("Equal and mutual Descends disagree: %v %v", a, b)
				}
			})
		})
	}
}

// TestReplicaModel runs random histories of reads, writes with fresh,
// stale and empty contexts, and one-way syncs (each write checks that it
// superseded exactly what its context covered), then lets the replicas
// gossip in a random order and checks that they converge on exactly the
// writes no context covered.
func TestReplicaModel(t *testing.T) {
	check(t, func(t *rapid.T) {
		s := newSim(t, false)
		s.run(rapid.IntRange(1, 60).Draw(t, "ops"))
		s.converge()
		for i := 1; i < len(s.replicas); i++ {
			if !Equal(s.replicas[0], s.replicas[i]) {
				t.Fatalf("replicas diverge:\n %v\n %v", s.replicas[0], s.replicas[i])
			}
		}
		var want []string
		for vtag, w := range s.writes {
			covered := false
			for _, other := range s.writes {
				if other.ctx.Counter(w.actor) >= w.counter {
					covered = true
					break
				}
			}
			if !covered {
				want = append(want, vtag)
			}
		}
		final := s.replicas[0]
		assertSameSet(t, vtags(final), want)
		for _, c := range final.Values() {
			w := s.writes[c.VTag]
			if !contentEqual(&c, &w.content) {
				t.Fatalf("sibling %s is %+v, written %+v", c.VTag, c, w.content)
			}
		}
		if len(s.writes) > 0 && final.IsEmpty() {
			t.Fatalf("every write lost")
		}
	})
}

// TestLWWModel checks replicas that resolve with LWW after every update
// and sync. They always converge on at most one sibling. When timestamps
// follow the order of the writes, the survivor is the latest write. With
// skewed clocks that order can run against causality, and then (as with
// dvvset:lww) the merge may drop every write: each replica's clock records
// a loss the other replica's winner suffered, so only convergence is
// checked.
func TestLWWModel(t *testing.T) {
	for _, skew := range []bool{false, true} {
		name := "ordered-clocks"
		if skew {
			name = "skewed-clocks"
		}
		t.Run(name, func(t *testing.T) {
			check(t, func(t *rapid.T) {
				s := newSim(t, true)
				s.skew = skew
				s.run(rapid.IntRange(1, 60).Draw(t, "ops"))
				s.converge()
				for i := range s.replicas {
					if !Equal(s.replicas[0], s.replicas[i]) {
						t.Fatalf("replicas diverge:\n %v\n %v", s.replicas[0], s.replicas[i])
					}
					if s.replicas[i].Len() > 1 {
						t.Fatalf("LWW object with %d siblings", s.replicas[i].Len())
					}
				}
				if !skew && len(s.writes) > 0 {
					assertSameSet(t, vtags(s.replicas[0]), []string{s.last})
				}
			})
		})
	}
}

func TestUpdateProperties(t *testing.T) {
	check(t, func(t *rapid.T) {
		s := newSim(t, false)
		s.run(rapid.IntRange(0, 40).Draw(t, "ops"))
		r := s.replica("coordinator")
		o, actor := s.replicas[r], s.actors[r]
		c1, c2 := s.content(), s.content()

		// Two writes through one actor with the same context: exactly two
		// siblings, plus whatever the context did not cover.
		ctx := o.Context()
		two := o.Update(ctx, c1, actor).Update(ctx, c2, actor)
		if two.Len() != 2 {
			t.Fatalf("two writes with the read's context: %d siblings %v", two.Len(), two)
		}
		if stale := s.context(r); true {
			one := o.Update(stale.ctx, c1, actor)
			both := one.Update(stale.ctx, c2, actor)
			if both.Len() != one.Len()+1 {
				t.Fatalf("second write with the same context: %d siblings, want %d", both.Len(), one.Len()+1)
			}
			for _, v := range vtags(one) {
				if _, ok := both.Sibling(v); !ok {
					t.Fatalf("second write with the same context lost %s", v)
				}
			}
		}

		// A blind write adds a sibling and removes none.
		blind := o.Update(Context{}, c1, actor)
		if blind.Len() != o.Len()+1 {
			t.Fatalf("blind write: %d siblings, want %d", blind.Len(), o.Len()+1)
		}
		for _, v := range vtags(o) {
			if _, ok := blind.Sibling(v); !ok {
				t.Fatalf("blind write lost %s", v)
			}
		}

		// A delete with the read's context leaves one tombstone.
		del := o.Update(ctx, Content{Deleted: true}, actor)
		if del.Len() != 1 || !del.IsTombstone() {
			t.Fatalf("delete: %v tombstone=%v", del, del.IsTombstone())
		}

		// LWW keeps the clock and the newest sibling.
		l := o.LWW()
		if !l.Context().Equal(o.Context()) {
			t.Fatalf("LWW changed the clock: %v → %v", o.Context(), l.Context())
		}
		if o.Len() > 0 {
			vs := l.Values()
			if len(vs) != 1 {
				t.Fatalf("LWW kept %d siblings", len(vs))
			}
			for _, v := range o.Values() {
				if newer(&v, &vs[0]) {
					t.Fatalf("LWW kept %s but %s is newer", vs[0].VTag, v.VTag)
				}
			}
		}
	})
}

func TestCodecRoundTrip(t *testing.T) {
	check(t, func(t *rapid.T) {
		a, _, _ := drawObjects(t, true)
		b, err := Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(Encode(%v)): %v", a, err)
		}
		if !Equal(got, a) {
			t.Fatalf("round trip:\n got %v\nwant %v", got, a)
		}
		b2, err := Encode(got)
		if err != nil || !bytes.Equal(b, b2) {
			t.Fatalf("encoding not deterministic (%v)", err)
		}

		bind := []byte(rapid.String().Draw(t, "bind"))
		ctx := a.Context()
		s := ctx.Encode(bind)
		back, err := DecodeContext(s, bind)
		if err != nil {
			t.Fatalf("DecodeContext(%q): %v", s, err)
		}
		if !back.Equal(ctx) {
			t.Fatalf("context round trip: %v, want %v", back, ctx)
		}
	})
}
