package group

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// FuzzDecodeMessages feeds arbitrary bytes to the decoder of every
// message of the group's RPC that is not a Raft command (those are
// meta.FuzzDecodeCommand's): join and remove-peer requests, and the
// leader's answer a follower reads. None may panic or allocate beyond
// the input's means; what decodes encodes back to bytes that decode to
// the same value.
func FuzzDecodeMessages(f *testing.F) {
	props := node.DefaultProps()
	for _, m := range []any{
		joinRequest{Member: meta.Member{ID: "n4", State: meta.Joining, HTTPAddr: "h:8098", RPCAddr: "h:8099", RaftAddr: "h:8300", GossipAddr: "h:7946"}},
		removeRequest{ID: "n2"},
		meta.Result{Code: meta.CodeNotLeader, Msg: "not the leader"},
		meta.Result{Epoch: 7, Index: 42, Object: []byte{1, 2, 3}, Type: &meta.BucketType{Name: "sc", Props: props, Active: true}},
	} {
		b, err := msgpack.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		for kind := range 3 {
			f.Add(uint8(kind), b)
		}
	}
	// An array header claiming 2^32-1 elements, and a string claiming
	// more bytes than follow: what msgpack would allocate for blindly.
	f.Add(uint8(2), []byte{0x81, 0xa4, 't', 'y', 'p', 'e', 0x81, 0xa5, 'p', 'r', 'o', 'p', 's', 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(0), []byte{0x81, 0xa1, 'm', 0x81, 0xa2, 'i', 'd', 0xdb, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		var v, again any
		switch kind % 3 {
		case 0:
			v, again = new(joinRequest), new(joinRequest)
		case 1:
			v, again = new(removeRequest), new(removeRequest)
		default:
			v, again = new(meta.Result), new(meta.Result)
		}
		if err := decodeMsg(b, v); err != nil {
			return
		}
		enc, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatalf("%T decoded from %x does not encode: %v", v, b, err)
		}
		if err := decodeMsg(enc, again); err != nil {
			t.Fatalf("%T re-encoded as %x does not decode: %v", v, enc, err)
		}
		enc2, _ := msgpack.Marshal(again)
		if !bytes.Equal(enc, enc2) && !reflect.DeepEqual(v, again) {
			t.Fatalf("%T: %+v round-trips to %+v", v, v, again)
		}
	})
}
