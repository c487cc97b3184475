package object

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Encoding of an Object, version 1:
//
//	version  1 byte, 1
//	body     msgpack: [entry...]
//	           entry   = [actor str, counter uint, [content...] newest first]
//	           content = [value bin|nil, content type str, charset str,
//	                      content encoding str, meta map str→str (keys sorted),
//	                      links [[bucket, key, tag]...], last-modified seconds
//	                      int, last-modified nanoseconds uint, deleted bool,
//	                      vtag str]
//	checksum 4 bytes, big-endian CRC-32C (Castagnoli) of version and body
//
// Fields are positional; a new field means a new version.
const (
	formatVersion = 1
	checksumLen   = 4
	contentFields = 10

	// maxCounter bounds counters in a decoded Object; see maxContextCounter.
	maxCounter = 1 << 63

	// Smallest encodings, used to bound allocations by the input's length.
	minEntryLen   = 4  // fixarray, fixstr, fixint, fixarray
	minContentLen = 11 // fixarray and ten one-byte fields
	minLinkLen    = 4
	minMetaLen    = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Encode returns the storage and wire encoding of o (nil is the empty
// object). Equal objects encode to equal bytes.
func Encode(o *Object) ([]byte, error) {
	buf := bytes.NewBuffer(make([]byte, 0, o.Size()+16))
	buf.WriteByte(formatVersion)
	enc := msgpack.GetEncoder()
	enc.Reset(buf)
	err := encodeEntries(enc, o.list())
	msgpack.PutEncoder(enc)
	if err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

func encodeEntries(enc *msgpack.Encoder, es []entry) error {
	// Writes go to a bytes.Buffer, which cannot fail; only lengths can.
	_ = enc.EncodeArrayLen(len(es))
	for i := range es {
		e := &es[i]
		_ = enc.EncodeArrayLen(3)
		if err := encodeString(enc, string(e.actor)); err != nil {
			return err
		}
		_ = enc.EncodeUint(e.counter)
		_ = enc.EncodeArrayLen(len(e.values))
		for k := range e.values {
			if err := encodeContent(enc, &e.values[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

func encodeContent(enc *msgpack.Encoder, c *Content) error {
	if len(c.Value) > math.MaxUint32 {
		return fmt.Errorf("object: value of %d bytes is too large to encode", len(c.Value))
	}
	_ = enc.EncodeArrayLen(contentFields)
	_ = enc.EncodeBytes(c.Value)
	for _, s := range [...]string{c.ContentType, c.Charset, c.ContentEncoding} {
		if err := encodeString(enc, s); err != nil {
			return err
		}
	}
	_ = enc.EncodeMapLen(len(c.Meta))
	keys := make([]string, 0, len(c.Meta))
	for k := range c.Meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := encodeString(enc, k); err != nil {
			return err
		}
		if err := encodeString(enc, c.Meta[k]); err != nil {
			return err
		}
	}
	_ = enc.EncodeArrayLen(len(c.Links))
	for _, l := range c.Links {
		_ = enc.EncodeArrayLen(3)
		for _, s := range [...]string{l.Bucket, l.Key, l.Tag} {
			if err := encodeString(enc, s); err != nil {
				return err
			}
		}
	}
	_ = enc.EncodeInt(c.LastModified.Unix())
	_ = enc.EncodeUint(uint64(c.LastModified.Nanosecond()))
	_ = enc.EncodeBool(c.Deleted)
	return encodeString(enc, c.VTag)
}

func encodeString(enc *msgpack.Encoder, s string) error {
	if len(s) > math.MaxUint32 {
		return fmt.Errorf("object: string of %d bytes is too large to encode", len(s))
	}
	_ = enc.EncodeString(s)
	return nil
}

// Decode parses an encoding made by Encode. It checks the version (errors
// wrap ErrVersion) and the checksum before parsing, and the Object's
// invariants after; every other failure wraps ErrCorrupt. It never panics,
// allocates in proportion to len(b), and the result shares no memory with b.
func Decode(b []byte) (*Object, error) {
	if err := Verify(b); err != nil {
		return nil, err
	}
	es, err := decodeEntries(b[1 : len(b)-checksumLen])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return &Object{entries: es}, nil
}

// Verify checks what Decode checks before parsing: the version (errors
// wrap ErrVersion), the length and the checksum (ErrCorrupt). Bytes that
// pass are what some Encode returned, unless they were altered in a way
// CRC-32C misses; it does not allocate.
func Verify(b []byte) error {
	if len(b) == 0 {
		return fmt.Errorf("%w: empty", ErrCorrupt)
	}
	if b[0] != formatVersion {
		return fmt.Errorf("%w: %d", ErrVersion, b[0])
	}
	if len(b) < 1+1+checksumLen {
		return fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(b))
	}
	end := len(b) - checksumLen
	if got, want := crc32.Checksum(b[:end], castagnoli), binary.BigEndian.Uint32(b[end:]); got != want {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return nil
}

func decodeEntries(body []byte) ([]entry, error) {
	r := newReader(body)
	defer r.close()
	n, err := r.arrayLen(minEntryLen)
	if err != nil {
		return nil, err
	}
	var es []entry
	if n > 0 {
		es = make([]entry, n)
	}
	for i := range es {
		e := &es[i]
		if err := r.fixedArray(3); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		actor, err := r.str()
		if err != nil {
			return nil, fmt.Errorf("entry %d: actor: %w", i, err)
		}
		e.actor = Actor(actor)
		if e.counter, err = r.uint(); err != nil {
			return nil, fmt.Errorf("entry %d: counter: %w", i, err)
		}
		nv, err := r.arrayLen(minContentLen)
		if err != nil {
			return nil, fmt.Errorf("entry %d: values: %w", i, err)
		}
		switch {
		case actor == "":
			return nil, fmt.Errorf("entry %d: empty actor", i)
		case i > 0 && e.actor <= es[i-1].actor:
			return nil, fmt.Errorf("entry %d: actors not sorted and distinct", i)
		case e.counter == 0 || e.counter > maxCounter:
			return nil, fmt.Errorf("entry %d: counter %d out of range", i, e.counter)
		case uint64(nv) > e.counter:
			return nil, fmt.Errorf("entry %d: %d values for counter %d", i, nv, e.counter)
		}
		if nv > 0 {
			e.values = make([]Content, nv)
		}
		for k := range e.values {
			if err := r.content(&e.values[k]); err != nil {
				return nil, fmt.Errorf("entry %d: value %d: %w", i, k, err)
			}
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return es, nil
}

// reader decodes msgpack from an in-memory buffer, checking every length
// against the bytes left before it allocates.
type reader struct {
	buf []byte
	r   *bytes.Reader
	d   *msgpack.Decoder
}

func newReader(buf []byte) *reader {
	r := &reader{buf: buf, r: bytes.NewReader(buf), d: msgpack.GetDecoder()}
	// A *bytes.Reader is read directly, without buffering, so r.r.Len() is
	// what is left to decode.
	r.d.Reset(r.r)
	return r
}

func (r *reader) close() {
	msgpack.PutDecoder(r.d)
	r.d = nil
}

func (r *reader) end() error {
	if n := r.r.Len(); n != 0 {
		return fmt.Errorf("%d trailing bytes", n)
	}
	return nil
}

// arrayLen reads an array header for elements of at least minLen bytes.
func (r *reader) arrayLen(minLen int) (int, error) {
	n, err := r.d.DecodeArrayLen()
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, fmt.Errorf("nil where an array belongs")
	}
	if n > r.r.Len()/minLen {
		return 0, fmt.Errorf("array of %d exceeds the input", n)
	}
	return n, nil
}

func (r *reader) fixedArray(want int) error {
	n, err := r.d.DecodeArrayLen()
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("array of %d, want %d", n, want)
	}
	return nil
}

// raw reads a str or bin header and returns the bytes that follow, in place.
// A nil comes back as a nil slice.
func (r *reader) raw() ([]byte, error) {
	n, err := r.d.DecodeBytesLen()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil
	}
	if n > r.r.Len() {
		return nil, fmt.Errorf("string of %d exceeds the input", n)
	}
	off := len(r.buf) - r.r.Len()
	if _, err := r.r.Seek(int64(n), io.SeekCurrent); err != nil {
		return nil, err
	}
	return r.buf[off : off+n : off+n], nil
}

func (r *reader) str() (string, error) {
	b, err := r.raw()
	return string(b), err
}

func (r *reader) bin() ([]byte, error) {
	b, err := r.raw()
	if len(b) == 0 {
		return nil, err
	}
	return bytes.Clone(b), err
}

func (r *reader) uint() (uint64, error) { return r.d.DecodeUint64() }

func (r *reader) content(c *Content) error {
	if err := r.fixedArray(contentFields); err != nil {
		return err
	}
	var err error
	if c.Value, err = r.bin(); err != nil {
		return fmt.Errorf("value: %w", err)
	}
	for _, s := range [...]*string{&c.ContentType, &c.Charset, &c.ContentEncoding} {
		if *s, err = r.str(); err != nil {
			return fmt.Errorf("content type fields: %w", err)
		}
	}
	nm, err := r.d.DecodeMapLen()
	if err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	if nm < 0 || nm > r.r.Len()/minMetaLen {
		return fmt.Errorf("meta: bad length %d", nm)
	}
	if nm > 0 {
		c.Meta = make(map[string]string, nm)
	}
	for range nm {
		k, err := r.str()
		if err != nil {
			return fmt.Errorf("meta key: %w", err)
		}
		if c.Meta[k], err = r.str(); err != nil {
			return fmt.Errorf("meta value: %w", err)
		}
	}
	nl, err := r.arrayLen(minLinkLen)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	if nl > 0 {
		c.Links = make([]Link, nl)
	}
	for i := range c.Links {
		l := &c.Links[i]
		if err := r.fixedArray(3); err != nil {
			return fmt.Errorf("link %d: %w", i, err)
		}
		for _, s := range [...]*string{&l.Bucket, &l.Key, &l.Tag} {
			if *s, err = r.str(); err != nil {
				return fmt.Errorf("link %d: %w", i, err)
			}
		}
	}
	sec, err := r.d.DecodeInt64()
	if err != nil {
		return fmt.Errorf("last modified: %w", err)
	}
	nsec, err := r.uint()
	if err != nil {
		return fmt.Errorf("last modified: %w", err)
	}
	if nsec >= 1e9 {
		return fmt.Errorf("last modified: %d nanoseconds", nsec)
	}
	c.LastModified = normalTime(time.Unix(sec, int64(nsec)))
	if c.Deleted, err = r.d.DecodeBool(); err != nil {
		return fmt.Errorf("deleted: %w", err)
	}
	if c.VTag, err = r.str(); err != nil {
		return fmt.Errorf("vtag: %w", err)
	}
	return nil
}
