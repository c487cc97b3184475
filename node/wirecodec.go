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

// encodeWire encodes m with its own codec; size is a guess at the length.
func encodeWire(m wireMsg, size int) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, size))
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

// encodeKeyed writes one map key and runs write for its value.
func encodeKeyed(e *msgpack.Encoder, key string, write func() error) error {
	if err := e.EncodeString(key); err != nil {
		return err
	}
	return write()
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (m *getReplicaReq) EncodeMsgpack(e *msgpack.Encoder) error {
	if err := e.EncodeMapLen(2); err != nil {
		return err
	}
	if err := encodeKeyed(e, "p", func() error { return e.EncodeInt(int64(m.Partition)) }); err != nil {
		return err
	}
	return encodeKeyed(e, "k", func() error { return e.EncodeBytes(m.Key) })
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
	if err := e.EncodeMapLen(fields(true, len(m.Object) > 0, m.Err != "")); err != nil {
		return err
	}
	if err := encodeKeyed(e, "s", func() error { return e.EncodeUint8(m.Status) }); err != nil {
		return err
	}
	if len(m.Object) > 0 {
		if err := encodeKeyed(e, "o", func() error { return e.EncodeBytes(m.Object) }); err != nil {
			return err
		}
	}
	if m.Err != "" {
		return encodeKeyed(e, "e", func() error { return e.EncodeString(m.Err) })
	}
	return nil
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
	if err := e.EncodeMapLen(fields(true, true, true, m.Durable, m.NoMerged)); err != nil {
		return err
	}
	if err := encodeKeyed(e, "p", func() error { return e.EncodeInt(int64(m.Partition)) }); err != nil {
		return err
	}
	if err := encodeKeyed(e, "k", func() error { return e.EncodeBytes(m.Key) }); err != nil {
		return err
	}
	if err := encodeKeyed(e, "o", func() error { return e.EncodeBytes(m.Object) }); err != nil {
		return err
	}
	if m.Durable {
		if err := encodeKeyed(e, "d", func() error { return e.EncodeBool(true) }); err != nil {
			return err
		}
	}
	if m.NoMerged {
		return encodeKeyed(e, "n", func() error { return e.EncodeBool(true) })
	}
	return nil
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
	if err := e.EncodeMapLen(fields(len(m.Object) > 0)); err != nil {
		return err
	}
	if len(m.Object) > 0 {
		return encodeKeyed(e, "o", func() error { return e.EncodeBytes(m.Object) })
	}
	return nil
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
