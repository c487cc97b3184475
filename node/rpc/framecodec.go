package rpc

import (
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// The frame codec is written by hand rather than left to msgpack's
// reflection: on the hot path reflection cost a third of a round trip's
// CPU. The output is the same map, with the same keys, that the struct
// tags on frame describe (TestFrameCodecMatchesTags holds the two
// together), so any msgpack library can read a frame.

var (
	_ msgpack.CustomEncoder = (*frame)(nil)
	_ msgpack.CustomDecoder = (*frame)(nil)
)

// EncodeMsgpack writes f as a map of its non-zero fields.
func (f *frame) EncodeMsgpack(enc *msgpack.Encoder) error {
	n := 0
	for _, set := range []bool{f.ID != 0, f.Kind != 0, f.Method != "", f.Code != 0, f.Msg != "", len(f.Body) != 0, f.Timeout != 0} {
		if set {
			n++
		}
	}
	if err := enc.EncodeMapLen(n); err != nil {
		return err
	}
	var err error
	put := func(key string, value func() error) {
		if err == nil {
			err = enc.EncodeString(key)
		}
		if err == nil {
			err = value()
		}
	}
	if f.ID != 0 {
		put("i", func() error { return enc.EncodeUint(f.ID) })
	}
	if f.Kind != 0 {
		put("k", func() error { return enc.EncodeUint(uint64(f.Kind)) })
	}
	if f.Method != "" {
		put("m", func() error { return enc.EncodeString(f.Method) })
	}
	if f.Code != 0 {
		put("c", func() error { return enc.EncodeUint(uint64(f.Code)) })
	}
	if f.Msg != "" {
		put("e", func() error { return enc.EncodeString(f.Msg) })
	}
	if len(f.Body) != 0 {
		put("b", func() error { return enc.EncodeBytes(f.Body) })
	}
	if f.Timeout != 0 {
		put("t", func() error { return enc.EncodeInt(f.Timeout) })
	}
	return err
}

// DecodeMsgpack reads a map written by EncodeMsgpack (or by reflection
// from the struct tags). Unknown keys are skipped, so fields can be added
// later; known keys with values of the wrong type are errors.
func (f *frame) DecodeMsgpack(dec *msgpack.Decoder) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	for range n {
		key, err := dec.DecodeString()
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		switch key {
		case "i":
			f.ID, err = dec.DecodeUint64()
		case "k":
			var k uint8
			k, err = decodeUint8(dec)
			f.Kind = kind(k)
		case "m":
			f.Method, err = dec.DecodeString()
		case "c":
			var c uint8
			c, err = decodeUint8(dec)
			f.Code = code(c)
		case "e":
			f.Msg, err = dec.DecodeString()
		case "b":
			f.Body, err = dec.DecodeBytes()
		case "t":
			f.Timeout, err = dec.DecodeInt64()
		default:
			err = dec.Skip()
		}
		if err != nil {
			return fmt.Errorf("field %q: %w", key, err)
		}
	}
	return nil
}

// decodeUint8 rejects out-of-range values instead of truncating them.
func decodeUint8(dec *msgpack.Decoder) (uint8, error) {
	v, err := dec.DecodeUint64()
	if err != nil {
		return 0, err
	}
	if v > math.MaxUint8 {
		return 0, fmt.Errorf("value %d out of range", v)
	}
	return uint8(v), nil
}
