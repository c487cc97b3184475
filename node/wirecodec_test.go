package node

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"
)

// The messages' shapes without their codecs: msgpack encodes these by
// reflection, as it did the messages before they had codecs of their own.
type (
	plainGetReplicaReq  getReplicaReq
	plainGetReplicaResp getReplicaResp
	plainPutReplicaReq  putReplicaReq
	plainPutReplicaResp putReplicaResp
)

func drawBytes(t *rapid.T, label string) []byte {
	switch rapid.IntRange(0, 3).Draw(t, label+" kind") {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	return rapid.SliceOfN(rapid.Byte(), 1, 300).Draw(t, label)
}

// TestWireCodecsMatchMsgpack holds the hand-written codecs to msgpack's:
// the same bytes out, and the same message back from msgpack's bytes,
// from a map with the fields in another order, and from a map with a
// field the message does not know.
func TestWireCodecsMatchMsgpack(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		part := rapid.IntRange(-1, 1<<20).Draw(t, "partition")
		key, obj := drawBytes(t, "key"), drawBytes(t, "object")
		errText := rapid.SampledFrom([]string{"", "corrupt", "\xff"}).Draw(t, "err")
		status := rapid.Uint8().Draw(t, "status")
		durable := rapid.Bool().Draw(t, "durable")
		noMerged := rapid.Bool().Draw(t, "no merged")
		checkCodec(t, &getReplicaReq{Partition: part, Key: key}, &plainGetReplicaReq{Partition: part, Key: key}, new(getReplicaReq), new(plainGetReplicaReq))
		checkCodec(t, &getReplicaResp{Status: status, Object: obj, Err: errText}, &plainGetReplicaResp{Status: status, Object: obj, Err: errText}, new(getReplicaResp), new(plainGetReplicaResp))
		checkCodec(t, &putReplicaReq{Partition: part, Key: key, Object: obj, Durable: durable, NoMerged: noMerged}, &plainPutReplicaReq{Partition: part, Key: key, Object: obj, Durable: durable, NoMerged: noMerged}, new(putReplicaReq), new(plainPutReplicaReq))
		checkCodec(t, &putReplicaResp{Object: obj}, &plainPutReplicaResp{Object: obj}, new(putReplicaResp), new(plainPutReplicaResp))
	})
}

// checkCodec compares m's codec with msgpack's reflection on plain, the
// same message as a codec-less type; into and plainInto are empty values
// of the two types to decode into.
func checkCodec(t *rapid.T, m wireMsg, plain any, into wireMsg, plainInto any) {
	got, err := encodeMsg(m)
	if err != nil {
		t.Fatalf("encode %T: %v", m, err)
	}
	want, err := msgpack.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%T encodes to %x, msgpack to %x", m, got, want)
	}
	if err := decodeMsg(want, into); err != nil {
		t.Fatalf("decode %T: %v", into, err)
	}
	if err := msgpack.Unmarshal(want, plainInto); err != nil {
		t.Fatal(err)
	}
	same := func(what string) {
		if !reflect.DeepEqual(reflect.ValueOf(into).Elem().Interface(), reflect.ValueOf(plainInto).Elem().Convert(reflect.TypeOf(into).Elem()).Interface()) {
			t.Fatalf("%s: decoded %+v, msgpack %+v", what, into, plainInto)
		}
	}
	same("as encoded")

	// The same fields as a map in reverse order, with one more.
	var fields map[string]msgpack.RawMessage
	if err := msgpack.Unmarshal(want, &fields); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	fields["zz unknown"] = msgpack.RawMessage{0x93, 1, 2, 3}
	if err := enc.Encode(fields); err != nil {
		t.Fatal(err)
	}
	reflect.ValueOf(into).Elem().SetZero()
	reflect.ValueOf(plainInto).Elem().SetZero()
	if err := decodeMsg(buf.Bytes(), into); err != nil {
		t.Fatalf("decode %T from sorted keys with an unknown one: %v", into, err)
	}
	if err := msgpack.Unmarshal(buf.Bytes(), plainInto); err != nil {
		t.Fatal(err)
	}
	same("sorted keys, one unknown")
}

func TestWireCodecRefusesTrailingBytes(t *testing.T) {
	b, err := encodeMsg(&getReplicaReq{Partition: 1, Key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeMsg(append(b, 0xc0), new(getReplicaReq)); err == nil {
		t.Fatal("trailing bytes decoded")
	}
}

func BenchmarkWireCodec(b *testing.B) {
	obj := bytes.Repeat([]byte{7}, 160)
	for _, c := range []struct {
		name string
		m    any
		into func() any
	}{
		{"own", &getReplicaResp{Object: obj}, func() any { return new(getReplicaResp) }},
		{"reflection", &plainGetReplicaResp{Object: obj}, func() any { return new(plainGetReplicaResp) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := encodeMsg(c.m)
				if err != nil {
					b.Fatal(err)
				}
				if err := decodeMsg(out, c.into()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
