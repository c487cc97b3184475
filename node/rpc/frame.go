package rpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/vmihailenco/msgpack/v5"
)

// Wire layout of one frame:
//
//	length  uint32, big-endian: bytes of payload that follow the header
//	crc     uint32, big-endian: CRC-32C of the payload
//	payload msgpack map of a frame, short keys
//
// The checksum is cairn's rule for everything it reads from elsewhere:
// corruption is detected, never acted on. The length comes first so that a
// reader can refuse an oversized frame before allocating for it.
const frameHeaderSize = 8

// castagnoli is the CRC-32C table (hardware-accelerated on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// kind says what a frame is for.
type kind uint8

const (
	kindRequest  kind = 1
	kindResponse kind = 2
	// kindCancel tells the server that the caller gave up on request ID,
	// so its handler's context is cancelled early.
	kindCancel kind = 3
)

// code is the outcome carried by a response.
type code uint8

const (
	codeOK            code = 0
	codeHandlerError  code = 1 // Msg is the handler's error text
	codeUnknownMethod code = 2 // the handler returned ErrUnknownMethod
	codeTooLarge      code = 3 // the response would exceed the frame limit
)

// frame is the unit exchanged on a connection. The struct tags document
// the wire layout; framecodec.go implements it by hand. Requests carry Method, Body
// and Timeout; responses carry Code, Msg and Body; cancels carry only ID.
// IDs are chosen by the client and unique per client, so responses may come
// back in any order.
type frame struct {
	_msgpack struct{} `msgpack:",omitempty"`

	ID     uint64 `msgpack:"i"`
	Kind   kind   `msgpack:"k"`
	Method string `msgpack:"m"`
	Code   code   `msgpack:"c"`
	Msg    string `msgpack:"e"`
	Body   []byte `msgpack:"b"`
	// Timeout is the time the caller had left when it sent the request, in
	// nanoseconds; zero means no deadline. It is relative rather than an
	// absolute instant so that clock skew between hosts does not matter;
	// time in flight is the only error, and it errs on the generous side.
	Timeout int64 `msgpack:"t"`
}

// encodeFrame returns f framed for the wire (header included), or
// ErrFrameTooLarge if its payload would exceed limit.
func encodeFrame(f *frame, limit int) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(frameHeaderSize + len(f.Body) + len(f.Method) + len(f.Msg) + 32)
	buf.Write(make([]byte, frameHeaderSize))
	enc := msgpack.GetEncoder()
	enc.Reset(&buf)
	err := f.EncodeMsgpack(enc)
	msgpack.PutEncoder(enc)
	if err != nil {
		return nil, fmt.Errorf("rpc: encode frame: %w", err)
	}
	b := buf.Bytes()
	n := len(b) - frameHeaderSize
	if n > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, limit)
	}
	binary.BigEndian.PutUint32(b[0:4], uint32(n))
	binary.BigEndian.PutUint32(b[4:8], crc32.Checksum(b[frameHeaderSize:], castagnoli))
	return b, nil
}

// readFrame reads one frame from r. It returns io.EOF only for a clean end
// of stream between frames; a stream that ends inside a frame is
// ErrMalformedFrame, and a length above limit is ErrFrameTooLarge (nothing
// after the header is read, so the stream is then unusable). The returned
// frame's Body is freshly allocated and belongs to the caller.
func readFrame(r io.Reader, limit int) (*frame, error) {
	var hdr [frameHeaderSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated header", ErrMalformedFrame)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[0:4])
	if uint64(n) > uint64(limit) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, limit)
	}
	payload := make([]byte, n)
	if got, err := io.ReadFull(r, payload); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated: %d of %d bytes", ErrMalformedFrame, got, n)
		}
		return nil, err
	}
	if sum := crc32.Checksum(payload, castagnoli); sum != binary.BigEndian.Uint32(hdr[4:8]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrMalformedFrame)
	}
	return decodeFrame(payload)
}

// decodeFrame parses a payload whose checksum has been verified. It is
// strict: trailing bytes, an unknown kind or a request without a method
// are errors, because they mean the peer and we disagree about the
// protocol and nothing more on the stream can be trusted.
func decodeFrame(payload []byte) (*frame, error) {
	r := bytes.NewReader(payload)
	dec := msgpack.GetDecoder()
	dec.Reset(r)
	f := new(frame)
	err := f.DecodeMsgpack(dec)
	msgpack.PutDecoder(dec)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrMalformedFrame, err)
	case r.Len() != 0:
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformedFrame, r.Len())
	case f.Kind == kindRequest && f.Method == "":
		return nil, fmt.Errorf("%w: request without method", ErrMalformedFrame)
	case f.Kind < kindRequest || f.Kind > kindCancel:
		return nil, fmt.Errorf("%w: unknown kind %d", ErrMalformedFrame, f.Kind)
	}
	return f, nil
}
