package node

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// Hand-written codecs for the messages of every get and put: the replica
// reads and writes. msgpack's reflection (struct field lists looked up and
// walked per message) was 6% of a node's CPU under a GET load; these write
// exactly the bytes msgpack.Marshal writes for the tagged structs (a map of
// the fields not omitted, in declaration order, each encoded as msgpack
// encodes its type), and read whatever msgpack.Unmarshal reads: the
// fields in any order, unknown ones skipped. TestWireCodecsMatchMsgpack
// holds them to that, so nodes with and without them interoperate.
//
// They implement msgpack.CustomEncoder and msgpack.CustomDecoder, which
// msgpack.Marshal and Unmarshal use as well; encodeMsg and decodeMsg call
// them directly.

// wireMsg is a message with a hand-written codec.
type wireMsg interface {
	msgpack.CustomEncoder
	msgpack.CustomDecoder
	// wireSize is about the length of the encoding.
	wireSize() int
}

// encodeWire encodes m with its own codec.
func encodeWire(m wireMsg) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, m.wireSize()))
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	if err := m.EncodeMsgpack(enc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodeWire decodes b into m with m's own codec; b must hold exactly one
// value.
func decodeWire(b []byte, m wireMsg) error {
	r := bytes.NewReader(b)
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(r) // a *bytes.Reader is read without buffering
	if err := m.DecodeMsgpack(dec); err != nil {
		return err
	}
	if n := r.Len(); n != 0 {
		return fmt.Errorf("%d trailing bytes", n)
	}
	return nil
}

// fields counts the fields a message encodes.
func fields(present ...bool) int {
	n := 0
	for _, p := range present {
		if p {
			n++
		}
	}
	return n
}

// decodeFields reads a map, calling field for each key; keys field does
// not know are skipped, as msgpack skips fields a struct lacks.
func decodeFields(d *msgpack.Decoder, field func(key string) (bool, error)) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	for range max(n, 0) {
		key, err := d.DecodeString()
		if err != nil {
			return err
		}
		known, err := field(key)
		if err != nil {
			return fmt.Errorf("field %q: %w", key, err)
		}
		if !known {
			if err := d.Skip(); err != nil {
				return err
			}
		}
	}
	return nil
}

// mapWriter writes a map's fields one by one and keeps the first error,
// so that an encoder reads as the list of its fields.
type mapWriter struct {
	e   *msgpack.Encoder
	err error
}

// newMapWriter starts a map of n fields.
func newMapWriter(e *msgpack.Encoder, n int) *mapWriter {
	return &mapWriter{e: e, err: e.EncodeMapLen(n)}
}

func (w *mapWriter) key(k string) bool {
	if w.err == nil {
		w.err = w.e.EncodeString(k)
	}
	return w.err == nil
}

func (w *mapWriter) int(k string, v int) {
	if w.key(k) {
		w.err = w.e.EncodeInt(int64(v))
	}
}

func (w *mapWriter) uint8(k string, v uint8) {
	if w.key(k) {
		w.err = w.e.EncodeUint8(v)
	}
}

func (w *mapWriter) bytes(k string, v []byte) {
	if w.key(k) {
		w.err = w.e.EncodeBytes(v)
	}
}

func (w *mapWriter) str(k string, v string) {
	if w.key(k) {
		w.err = w.e.EncodeString(v)
	}
}

// flag writes a bool field that is only ever written true (omitempty).
func (w *mapWriter) flag(k string) {
	if w.key(k) {
		w.err = w.e.EncodeBool(true)
	}
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *getReplicaReq) EncodeMsgpack(e *msgpack.Encoder) error {
	w := newMapWriter(e, 2)
	w.int("p", m.Partition)
	w.bytes("k", m.Key)
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *getReplicaReq) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, func(key string) (known bool, err error) {
		switch key {
		case "p":
			m.Partition, err = d.DecodeInt()
		case "k":
			m.Key, err = d.DecodeBytes()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *getReplicaResp) EncodeMsgpack(e *msgpack.Encoder) error {
	w := newMapWriter(e, fields(true, len(m.Object) > 0, m.Err != ""))
	w.uint8("s", m.Status)
	if len(m.Object) > 0 {
		w.bytes("o", m.Object)
	}
	if m.Err != "" {
		w.str("e", m.Err)
	}
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *getReplicaResp) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, func(key string) (known bool, err error) {
		switch key {
		case "s":
			m.Status, err = d.DecodeUint8()
		case "o":
			m.Object, err = d.DecodeBytes()
		case "e":
			m.Err, err = d.DecodeString()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *putReplicaReq) EncodeMsgpack(e *msgpack.Encoder) error {
	w := newMapWriter(e, fields(true, true, true, m.Durable, m.NoMerged))
	w.int("p", m.Partition)
	w.bytes("k", m.Key)
	w.bytes("o", m.Object)
	if m.Durable {
		w.flag("d")
	}
	if m.NoMerged {
		w.flag("n")
	}
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *putReplicaReq) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, func(key string) (known bool, err error) {
		switch key {
		case "p":
			m.Partition, err = d.DecodeInt()
		case "k":
			m.Key, err = d.DecodeBytes()
		case "o":
			m.Object, err = d.DecodeBytes()
		case "d":
			m.Durable, err = d.DecodeBool()
		case "n":
			m.NoMerged, err = d.DecodeBool()
		default:
			return false, nil
		}
		return true, err
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *putReplicaResp) EncodeMsgpack(e *msgpack.Encoder) error {
	w := newMapWriter(e, fields(len(m.Object) > 0))
	if len(m.Object) > 0 {
		w.bytes("o", m.Object)
	}
	return w.err
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (m *putReplicaResp) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeFields(d, func(key string) (known bool, err error) {
		if key != "o" {
			return false, nil
		}
		m.Object, err = d.DecodeBytes()
		return true, err
	})
}

func (m *getReplicaReq) wireSize() int  { return 16 + len(m.Key) }
func (m *getReplicaResp) wireSize() int { return 16 + len(m.Object) + len(m.Err) }
func (m *putReplicaReq) wireSize() int  { return 24 + len(m.Key) + len(m.Object) }
func (m *putReplicaResp) wireSize() int { return 8 + len(m.Object) }
