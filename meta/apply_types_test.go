package meta

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/node"
)

func TestCreateType(t *testing.T) {
	strong := node.DefaultProps()
	strong.Consistent, strong.AllowMult = true, false
	five := node.DefaultProps()
	five.NVal = 5

	for _, tc := range []struct {
		name  string
		cmd   TypeCmd
		want  error
		props node.Props
	}{
		{name: "defaults", cmd: TypeCmd{Name: "t"}, props: node.DefaultProps()},
		{name: "empty object", cmd: TypeCmd{Name: "t", Props: []byte(`{}`)}, props: node.DefaultProps()},
		{name: "merged", cmd: TypeCmd{Name: "t", Props: []byte(`{"n_val":5}`)}, props: five},
		{name: "consistent forces allow_mult off", cmd: TypeCmd{Name: "t", Props: []byte(`{"consistent":true,"allow_mult":true}`)}, props: strong},
		{name: "consistent forces last_write_wins off", cmd: TypeCmd{Name: "t", Props: []byte(`{"consistent":true,"allow_mult":false,"last_write_wins":true}`)}, props: strong},
		{name: "default", cmd: TypeCmd{Name: node.DefaultType}, want: ErrTypeExists},
		{name: "empty name", cmd: TypeCmd{}, want: node.ErrBadRequest},
		{name: "long name", cmd: TypeCmd{Name: strings.Repeat("x", node.MaxTypeLen+1)}, want: node.ErrBadRequest},
		{name: "not JSON", cmd: TypeCmd{Name: "t", Props: []byte(`{`)}, want: node.ErrBadProps},
		{name: "unknown property", cmd: TypeCmd{Name: "t", Props: []byte(`{"nval":2}`)}, want: node.ErrBadProps},
		{name: "n_val zero", cmd: TypeCmd{Name: "t", Props: []byte(`{"n_val":0}`)}, want: node.ErrBadProps},
		{name: "consistent n_val zero", cmd: TypeCmd{Name: "t", Props: []byte(`{"n_val":0,"consistent":true}`)}, want: node.ErrBadProps},
		{name: "quorum over n_val", cmd: TypeCmd{Name: "t", Props: []byte(`{"n_val":1,"w":3}`)}, want: node.ErrBadProps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.want != nil {
				h.fails(OpCreateType, tc.cmd, tc.want)
				return
			}
			res := h.ok(OpCreateType, tc.cmd)
			want := BucketType{Name: tc.cmd.Name, Props: tc.props}
			if res.Type == nil || *res.Type != want {
				t.Fatalf("Result.Type %+v, want %+v", res.Type, want)
			}
			if got, err := h.f.Type(tc.cmd.Name); err != nil || got != want {
				t.Fatalf("Type: %+v, %v", got, err)
			}
			if _, err := h.f.TypeProps(tc.cmd.Name); !errors.Is(err, ErrTypeNotActive) || !errors.Is(err, node.ErrUnknownBucketType) {
				t.Fatalf("TypeProps of an inactive type: %v", err)
			}
			h.fails(OpCreateType, tc.cmd, ErrTypeExists)
		})
	}
}

// New types start from the default type as the log has it, not from the
// node's configuration.
func TestCreateTypeFromDefaultType(t *testing.T) {
	h := newHarness(t)
	h.ok(OpUpdateType, TypeCmd{Name: node.DefaultType, Props: []byte(`{"n_val":4}`)})
	res := h.ok(OpCreateType, TypeCmd{Name: "t"})
	if res.Type.Props.NVal != 4 {
		t.Fatalf("n_val %d, want the default type's 4", res.Type.Props.NVal)
	}
}

func TestActivateType(t *testing.T) {
	h := newHarness(t)
	h.fails(OpActivateType, TypeCmd{Name: "t"}, node.ErrUnknownBucketType)
	h.ok(OpCreateType, TypeCmd{Name: "t", Props: []byte(`{"n_val":2}`)})
	for range 2 { // idempotent
		res := h.ok(OpActivateType, TypeCmd{Name: "t"})
		if !res.Type.Active || res.Type.Props.NVal != 2 {
			t.Fatalf("Result.Type %+v", res.Type)
		}
	}
	if p, err := h.f.TypeProps("t"); err != nil || p.NVal != 2 {
		t.Fatalf("TypeProps: %+v, %v", p, err)
	}
	h.ok(OpActivateType, TypeCmd{Name: node.DefaultType})
}

