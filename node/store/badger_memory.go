package store

// BadgerMemory is what Badger holds in memory for an engine, as far as
// Badger reports it. Every figure is in bytes.
type BadgerMemory struct {
	// BlockCache is the cost of the blocks in the block cache now;
	// BlockCacheLimit its configured bound (Config.BlockCacheSize).
	BlockCache      int64
	BlockCacheLimit int64
	// MemTableLimit bounds the memtables: NumMemtables × MemTableSize
	// (their arenas are allocated whole).
	MemTableLimit int64
	// TableIndex is the size of every table's index, bloom filter
	// included; Bloom the bloom filters alone. Badger reads both in place
	// from the table files, which it maps into memory: they are resident
	// file pages, not heap, and they grow with the number of keys.
	TableIndex int64
	Bloom      int64
	// Tables is the number of tables; TableBytes their size on disk.
	Tables     int
	TableBytes int64
}

// Memory reports what Badger holds in memory.
func (b *Badger) Memory() (BadgerMemory, error) {
	if err := b.enter(); err != nil {
		return BadgerMemory{}, err
	}
	defer b.exit()
	m := BadgerMemory{
		BlockCacheLimit: b.cfg.BlockCacheSize,
		MemTableLimit:   int64(b.cfg.NumMemtables) * b.cfg.MemTableSize,
	}
	if cm := b.db.BlockCacheMetrics(); cm != nil {
		m.BlockCache = int64(cm.CostAdded()) - int64(cm.CostEvicted())
	}
	for _, t := range b.db.Tables() {
		m.Tables++
		m.TableIndex += int64(t.IndexSz)
		m.Bloom += int64(t.BloomFilterSize)
		m.TableBytes += int64(t.OnDiskSize)
	}
	return m, nil
}
