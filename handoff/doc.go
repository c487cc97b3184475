// Package handoff decides which partition transfers a node runs and when:
// hinted handoff (objects a fallback holds for a down primary, delivered
// when it is back) and ownership handoff (a partition moving to its next
// owner after a committed ring change).
//
// The Scheduler is a step-driven core, in the way etcd's raft is: it does
// no I/O and reads no clock. The node tells it which transfers should
// exist (Offer), what the workers achieved (Progress, Finished) and what
// the operator asked (Pause, Resume, Cancel), always with the current
// time; it answers which transfers to start (Next) and which running ones
// have stalled (Stalled). The node owns the goroutines that stream data,
// the rate limiter and the persistence of each transfer's cursor.
//
// Invariants:
//   - At most Config.MaxConcurrent transfers run at once per node.
//   - A transfer's cursor (the last key the receiver acknowledged
//     durably) only moves forward while the transfer exists; a retry or a
//     restart resumes after it rather than from the first key. Cancel
//     drops the cursor: a cancelled transfer that is resumed starts over.
//   - A failed or stalled transfer is retried after a backoff that doubles
//     up to Config.MaxBackoff; it is never dropped while it is still
//     wanted.
//   - Paused and cancelled transfers do not start until resumed.
//
// Usage (inside the node's handoff loop):
//
//	s := handoff.NewScheduler(cfg)
//	s.Offer(now, wanted)            // from the ring and the hints held
//	for _, t := range s.Next(now) { // start workers
//		go stream(t)                // calls s.Progress, then s.Finished
//	}
package handoff
