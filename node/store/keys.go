package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4/skl"
)

// Key layout. Both engines order keys as Badger stores them: the partition as
// 4 bytes big-endian, then the caller's key. Big-endian makes the partition
// the most significant part of the sort order, so one vnode is one
// contiguous range [partitionPrefix(p), partitionPrefix(p+1)) that prefix
// iteration and DropPrefix address directly, and iteration inside it is
// plain byte order of the caller's keys.

const partitionLen = 4

// MaxKeySize is the longest key (without the partition) an engine accepts:
// Badger's 65000-byte limit less the partition prefix.
const MaxKeySize = 65000 - partitionLen

// badgerReserved is the prefix Badger keeps for its own keys ("!badger!").
// Its first four bytes read as partition 0x21626164, so that one partition
// cannot hold keys starting with "ger!". Both engines reject them alike.
var badgerReserved = []byte("!badger!")

func partitionPrefix(p Partition) []byte {
	var b [partitionLen]byte
	binary.BigEndian.PutUint32(b[:], p)
	return b[:]
}

// encodeKey returns a new slice holding the on-disk form of (p, key).
func encodeKey(p Partition, key []byte) []byte {
	b := make([]byte, partitionLen+len(key))
	binary.BigEndian.PutUint32(b, p)
	copy(b[partitionLen:], key)
	return b
}

// checkKey enforces the limits both engines share, so that a test run on Mem
// fails where production on Badger would.
func checkKey(p Partition, key []byte) error {
	if len(key) > MaxKeySize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrInvalidKey, len(key), MaxKeySize)
	}
	if p == reservedPartition && bytes.HasPrefix(key, badgerReserved[partitionLen:]) {
		return fmt.Errorf("%w: partition %#x key %q is reserved by badger", ErrInvalidKey, p, key)
	}
	return nil
}

var reservedPartition = binary.BigEndian.Uint32(badgerReserved)

// Batch limits. Badger refuses a transaction that would not fit in a
// memtable: more than 15% of MemTableSize in estimated bytes, or as many
// entries as that many bytes of skiplist nodes. The estimate below is
// Badger's own (txn.checkSize, Entry.estimateSizeAndSetThreshold), including
// the entry it adds to mark the end of a transaction, so Mem refuses exactly
// the batches Badger would.
const (
	skiplistNodeSize  = int64(skl.MaxNodeSize)
	entryVersionBytes = 10 // checkSize's allowance for the version suffix
	entryMetaBytes    = 2  // meta and user-meta
	valuePointerBytes = 12 // a value stored in the value log leaves a pointer
)

func maxBatchBytes(memTableSize int64) int64 { return 15 * memTableSize / 100 }

// opCost estimates what an op costs a Badger transaction.
func opCost(keyLen, valueLen int, valueThreshold int64) int64 {
	k := int64(partitionLen + keyLen)
	if int64(valueLen) < valueThreshold {
		return k + int64(valueLen) + entryMetaBytes + entryVersionBytes
	}
	return k + valuePointerBytes + entryMetaBytes + entryVersionBytes
}

// checkBatch validates every key of the batch and its size.
func checkBatch(batch []Op, memTableSize, valueThreshold int64) error {
	var size int64
	for i := range batch {
		op := &batch[i]
		if err := checkKey(op.Partition, op.Key); err != nil {
			return err
		}
		vlen := len(op.Value)
		if op.Delete {
			vlen = 0
		}
		size += opCost(len(op.Key), vlen, valueThreshold)
	}
	return checkBatchSize(len(batch), size, memTableSize)
}

// checkBatchSize applies Badger's limits to a batch of count ops whose costs
// sum to size.
func checkBatchSize(count int, size, memTableSize int64) error {
	limit := maxBatchBytes(memTableSize)
	maxCount := limit / skiplistNodeSize
	// +1: the transaction's end marker is an entry too.
	if int64(count)+1 >= maxCount || size >= limit {
		return fmt.Errorf("%w: %d ops, ~%d bytes; limits %d ops, %d bytes",
			ErrBatchTooLarge, count, size, maxCount-2, limit-1)
	}
	return nil
}
