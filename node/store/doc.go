// Package store is a node's storage engine seam: the Engine interface, its
// Badger implementation for production, Mem for tests and the simulator, and
// Faulty, a wrapper that injects errors and corruption.
//
// Invariants:
//
//   - Data is per vnode. Each key lives in one Partition, stored as the
//     partition (4 bytes, big-endian) followed by the caller's key, so a
//     partition is one contiguous range: it is iterated in key order,
//     hashed, handed off or dropped as a unit, and no operation on one
//     partition ever sees another's keys.
//   - Batches are atomic, and a value returned is exactly the value stored
//     under that key, in a slice the engine will not touch again. When the
//     engine cannot produce the value (say, Badger finds a block checksum
//     broken) it returns an error, never other bytes. Values carry their own
//     checksum one layer up (node/object), which catches what the engine
//     cannot see; Faulty and CorruptValue exist to test that path.
//   - Durability follows the SyncPolicy (always, interval, none), and
//     WaitDurable tells a DW quorum when a write has reached the disk.
//     Badger makes writes durable by group commit, never per write: under
//     always each write waits for a commit that began after it, and the
//     commits run back to back while writers wait, so concurrent writers
//     share fsyncs; under interval a commit runs every SyncInterval and
//     only WaitDurable waits for it. Mem models the same policies, and
//     Mem.Crash drops what a power loss would.
//
// Usage:
//
//	cfg := store.DefaultConfig()
//	cfg.Dir = filepath.Join(dataDir, "kv")
//	cfg.Logger, cfg.Clock = logger, clk
//	eng, err := store.OpenBadger(cfg)
//	...
//	err = eng.Write([]store.Op{{Partition: p, Key: k, Value: v}})
//	err = eng.WaitDurable(ctx) // only when the request asked for DW
//	err = eng.Iterate(p, bucketPrefix, func(k, v []byte) error { ... })
//
// In tests: store.NewMem() (nothing is ever lost), or
// store.NewMem(store.Config{Sync: store.SyncInterval, Clock: fake}) and
// Crash to lose what the last group commit did not cover.
package store
