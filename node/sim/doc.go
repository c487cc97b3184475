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
// of a seed (TestSameSeedSameLog). That holds only while the driver acts
// on a still bubble (each change it makes follows a synctest.Wait, and a
// node it wakes has all of its news by then) and while nothing that shows
// is left to the Go scheduler: a select with two ready cases whose choice
// changes what happens next, or two goroutines of one node racing to do
// what the messages of the step network would otherwise order.
//
// Faults drawn from the seed during the fault phase: message loss, delay
// and reordering (the driver's choice of message and of when time passes),
// symmetric and one-way partitions, node crashes, restarts, corruption
// of a stored value, jumps of one node's wall clock, and ring changes: the
// ring starts without the last node, which may join, and members may
// leave (down to three). A node that left is retired (stopped for good,
// its disk thrown away) once it lists no transfer of its own, during the
// faults when the draw says so and as soon as it may while the cluster
// settles; it must hold no data then. The driver plays the metadata
// plane for those:
// it plans the change, publishes the ring with its pending moves, and
// commits each move that a node's ownership handoff reports done; a node
// learns a new ring only while it reaches a majority, as a Raft follower
// in a minority lags, and a crashed node when it restarts. Partitions
// drawn one after another stack up; once some link has stayed cut for
// Config.MaxOutage (2 s), every link heals, so that no schedule keeps the
// nodes apart for the whole fault phase and acknowledges nothing. The sync policy is drawn too: under always and
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
//   - no tombstone is reaped while another primary of its key holds a
//     live value (checked at each reap, as the node deletes it);
//   - every primary replica of every key holds the same bytes;
//   - no node holds data for a partition it does not own (a hint left
//     behind), and no ring change is left unfinished;
//   - no goroutine of the run is left (synctest fails the test otherwise).
//
// # The strongly consistent keyspace
//
// Run's nodes keep their metadata in a node.MemMetadata, so the keys of
// consistent bucket types, which live in the Raft metadata plane, are not
// under its faults. RunStrong puts them there: it starts a real metadata
// group (meta/group.Open, 3 or 5 voters on group.InmemStores, over an
// rpc.MemNetwork, whose blocked calls wait on channels and timers and so
// are durably blocked for synctest) inside a bubble of its own, creates a
// consistent bucket type, and runs clients that read, create (with no
// context or If-None-Match), compare-and-set (with the causal context of
// the value read) and delete through node.Metadata on a random member; a
// follower forwards to the leader. Values are unique per write. A write
// that times out or loses its leader has an unknown outcome and is
// recorded as possibly applied at any later time.
//
// Faults drawn from the seed: partitions into two random sides, isolation
// of the current leader or of a random member, a split of every member
// from every other (no majority anywhere: writes must fail or stay
// unknown), a one-way hold of the bytes from one member to another, a
// crash (the member's group is closed and its connections reset; its Raft
// stores, which fsync every write in production, survive), a restart on
// the same stores, and a heal. Some seeds run Raft with production
// timings, the others with the short test ones. After the fault phase
// everything heals and restarts, every key is read once more, and the
// checks are (StrongResult.Violations):
//
//   - the whole history, final reads included, is linearizable
//     (porcupine, with internal/lincheck's model of a compare-and-set
//     register per key);
//   - a leader serves the final reads within the settle time;
//   - once every member has applied what the leader has after a barrier,
//     every member holds the same bytes for every strong key;
//   - no operation fails with an error other than a conflict, not found,
//     or a lost quorum;
//   - no goroutine of the run is left.
//
// TestStrongCheckCatchesStaleReads shows the check can fail: with
// group.Config.UnsafeLocalReads, members serve reads from their own copy,
// and porcupine rejects the history.
//
// A strong run does not replay byte for byte. hashicorp/raft draws its
// election timeouts from the global math/rand, seeded from crypto/rand,
// and its goroutines race on real channels, so which member wins an
// election, and when, differs from run to run. What a seed fixes is the
// fault schedule (StrongResult.Schedule, the same line for line on every
// run: TestStrongSameSeedSameSchedule) and every client's sequence of
// choices (think time, key, member, kind of operation); "isolate the
// leader" isolates whoever leads at that moment, and a client's
// compare-and-set carries whatever value it last read. A failing seed is
// therefore a lead, not a recording: replaying it repeats the same
// pressure, and the report prints the seed, the last events (faults and
// the members' Info logs) and the last operations on the keys at fault.
//
// Use:
//
//	res := sim.Run(t, sim.DefaultConfig(seed))
//	if len(res.Violations) > 0 { t.Fatal(res.Report()) }
//
//	sres := sim.RunStrong(t, sim.DefaultStrongConfig(seed))
//	if len(sres.Violations) > 0 { t.Fatal(sres.Report()) }
package sim
