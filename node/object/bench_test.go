package object

import (
	"fmt"
	"testing"
	"time"
)

func benchObjects() []struct {
	name string
	o    *Object
} {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	one := New().Update(Context{}, Content{
		Value: make([]byte, 100), ContentType: "application/octet-stream", LastModified: t0,
	}, "node-1/0")
	three := New()
	for i := range 3 {
		three = three.Update(Context{}, Content{
			Value:        make([]byte, 1024),
			ContentType:  "application/json",
			Meta:         map[string]string{"owner": "bench"},
			LastModified: t0.Add(time.Duration(i) * time.Second),
		}, Actor(fmt.Sprintf("node-%d/0", i)))
	}
	return []struct {
		name string
		o    *Object
	}{{"1x100B", one}, {"3x1KiB", three}}
}

func BenchmarkEncode(b *testing.B) {
	for _, tc := range benchObjects() {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(tc.o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, tc := range benchObjects() {
		enc := mustEncode(b, tc.o)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(enc)))
			for b.Loop() {
				if _, err := Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkUpdate(b *testing.B) {
	for _, tc := range benchObjects() {
		b.Run(tc.name, func(b *testing.B) {
			ctx := tc.o.Context()
			c := Content{Value: make([]byte, 100), LastModified: time.Unix(1e9, 0)}
			b.ReportAllocs()
			for b.Loop() {
				_ = tc.o.Update(ctx, c, "node-1/0")
			}
		})
	}
}

func BenchmarkSync(b *testing.B) {
	objs := benchObjects()
	three := objs[1].o
	// Two replicas that each took a write the other has not seen.
	x := three.Update(three.Context(), val("x"), "node-0/0")
	y := three.Update(Context{}, val("y"), "node-2/0")
	b.ReportAllocs()
	for b.Loop() {
		_ = Sync(x, y)
	}
}

func BenchmarkContextEncodeDecode(b *testing.B) {
	ctx := benchObjects()[1].o.Context()
	bind := []byte("default/bucket/key")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeContext(ctx.Encode(bind), bind); err != nil {
			b.Fatal(err)
		}
	}
}
