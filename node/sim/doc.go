// Package sim runs whole cairn clusters in one process under one seed: the
// deterministic simulation test.
//
// A run starts 3 to 7 nodes (node.NewClustered on store.Mem engines) inside
// a testing/synctest bubble, so that time is virtual: it moves only when
// every goroutine of the run is blocked, and then straight to the next
// timer. Node-to-node messages go through an rpc.StepNetwork, where they
// wait until the driver moves them. The driver is the one goroutine that
// decides: it waits until every other goroutine is blocked
// (synctest.Wait), sorts the queued messages into an order that does not
// depend on scheduling, and draws from the seed which one to deliver or
// drop, when to let time pass, and which fault to inject next. So one seed
// replays one history: Result.Log is the same, byte for byte, on every run
// of a seed (TestSameSeedSameLog).
//
// Faults drawn from the seed during the fault phase: message loss, delay
// and reordering (the driver's choice of message and of when time passes),
// symmetric and one-way partitions, node crashes, restarts, corruption
// of a stored value, jumps of one node's wall clock, and ring changes: the
// ring starts without the last node, which may join, and members may
// leave (down to three). The driver plays the metadata plane for those:
// it plans the change, publishes the ring with its pending moves, and
// commits each move that a node's ownership handoff reports done; a node
// learns a new ring only while it reaches a majority, as a Raft follower
// in a minority lags, and a crashed node when it restarts. The sync policy is drawn too: under always and
// interval a crash is a power loss, which loses what the policy had not
// made durable; under none it is a process crash, which loses nothing (a
// power loss there may lose anything, as the policy says). Clients write
// with dw=2, so an acknowledged write is durable on two replicas. Gossip is modelled by the driver: it tells every node's
// liveness view, after a detection delay, who crashed, restarted or is
// across a partition.
//
// The workload is Jepsen's set: clients add unique elements to sets kept
// in a few keys, by read-modify-write with the causal context, merging
// siblings by union; one add in four is a blind write, with no context
// and no read, a sibling that the next read-modify-write merges. Every
// read a client makes is checked for elements never written. After the fault phase the driver heals everything,
// restarts crashed nodes, lets read repair, hinted handoff and
// anti-entropy run for a bounded virtual time, and checks (Result.Violations):
//
//   - no acknowledged element is missing from its key;
//   - no element is present that no client tried to add;
//   - no acknowledged delete comes back (one operation in five writes a
//     key of its own and deletes it; tombstones are reaped meanwhile);
//   - every primary replica of every key holds the same bytes;
//   - no node holds data for a partition it does not own (a hint left
//     behind), and no ring change is left unfinished;
//   - no goroutine of the run is left (synctest fails the test otherwise).
//
// Use:
//
//	res := sim.Run(t, sim.DefaultConfig(seed))
//	if len(res.Violations) > 0 { t.Fatal(res.Report()) }
package sim
