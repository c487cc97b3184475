package msgpackcheck

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// MaxNesting bounds how deep msgpack values nest: a value inside
// MaxNesting arrays or maps is accepted, one level more is not.
const MaxNesting = 32

// ErrTruncated: a length or element count claims more than the input
// holds, or the input ends inside a value. Check wraps it with detail.
var ErrTruncated = errors.New("msgpack: truncated")

// Check walks b without decoding it and checks that it is exactly one
// msgpack value, that every string, binary and extension fits in what is
// left of b, that every array and map claims no more elements than bytes
// are left (each element takes at least one), and that nothing nests
// deeper than MaxNesting. It returns nil or an error describing the first
// problem (wrapping ErrTruncated for the length problems).
func Check(b []byte) error {
	// Iterative, with a stack of the element counts still expected at
	// each open level, so hostile nesting cannot grow the Go stack.
	open := []int{1}
	i := 0
	for len(open) > 0 {
		top := len(open) - 1
		if open[top] == 0 {
			open = open[:top]
			continue
		}
		open[top]--
		if i >= len(b) {
			return ErrTruncated
		}
		c := b[i]
		i++
		skip, items := 0, 0
		var err error
		switch {
		case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3: // fixints, nil, bools
		case c <= 0x8f: // fixmap
			items = 2 * int(c&0x0f)
		case c <= 0x9f: // fixarray
			items = int(c & 0x0f)
		case c <= 0xbf: // fixstr
			skip = int(c & 0x1f)
		case c == 0xc4, c == 0xd9: // bin8, str8
			skip, i, err = readLen(b, i, 1)
		case c == 0xc5, c == 0xda: // bin16, str16
			skip, i, err = readLen(b, i, 2)
		case c == 0xc6, c == 0xdb: // bin32, str32
			skip, i, err = readLen(b, i, 4)
		case c == 0xc7, c == 0xc8, c == 0xc9: // ext8, ext16, ext32: length, type, data
			skip, i, err = readLen(b, i, 1<<(c-0xc7))
			skip++
		case c == 0xcc, c == 0xd0: // uint8, int8
			skip = 1
		case c == 0xcd, c == 0xd1: // uint16, int16
			skip = 2
		case c == 0xca, c == 0xce, c == 0xd2: // float32, uint32, int32
			skip = 4
		case c == 0xcb, c == 0xcf, c == 0xd3: // float64, uint64, int64
			skip = 8
		case c >= 0xd4 && c <= 0xd8: // fixext 1, 2, 4, 8, 16: type, data
			skip = 1 + 1<<(c-0xd4)
		case c == 0xdc, c == 0xdd: // array16, array32
			items, i, err = readLen(b, i, 2<<(c-0xdc))
		case c == 0xde, c == 0xdf: // map16, map32
			items, i, err = readLen(b, i, 2<<(c-0xde))
			items *= 2
		default: // 0xc1, never used
			return fmt.Errorf("msgpack: invalid code %#x", c)
		}
		if err != nil {
			return err
		}
		if skip > len(b)-i {
			return fmt.Errorf("%w: %d bytes claimed, %d left", ErrTruncated, skip, len(b)-i)
		}
		i += skip
		if items > 0 {
			if items > len(b)-i {
				return fmt.Errorf("%w: %d elements claimed, %d bytes left", ErrTruncated, items, len(b)-i)
			}
			if len(open) > MaxNesting {
				return fmt.Errorf("msgpack: values nest deeper than %d", MaxNesting)
			}
			open = append(open, items)
		}
	}
	if i != len(b) {
		return fmt.Errorf("msgpack: %d trailing bytes", len(b)-i)
	}
	return nil
}

// readLen reads a big-endian length of size bytes at b[i:].
func readLen(b []byte, i, size int) (n, next int, err error) {
	if size > len(b)-i {
		return 0, i, ErrTruncated
	}
	switch size {
	case 1:
		n = int(b[i])
	case 2:
		n = int(binary.BigEndian.Uint16(b[i:]))
	default:
		n = int(binary.BigEndian.Uint32(b[i:]))
	}
	return n, i + size, nil
}