func TestUpdateType(t *testing.T) {
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		h.ok(OpCreateType, TypeCmd{Name: "plain"})
		h.ok(OpCreateType, TypeCmd{Name: "strong", Props: []byte(`{"consistent":true}`)})
		h.ok(OpCreateType, TypeCmd{Name: "live", Props: []byte(`{"consistent":true}`)})
		h.ok(OpActivateType, TypeCmd{Name: "live"})
		return h
	}
	for _, tc := range []struct {
		name, typ, props string
		want             error
		check            func(node.Props) bool
	}{
		{name: "merge", typ: "plain", props: `{"r":1,"allow_mult":false}`,
			check: func(p node.Props) bool { return p.R == 1 && !p.AllowMult && p.NVal == 3 }},
		{name: "no props", typ: "plain", check: func(p node.Props) bool { return p == node.DefaultProps() }},
		{name: "make consistent", typ: "plain", props: `{"consistent":true}`, want: node.ErrBadProps},
		{name: "make inconsistent", typ: "strong", props: `{"consistent":false}`, want: node.ErrBadProps},
		{name: "n_val of an inactive consistent type", typ: "strong", props: `{"n_val":5}`,
			check: func(p node.Props) bool { return p.NVal == 5 }},
		{name: "n_val of an active consistent type", typ: "live", props: `{"n_val":5}`, want: node.ErrBadProps},
		{name: "same n_val of an active consistent type", typ: "live", props: `{"n_val":3,"r":2}`,
			check: func(p node.Props) bool { return p.NVal == 3 && p.R == 2 }},
		{name: "allow_mult on a consistent type", typ: "live", props: `{"allow_mult":true}`,
			check: func(p node.Props) bool { return !p.AllowMult }},
		{name: "default", typ: node.DefaultType, props: `{"n_val":2}`,
			check: func(p node.Props) bool { return p.NVal == 2 }},
		{name: "default made consistent", typ: node.DefaultType, props: `{"consistent":true}`, want: node.ErrBadProps},
		{name: "invalid", typ: "plain", props: `{"n_val":17}`, want: node.ErrBadProps},
		{name: "unknown type", typ: "nope", props: `{}`, want: node.ErrUnknownBucketType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := setup(t)
			cmd := TypeCmd{Name: tc.typ, Props: []byte(tc.props)}
			if tc.want != nil {
				h.fails(OpUpdateType, cmd, tc.want)
				return
			}
			res := h.ok(OpUpdateType, cmd)
			if !tc.check(res.Type.Props) {
				t.Fatalf("props after update %+v", res.Type.Props)
			}
			if got, _ := h.f.Type(tc.typ); !reflect.DeepEqual(&got, res.Type) {
				t.Fatalf("Type %+v, Result.Type %+v", got, res.Type)
			}
		})
	}
}

func TestTypesSorted(t *testing.T) {
	h := newHarness(t)
	for _, name := range []string{"zeta", "alpha", "mid"} {
		h.ok(OpCreateType, TypeCmd{Name: name})
	}
	var names []string
	for _, bt := range h.f.Types() {
		names = append(names, bt.Name)
	}
	if want := []string{"alpha", node.DefaultType, "mid", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("Types %v, want %v", names, want)
	}
	if _, err := h.f.Type("nope"); !errors.Is(err, node.ErrUnknownBucketType) {
		t.Fatalf("Type(nope): %v", err)
	}
	if _, err := h.f.TypeProps("nope"); !errors.Is(err, node.ErrUnknownBucketType) || errors.Is(err, ErrTypeNotActive) {
		t.Fatalf("TypeProps(nope): %v", err)
	}
}

