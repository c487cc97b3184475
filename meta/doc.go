// Package meta is cairn's metadata plane: a Raft group (hashicorp/raft)
// whose replicated state machine, FSM, holds what must never diverge
// between nodes: the members and their addresses, the ring (owners,
// pending transfers, epoch) and its staged changes, bucket types and
// per-bucket property overrides, and the keys of the strongly consistent
// bucket types.
//
// # Invariants
//
//   - Apply is deterministic: it reads only the State and the log entry
//     (no clock, no configuration, no map order), so every replica that
//     applies the same log reaches the same State and every snapshot of
//     it is the same bytes.
//   - A command that fails changes nothing but State.Index; its error
//     travels in the Result (Result.Err rebuilds it, sentinel included).
//   - Ring changes are staged, planned and committed. ComputePlan is pure:
//     the plan a client shows is the plan OpCommit applies, as long as the
//     ring is still at the plan's epoch (ErrStaleEpoch otherwise).
//   - An owner changes only when its data has arrived: a commit records
//     moves as pending transfers and the current owner keeps serving,
//     except after force-remove and force-replace, where no one is left
//     to hand off and ownership passes at once.
//   - Strongly consistent keys are compare-and-set registers versioned by
//     one actor; their tombstones are kept forever, so that a context read
//     before a delete never matches a re-created key.
//
// # Usage
//
//	fsm := meta.NewFSM(node.DefaultProps(), logger)
//	r, _ := raft.NewRaft(conf, fsm, logs, stable, snaps, trans)
//	data, _ := meta.Encode(meta.OpStage, meta.Change{Kind: meta.ChangeJoin, Node: "n2"})
//	fut := r.Apply(data, timeout)
//	if err := fut.Error(); err != nil { … } // not committed
//	if err := fut.Response().(*meta.Result).Err(); err != nil { … } // refused
//	plan, _ := fsm.Plan()
//	data, _ = meta.Encode(meta.OpCommit, meta.CommitCmd{Epoch: plan.Epoch})
package meta
