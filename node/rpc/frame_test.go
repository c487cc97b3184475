package rpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func sampleFrames() []*frame {
	return []*frame{
		{ID: 1, Kind: kindRequest, Method: "put", Body: []byte("value"), Timeout: 1500000000},
		{ID: 1<<64 - 1, Kind: kindResponse, Body: bytes.Repeat([]byte{0xc1}, 300)},
		{ID: 7, Kind: kindResponse, Code: codeHandlerError, Msg: "no such vnode"},
		{ID: 8, Kind: kindCancel},
	}
}

// sameFrame compares frames, treating a nil and an empty body as equal
// (an empty body is not sent).
func sameFrame(a, b *frame) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Method == b.Method && a.Code == b.Code &&
		a.Msg == b.Msg && bytes.Equal(a.Body, b.Body) && a.Timeout == b.Timeout
}

func TestFrameRoundTrip(t *testing.T) {
	// A body over 64 KiB takes msgpack's widest bin encoding.
	frames := append(sampleFrames(), &frame{ID: 9, Kind: kindResponse, Body: bytes.Repeat([]byte{7}, 70000)})
	var stream bytes.Buffer
	for _, f := range frames {
		b, err := encodeFrame(f, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		stream.Write(b)
	}
	for _, want := range frames {
		got, err := readFrame(&stream, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !sameFrame(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	}
	if _, err := readFrame(&stream, 1<<20); err != io.EOF {
		t.Errorf("at end of stream: %v, want io.EOF", err)
	}
}

// rawFrame frames payload with a correct header, whatever it contains.
func rawFrame(payload []byte) []byte {
	b := make([]byte, frameHeaderSize, frameHeaderSize+len(payload))
	binary.BigEndian.PutUint32(b[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(b[4:8], crc32.Checksum(payload, castagnoli))
	return append(b, payload...)
}

func mustMarshal(t testing.TB, v any) []byte {
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReadFrameRejects(t *testing.T) {
	good, err := encodeFrame(&frame{ID: 3, Kind: kindRequest, Method: "get"}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	badSum := bytes.Clone(good)
	badSum[len(badSum)-1] ^= 1
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, ErrFrameTooLarge},
		{"over limit", rawFrame(make([]byte, 1025)), ErrFrameTooLarge},
		{"truncated header", good[:5], ErrMalformedFrame},
		{"truncated body", good[:len(good)-2], ErrMalformedFrame},
		{"bad checksum", badSum, ErrMalformedFrame},
		{"not msgpack", rawFrame([]byte{0xc1}), ErrMalformedFrame},
		{"not a map", rawFrame(mustMarshal(t, "hello")), ErrMalformedFrame},
		{"empty payload", rawFrame(nil), ErrMalformedFrame},
		{"trailing bytes", rawFrame(append(mustMarshal(t, &frame{ID: 1, Kind: kindCancel}), 0)), ErrMalformedFrame},
		{"unknown kind", rawFrame(mustMarshal(t, &frame{ID: 1, Kind: 9})), ErrMalformedFrame},
		{"request without method", rawFrame(mustMarshal(t, &frame{ID: 1, Kind: kindRequest})), ErrMalformedFrame},
		{"wrong field type", rawFrame(mustMarshal(t, map[string]any{"i": "one", "k": 1})), ErrMalformedFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := readFrame(bytes.NewReader(tt.input), 1024)
			if !errors.Is(err, tt.want) {
				t.Fatalf("readFrame = %+v, %v; want %v", f, err, tt.want)
			}
		})
	}
}

func TestEncodeFrameTooLarge(t *testing.T) {
	_, err := encodeFrame(&frame{ID: 1, Kind: kindRequest, Method: "put", Body: make([]byte, 2000)}, 1024)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v, want ErrFrameTooLarge", err)
	}
}

// FuzzReadFrame feeds arbitrary bytes to the frame reader (and, so that the
// checksum does not hide the decoder from the fuzzer, to the payload
// decoder): neither may panic, and whatever they accept must survive
// another trip through the encoder.
func FuzzReadFrame(f *testing.F) {
	for _, fr := range sampleFrames() {
		b, err := encodeFrame(fr, 1<<20)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[frameHeaderSize:])
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(rawFrame([]byte{0x81, 0xa1, 0x6b, 0x01}))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 20
		if fr, err := readFrame(bytes.NewReader(data), limit); err == nil {
			roundTrip(t, fr, limit)
		}
		if fr, err := decodeFrame(data); err == nil {
			roundTrip(t, fr, limit)
		}
	})
}

func roundTrip(t *testing.T, fr *frame, limit int) {
	b, err := encodeFrame(fr, limit+1024)
	if err != nil {
		t.Fatalf("re-encode %+v: %v", fr, err)
	}
	again, err := readFrame(bytes.NewReader(b), limit+1024)
	if err != nil {
		t.Fatalf("re-read %+v: %v", fr, err)
	}
	if !sameFrame(fr, again) {
		t.Fatalf("round trip changed %+v into %+v", fr, again)
	}
}

// taggedFrame has frame's fields and tags but not its codec methods, so
// msgpack encodes it by reflection.
type taggedFrame frame

// TestFrameCodecMatchesTags holds the hand-written codec to the layout the
// struct tags declare, in both directions.
func TestFrameCodecMatchesTags(t *testing.T) {
	frames := append(sampleFrames(), &frame{}, &frame{ID: 5, Kind: kindResponse, Code: codeUnknownMethod, Msg: "x", Timeout: -3})
	for _, want := range frames {
		byTags := mustMarshal(t, (*taggedFrame)(want))
		got, err := decodeFrameUnchecked(byTags)
		if err != nil {
			t.Fatalf("decode tag-encoded %+v: %v", want, err)
		}
		if !sameFrame(got, want) {
			t.Errorf("tag-encoded %+v decoded as %+v", want, got)
		}

		byHand, err := encodeFrame(want, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var back taggedFrame
		if err := msgpack.Unmarshal(byHand[frameHeaderSize:], &back); err != nil {
			t.Fatalf("reflect-decode %+v: %v", want, err)
		}
		if !sameFrame((*frame)(&back), want) {
			t.Errorf("hand-encoded %+v reflect-decoded as %+v", want, back)
		}
	}
}

// decodeFrameUnchecked decodes without decodeFrame's protocol checks.
func decodeFrameUnchecked(payload []byte) (*frame, error) {
	f := new(frame)
	return f, msgpack.Unmarshal(payload, f)
}

func TestFrameDecodeSkipsUnknownKeys(t *testing.T) {
	payload := mustMarshal(t, map[string]any{"i": 4, "k": 3, "future": []any{1, "two", map[string]int{"x": 3}}})
	f, err := decodeFrame(payload)
	if err != nil || f.ID != 4 || f.Kind != kindCancel {
		t.Fatalf("decodeFrame = %+v, %v", f, err)
	}
	if _, err := decodeFrame(mustMarshal(t, map[string]any{"i": 4, "k": 300})); !errors.Is(err, ErrMalformedFrame) {
		t.Errorf("kind 300 accepted: %v", err)
	}
}
