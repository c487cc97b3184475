package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// RunTransfers performs, until ctx ends, the ownership moves of the
// topology that start at this node: for each pending transfer from this
// node it copies every object of the partition to the receiver (merged
// there with what it holds, never overwriting it), makes the copy
// durable, then calls complete, which commits the new owner through the
// metadata plane. Writes that arrive meanwhile also reach the receiver
// (see sendPut), so no write acknowledged before complete is missing from
// it. At most Config.TransferConcurrency transfers run at once; a failed
// one is tried again after Config.TransferRetry, from the start (a merge
// makes a second copy harmless).
//
// This node keeps its copy of a partition it handed off: dropping it
// safely, resuming half-done transfers and throttling them are the work
// of the handoff package.
func (n *Node) RunTransfers(ctx context.Context, complete func(context.Context, Transfer) error) {
	type outcome struct {
		tr  Transfer
		err error
	}
	var (
		running = map[Transfer]bool{}
		resting = map[Transfer]bool{} // failed; waiting for the retry pause
		done    = map[Transfer]bool{} // completed; until the topology shows it
		results = make(chan outcome)
		wake    = make(chan Transfer)
		workers sync.WaitGroup
	)
	// Workers and retry timers end with ctx; RunTransfers returns after
	// them, so nothing it started outlives it.
	defer workers.Wait()
	for {
		changed := n.topologyChanged()
		pending := n.Topology().Pending
		for tr := range done {
			if !slices.Contains(pending, tr) {
				delete(done, tr)
			}
		}
		for _, tr := range pending {
			if tr.From != n.cfg.NodeID || running[tr] || resting[tr] || done[tr] || len(running) >= n.cfg.TransferConcurrency {
				continue
			}
			running[tr] = true
			workers.Go(func() {
				err := n.transferPartition(ctx, tr)
				if err == nil {
					err = complete(ctx, tr)
				}
				if err == nil {
					n.metrics.transfers.Add(1)
				}
				select {
				case results <- outcome{tr, err}:
				case <-ctx.Done():
				}
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case tr := <-wake:
			delete(resting, tr)
		case o := <-results:
			delete(running, o.tr)
			if o.err == nil {
				done[o.tr] = true
				n.log.Info("partition handed off", "partition", o.tr.Partition, "to", o.tr.To)
				continue
			}
			n.log.Warn("partition transfer failed; retrying", "partition", o.tr.Partition, "to", o.tr.To,
				"retry_in", n.cfg.TransferRetry, "err", o.err)
			resting[o.tr] = true
			t := n.cfg.Clock.NewTimer(n.cfg.TransferRetry)
			workers.Go(func() {
				defer t.Stop()
				select {
				case <-t.C():
					select {
					case wake <- o.tr:
					case <-ctx.Done():
					}
				case <-ctx.Done():
				}
			})
		}
	}
}

// transferPartition copies every object of partition tr.Partition to
// tr.To and returns once the receiver holds them durably.
func (n *Node) transferPartition(ctx context.Context, tr Transfer) error {
	dst := ring.VNode{Partition: tr.Partition, Node: tr.To}
	var last []byte
	var lastObj *object.Object
	sent := 0
	err := n.eng.Iterate(store.Partition(tr.Partition), nil, func(key, value []byte) error {
		obj, err := object.Decode(value)
		if err != nil {
			// Never hand on a value that fails verification: a replica
			// holds the key too, and read repair or anti-entropy restore it.
			n.metrics.corruptReads.Add(1)
			n.log.Error("corrupt stored object left out of a transfer", "partition", tr.Partition, "err", err)
			return nil
		}
		k := append([]byte(nil), key...)
		if _, err := n.replicas.PutReplica(ctx, dst, k, obj, false); err != nil {
			return fmt.Errorf("node: transfer of partition %d to %s: %w", tr.Partition, tr.To, err)
		}
		last, lastObj = k, obj
		sent++
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrStop) {
		return err
	}
	if last != nil {
		// One durable write makes every earlier one durable too: the
		// receiver's engine syncs in write order.
		if _, err := n.replicas.PutReplica(ctx, dst, last, lastObj, true); err != nil {
			return fmt.Errorf("node: transfer of partition %d to %s: final sync: %w", tr.Partition, tr.To, err)
		}
	}
	n.log.Debug("partition copied", "partition", tr.Partition, "to", tr.To, "objects", sent)
	return nil
}
