package node

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Location names a key: bucket type, bucket and key.
type Location struct {
	Type   string
	Bucket string
	Key    string
}

// DefaultType is the bucket type that always exists.
const DefaultType = "default"

// Ceilings on the parts of a Location, whatever the configuration says:
// Badger refuses keys longer than 65,000 bytes, and a storage key is the
// location plus a partition and index prefix. Config.MaxKeyLen and
// Config.MaxBucketLen set the limits a node enforces, at most these.
const (
	MaxTypeLen   = 255
	MaxBucketLen = 1024
	MaxKeyLen    = 32 << 10
)

// Validate checks that every part is present and within its limit.
func (l Location) Validate() error {
	switch {
	case l.Type == "":
		return fmt.Errorf("%w: empty bucket type", ErrBadRequest)
	case l.Bucket == "":
		return fmt.Errorf("%w: empty bucket", ErrBadRequest)
	case l.Key == "":
		return fmt.Errorf("%w: empty key", ErrBadRequest)
	case len(l.Type) > MaxTypeLen:
		return fmt.Errorf("%w: bucket type longer than %d bytes", ErrBadRequest, MaxTypeLen)
	case len(l.Bucket) > MaxBucketLen:
		return fmt.Errorf("%w: bucket longer than %d bytes", ErrBadRequest, MaxBucketLen)
	case len(l.Key) > MaxKeyLen:
		return fmt.Errorf("%w: key longer than %d bytes", ErrBadRequest, MaxKeyLen)
	}
	return nil
}

// String is type/bucket/key, for logs.
func (l Location) String() string { return l.Type + "/" + l.Bucket + "/" + l.Key }

// Bytes is the location's storage key: each part length-prefixed (uvarint),
// so that one bucket's keys are contiguous and sort by key within it. It is
// also what the ring hashes and what a causal context is bound to.
func (l Location) Bytes() []byte {
	b := make([]byte, 0, len(l.Type)+len(l.Bucket)+len(l.Key)+9)
	b = appendPart(b, l.Type)
	b = appendPart(b, l.Bucket)
	return append(b, l.Key...)
}

// BucketPrefix is the storage-key prefix shared by every key of a bucket.
func BucketPrefix(typ, bucket string) []byte {
	return appendPart(appendPart(nil, typ), bucket)
}

// ParseLocation reverses Bytes.
func ParseLocation(b []byte) (Location, error) {
	typ, rest, err := readPart(b)
	if err != nil {
		return Location{}, err
	}
	bucket, rest, err := readPart(rest)
	if err != nil {
		return Location{}, err
	}
	return Location{Type: typ, Bucket: bucket, Key: string(rest)}, nil
}

func appendPart(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadStorageKey = errors.New("node: malformed storage key")

func readPart(b []byte) (string, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return "", nil, errBadStorageKey
	}
	return string(b[k : k+int(n)]), b[k+int(n):], nil
}

// validate checks loc against the package's ceilings and then against
// this node's configured key and bucket limits.
func (n *Node) validate(loc Location) error {
	if err := loc.Validate(); err != nil {
		return err
	}
	if err := n.checkBucketLen(loc.Bucket); err != nil {
		return err
	}
	if len(loc.Key) > n.cfg.MaxKeyLen {
		return fmt.Errorf("%w: key is %d bytes, the maximum is %d", ErrBadRequest, len(loc.Key), n.cfg.MaxKeyLen)
	}
	return nil
}

// checkBucketLen checks a bucket name against the configured limit.
func (n *Node) checkBucketLen(bucket string) error {
	if len(bucket) > n.cfg.MaxBucketLen {
		return fmt.Errorf("%w: bucket name is %d bytes, the maximum is %d", ErrBadRequest, len(bucket), n.cfg.MaxBucketLen)
	}
	return nil
}