func TestBucketProps(t *testing.T) {
	setup := func(t *testing.T) *harness {
		h := newHarness(t)
		h.ok(OpCreateType, TypeCmd{Name: "idle"})
		h.ok(OpCreateType, TypeCmd{Name: "strong", Props: []byte(`{"consistent":true}`)})
		h.ok(OpActivateType, TypeCmd{Name: "strong"})
		return h
	}
	for _, tc := range []struct {
		name, typ, bucket, props string
		want                     error
		check                    func(node.Props) bool
	}{
		{name: "merge", typ: node.DefaultType, bucket: "b", props: `{"n_val":2,"r":1}`,
			check: func(p node.Props) bool { return p.NVal == 2 && p.R == 1 && p.AllowMult }},
		{name: "unknown type", typ: "nope", bucket: "b", props: `{}`, want: node.ErrUnknownBucketType},
		{name: "inactive type", typ: "idle", bucket: "b", props: `{}`, want: ErrTypeNotActive},
		{name: "empty bucket", typ: node.DefaultType, bucket: "", props: `{}`, want: node.ErrBadRequest},
		{name: "consistent on a plain type", typ: node.DefaultType, bucket: "b", props: `{"consistent":true}`, want: node.ErrBadProps},
		{name: "inconsistent on a consistent type", typ: "strong", bucket: "b", props: `{"consistent":false}`, want: node.ErrBadProps},
		{name: "n_val on a consistent type", typ: "strong", bucket: "b", props: `{"n_val":5}`, want: node.ErrBadProps},
		{name: "quorum on a consistent type", typ: "strong", bucket: "b", props: `{"r":"all"}`,
			check: func(p node.Props) bool { return p.R == node.QuorumAll && p.Consistent && !p.AllowMult }},
		{name: "invalid", typ: node.DefaultType, bucket: "b", props: `{"last_write_wins":true}`, want: node.ErrBadProps},
		{name: "not an object", typ: node.DefaultType, bucket: "b", props: `[]`, want: node.ErrBadProps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := setup(t)
			cmd := BucketPropsCmd{Type: tc.typ, Bucket: tc.bucket, Props: []byte(tc.props)}
			if tc.want != nil {
				h.fails(OpSetBucketProps, cmd, tc.want)
				return
			}
			res := h.ok(OpSetBucketProps, cmd)
			got, err := h.f.BucketProps(tc.typ, tc.bucket)
			if err != nil || got != res.Type.Props || !tc.check(got) {
				t.Fatalf("BucketProps %+v, %v; Result.Type %+v", got, err, res.Type)
			}
		})
	}

	// Overrides build on each other; reset returns to the type's props,
	// and later type changes show through again.
	h := setup(t)
	h.ok(OpSetBucketProps, BucketPropsCmd{Type: node.DefaultType, Bucket: "b", Props: []byte(`{"n_val":2}`)})
	h.ok(OpSetBucketProps, BucketPropsCmd{Type: node.DefaultType, Bucket: "b", Props: []byte(`{"r":1}`)})
	if p, _ := h.f.BucketProps(node.DefaultType, "b"); p.NVal != 2 || p.R != 1 {
		t.Fatalf("second override lost the first: %+v", p)
	}
	if p, _ := h.f.BucketProps(node.DefaultType, "other"); p != node.DefaultProps() {
		t.Fatalf("another bucket's props %+v", p)
	}
	h.fails(OpResetBucketProps, BucketPropsCmd{Type: "idle", Bucket: "b"}, ErrTypeNotActive)
	h.fails(OpResetBucketProps, BucketPropsCmd{Type: node.DefaultType}, node.ErrBadRequest)
	res := h.ok(OpResetBucketProps, BucketPropsCmd{Type: node.DefaultType, Bucket: "b"})
	if res.Type.Props != node.DefaultProps() {
		t.Fatalf("Result.Type after reset %+v", res.Type)
	}
	h.ok(OpUpdateType, TypeCmd{Name: node.DefaultType, Props: []byte(`{"n_val":4}`)})
	if p, _ := h.f.BucketProps(node.DefaultType, "b"); p.NVal != 4 {
		t.Fatalf("after reset the bucket does not follow its type: %+v", p)
	}
	if _, err := h.f.BucketProps("idle", "b"); !errors.Is(err, ErrTypeNotActive) {
		t.Fatalf("BucketProps of an inactive type: %v", err)
	}
}
