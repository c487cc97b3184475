package object

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"
)

// check runs a rapid property many times over (each run draws its own
// seed), so that the default go test exercises thousands of histories.
func check(t *testing.T, prop func(*rapid.T)) {
	t.Helper()
	runs := 20
	if testing.Short() {
		runs = 1
	}
	for range runs {
		rapid.Check(t, prop)
		if t.Failed() {
			return
		}
	}
}

// mk builds an object from a spec like "a:2[v2,v1] b:1[]": each value's
// Value and VTag are its name.
func mk(spec string) *Object {
	o := &Object{}
	for _, f := range strings.Fields(spec) {
		var e entry
		actor, rest, _ := strings.Cut(f, ":")
		e.actor = Actor(actor)
		n, vals, _ := strings.Cut(rest, "[")
		fmt.Sscan(n, &e.counter)
		for _, v := range strings.Split(strings.TrimSuffix(vals, "]"), ",") {
			if v != "" {
				e.values = append(e.values, Content{Value: []byte(v), VTag: v})
			}
		}
		o.entries = append(o.entries, e)
	}
	return o
}

// shape renders o in mk's notation, naming values by their Value.
func shape(o *Object) string {
	var parts []string
	for _, e := range o.list() {
		var vs []string
		for _, c := range e.values {
			vs = append(vs, string(c.Value))
		}
		parts = append(parts, fmt.Sprintf("%s:%d[%s]", e.actor, e.counter, strings.Join(vs, ",")))
	}
	return strings.Join(parts, " ")
}

func val(s string) Content {
	return Content{Value: []byte(s), ContentType: "text/plain"}
}

// sealObject frames a msgpack body as Encode does, with a valid checksum.
func sealObject(body []byte) []byte {
	b := append([]byte{formatVersion}, body...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// sealContext frames a msgpack body as Context.Encode does.
func sealContext(body, bind []byte) string {
	b := []byte{contextVersion}
	b = binary.BigEndian.AppendUint64(b, xxhash.Sum64(bind))
	b = append(b, body...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return base64.StdEncoding.EncodeToString(b)
}

// pack msgpack-encodes v with the library's reflection encoder.
func pack(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := msgpack.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sample is an object with every field in use: three siblings from two
// actors and a clock entry without values.
func sample() *Object {
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.UTC)
	o := New().Update(Context{}, Content{Value: []byte("first"), LastModified: t0.Add(-time.Second)}, "n1/0")
	ctx := o.Context()
	o = o.Update(Context{}, Content{
		Value:           []byte(`{"a":1}`),
		ContentType:     "application/json",
		Charset:         "utf-8",
		ContentEncoding: "gzip",
		Meta:            map[string]string{"color": "blue", "size": "xl", "a": ""},
		Links:           []Link{{Bucket: "b", Key: "k", Tag: "t"}, {Bucket: "b2", Key: "k2"}},
		LastModified:    t0,
	}, "n1/0")
	p := New().Update(Context{}, val("elsewhere"), "n3/32")
	p = p.Update(p.Context(), Content{Deleted: true, LastModified: t0.Add(-time.Hour)}, "n3/32")
	o = Sync(o, p)
	return o.Update(ctx.Merge(mk("n0/64:3[]").Context()), val("third"), "n2/16")
}
