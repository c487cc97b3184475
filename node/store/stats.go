package store

// Stats is an approximate size of an engine's contents.
type Stats struct {
	// Keys: for Badger, the entries in its tables, which still count
	// overwritten versions and deletions that compaction has not yet
	// dropped and not what sits in memtables; for Mem, exact.
	Keys int64
	// Bytes: for Badger, the size of its files on disk; for Mem, the sum of
	// key and value lengths.
	Bytes int64
}
