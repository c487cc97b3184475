package object

import (
	"encoding/binary"
	"time"

	"github.com/cespare/xxhash/v2"
)

const (
	base62   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	vtagHalf = 11 // base62 digits for 64 bits (62^11 > 2^64)
	vtagLen  = 2 * vtagHalf
)

// vtagFor names the write with dot (actor, counter) made at lastModified:
// 128 bits of xxhash (two seeds), in 22 base62 characters like Riak's
// vtags. The coordinator computes it once and it travels with the Content,
// so every replica shows the same vtag for the same write. lastModified is
// mixed in so that a key whose tombstone was reaped, and whose counters
// therefore restart, does not reuse an old ETag for a new value.
func vtagFor(actor Actor, counter uint64, lastModified time.Time) string {
	buf := make([]byte, 0, len(actor)+1+8+8+4)
	buf = append(buf, actor...)
	buf = append(buf, 0)
	buf = binary.BigEndian.AppendUint64(buf, counter)
	if !lastModified.IsZero() {
		buf = binary.BigEndian.AppendUint64(buf, uint64(lastModified.Unix()))
		buf = binary.BigEndian.AppendUint32(buf, uint32(lastModified.Nanosecond()))
	}
	var d xxhash.Digest
	d.ResetWithSeed(0x63616972_6e767467) // "cairnvtg"
	_, _ = d.Write(buf)

	var out [vtagLen]byte
	putBase62(out[:vtagHalf], xxhash.Sum64(buf))
	putBase62(out[vtagHalf:], d.Sum64())
	return string(out[:])
}

// putBase62 writes x into dst as fixed-width base62, most significant first.
func putBase62(dst []byte, x uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = base62[x%62]
		x /= 62
	}
}
