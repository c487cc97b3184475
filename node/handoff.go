package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"golang.org/x/time/rate"

	"github.com/cairnkv/cairn/clock"
	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/node/object"
	"github.com/cairnkv/cairn/node/store"
	"github.com/cairnkv/cairn/ring"
)

// localPartition is the engine partition where the node keeps its own
// records (handoff cursors): far above any ring partition.
const localPartition store.Partition = math.MaxUint32

// errStalled stops a transfer that made no progress for the stall timeout.
var errStalled = errors.New("node: handoff stalled: no progress within the stall timeout")

// errUndeliverable ends a hinted transfer that delivered nothing while its
// partition still holds keys here: retried after a backoff, not at once,
// or the loop would spin on keys it cannot send.
var errUndeliverable = errors.New("node: hinted handoff delivered nothing, yet the partition still holds keys")

// cursorPrefix prefixes a transfer's saved progress in localPartition.
const cursorPrefix = "handoff/"

// savedCursor is a transfer's progress as persisted.
type savedCursor struct {
	Cursor []byte `msgpack:"c"`
	Keys   uint64 `msgpack:"k"`
	Bytes  uint64 `msgpack:"b"`
}

// handoffRunner is the node's half of handoff: the goroutines, I/O and
// persistence around a handoff.Scheduler.
type handoffRunner struct {
	n        *Node
	cfg      handoff.Config
	limiter  *rate.Limiter // nil: unlimited
	complete func(context.Context, Transfer) error

	mu      sync.Mutex
	sched   *handoff.Scheduler
	workers map[handoff.ID]*worker
	lostAt  map[int]time.Time // partitions this node stopped owning, and when
	// downSinceLoss are lost partitions whose owner was seen down within
	// the drop grace: what this node holds of them is hints from then on.
	downSinceLoss map[int]bool
	owned         map[int]bool // partitions owned at the last topology
	// moved are ownership transfers completed here that the topology
	// still shows pending (the commit is on its way to this node): they
	// must not run again.
	moved map[handoff.ID]bool
	// saved are the transfers with a cursor on disk.
	saved map[handoff.ID]bool
	// droppedSinceScan are the partitions whose hints an operator dropped
	// since the loop's last scan for hints began: that scan may have seen
	// them before the drop, and must not offer them again.
	droppedSinceScan map[int]bool
	wake             chan struct{}
	events           chan workerEvent
}

// worker is one attempt at a transfer. Events from an attempt that is no
// longer its transfer's current one (stopped, then replaced by a retry)
// are stale and ignored.
type worker struct {
	stop context.CancelCauseFunc
	// loopDone is closed when the loop that started the worker returns:
	// until then the worker's events go to that loop, stopped or not.
	loopDone <-chan struct{}
}

type workerEvent struct {
	w        *worker
	id       handoff.ID
	estimate *uint64
	progress *batchProgress
	finished bool
	err      error
}

type batchProgress struct {
	keys, bytes uint64
	cursor      []byte
}

func newHandoffRunner(n *Node) *handoffRunner {
	h := &handoffRunner{
		n: n, cfg: n.cfg.Handoff, sched: handoff.NewScheduler(n.cfg.Handoff),
		workers: map[handoff.ID]*worker{}, lostAt: map[int]time.Time{}, downSinceLoss: map[int]bool{}, owned: map[int]bool{},
		moved: map[handoff.ID]bool{}, saved: map[handoff.ID]bool{}, droppedSinceScan: map[int]bool{},
		wake: make(chan struct{}, 1), events: make(chan workerEvent, 64),
	}
	if h.cfg.BytesPerSecond > 0 {
		h.limiter = rate.NewLimiter(rate.Limit(h.cfg.BytesPerSecond), h.cfg.BatchBytes)
	}
	return h
}

// WakeHandoff asks the handoff loop to look for work now: gossip calls it
// when a node comes back.
func (n *Node) WakeHandoff() {
	select {
	case n.handoff.wake <- struct{}{}:
	default:
	}
}

// RunHandoff runs this node's hinted and ownership handoff until ctx ends:
//
//   - hinted: objects stored under a partition this node does not own
//     (fallback writes, or a partition it handed on) go to the owner when
//     it is up, and are deleted here once the owner holds them durably and
//     only if unchanged meanwhile;
//   - ownership: each committed move from this node copies the partition
//     to its next owner, then calls complete, which commits the new owner
//     through the metadata plane. Writes during the move reach both.
//
// Transfers run at most Handoff.MaxConcurrent at a time, at most
// Handoff.BytesPerSecond together, resume after their last durable batch
// when retried or after a restart, and are retried with backoff when they
// fail or stall. Operators list and steer them through ListTransfers and
// ControlTransfer. The loop scans for hints every interval and when woken.
func (n *Node) RunHandoff(ctx context.Context, interval time.Duration, complete func(context.Context, Transfer) error) {
	h := n.handoff
	h.complete = complete
	h.restore()
	h.noteTopology(n.cfg.Clock.Now()) // what this node owns as it starts
	var workers sync.WaitGroup
	defer workers.Wait()
	defer h.stopAll()
	tick := n.cfg.Clock.NewTicker(interval)
	defer tick.Stop()
	scan := true
	var hints, held []handoff.ID
	seen := n.routing.Load()
	for {
		changed := n.topologyChanged()
		now := n.cfg.Clock.Now()
		// A ring that changed while the loop was busy is noticed here even
		// if its change signal was missed between two iterations.
		if rt := n.routing.Load(); rt != seen {
			seen = rt
			h.noteTopology(now)
			scan = true
		}
		if scan {
			h.mu.Lock()
			clear(h.droppedSinceScan)
			h.mu.Unlock()
			hints, held = h.hintCandidates(now)
			scan = false
		}
		h.mu.Lock()
		hints, held = h.withoutDropped(hints), h.withoutDropped(held)
		h.sched.Offer(now, slices.Concat(h.ownershipCandidates(), hints, held))
		h.sched.Hold(now, held)
		for id := range h.saved {
			if _, _, _, ok := h.sched.Cursor(id); !ok {
				h.dropCursor(id) // forgotten: no longer wanted
			}
		}
		for _, id := range h.sched.Unwanted() {
			if w, ok := h.workers[id]; ok {
				w.stop(context.Canceled)
			}
		}
		for _, id := range h.sched.Stalled(now) {
			if w, ok := h.workers[id]; ok {
				w.stop(errStalled)
			}
		}
		for _, st := range h.sched.Next(now) {
			wctx, stop := context.WithCancelCause(ctx)
			w := &worker{stop: stop, loopDone: ctx.Done()}
			h.workers[st.ID] = w
			workers.Go(func() {
				defer stop(nil)
				h.run(wctx, w, st)
			})
		}
		// A retry to start or a stall to catch wakes the loop at its time.
		var deadline <-chan time.Time
		var timer clock.Timer
		if at, ok := h.sched.Deadline(); ok {
			timer = n.cfg.Clock.NewTimer(max(at.Sub(now), 0))
			deadline = timer.C()
		}
		h.mu.Unlock()

		select {
		case <-deadline:
			// A retry is offered from a fresh look at what this node
			// holds, not the last tick's, which may be stale. And the tick
			// may fire at the same instant: whichever the select takes
			// first, the loop then does the same.
			scan = true
		case <-ctx.Done():
			return
		case <-changed:
		case <-h.wake:
			scan = true
		case <-tick.C():
			scan = true
		case ev := <-h.events:
			// A hinted transfer that ended may have emptied its partition
			// (or not): look again before offering it anew.
			scan = h.apply(ev) || scan
			for len(h.events) > 0 {
				scan = h.apply(<-h.events) || scan
			}
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

func (h *handoffRunner) stopAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.workers {
		w.stop(context.Canceled)
	}
}

// restore loads the cursors a previous run saved.
func (h *handoffRunner) restore() {
	now := h.n.cfg.Clock.Now()
	_ = h.n.eng.Iterate(localPartition, []byte(cursorPrefix), func(key, value []byte) error {
		id, err := handoff.ParseID(string(key[len(cursorPrefix):]))
		if err != nil {
			return nil
		}
		var sc savedCursor
		if err := decodeMsg(value, &sc); err != nil {
			return nil
		}
		h.mu.Lock()
		h.sched.Restore(now, id, sc.Cursor, sc.Keys, sc.Bytes)
		h.saved[id] = true
		h.mu.Unlock()
		return nil
	})
}

// noteTopology records the partitions this node stopped owning, for the
// drop grace period.
func (h *handoffRunner) noteTopology(now time.Time) {
	rt := h.n.routing.Load()
	if rt == nil {
		return
	}
	owned := map[int]bool{}
	for _, p := range rt.ring.PartitionsOf(h.n.cfg.NodeID) {
		owned[p] = true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for p := range h.owned {
		if !owned[p] {
			h.lostAt[p] = now
			delete(h.downSinceLoss, p)
		}
	}
	for p := range owned {
		delete(h.lostAt, p)
		delete(h.downSinceLoss, p)
	}
	h.owned = owned
}

// ownershipCandidates are the committed moves that start at this node,
// less those completed here already. The caller holds h.mu.
func (h *handoffRunner) ownershipCandidates() []handoff.ID {
	var out []handoff.ID
	pending := map[handoff.ID]bool{}
	for _, t := range h.n.Topology().Pending {
		if t.From != h.n.cfg.NodeID {
			continue
		}
		id := handoff.ID{Kind: handoff.Ownership, Partition: t.Partition, From: t.From, To: t.To}
		pending[id] = true
		if !h.moved[id] {
			out = append(out, id)
		}
	}
	for id := range h.moved {
		if !pending[id] {
			delete(h.moved, id)
		}
	}
	return out
}

// foreignPartition is a partition this node holds data for that its ring
// neither gives it nor moves to it: copies for another node.
type foreignPartition struct {
	id handoff.ID // the hinted transfer that hands them to the owner
	// graceFrom is when this node lost the partition, while it keeps its
	// copy for the drop grace (zero once the grace has passed, or once the
	// owner went down during it).
	graceFrom time.Time
	ownerUp   bool
}

// foreignPartitions lists, in partition order, the partitions this node
// holds copies of for others: the hints the handoff loop offers and the
// copies an operator must not stop the node with.
func (h *handoffRunner) foreignPartitions(now time.Time) []foreignPartition {
	rt := h.n.routing.Load()
	if rt == nil {
		return nil
	}
	h.mu.Lock()
	lost := maps.Clone(h.lostAt)
	h.mu.Unlock()
	var out []foreignPartition
	for p := range rt.ring.Size() {
		owner := rt.ring.Owner(p)
		if rt.ownsOrReceives(p, h.n.cfg.NodeID) {
			continue
		}
		var graceFrom time.Time
		if at, ok := lost[p]; ok && now.Sub(at) < h.cfg.DropGrace && !h.ownerDownSinceLoss(p, owner) {
			graceFrom = at
		}
		if !h.n.holdsAny(p) {
			continue
		}
		out = append(out, foreignPartition{
			id:        handoff.ID{Kind: handoff.Hinted, Partition: p, From: h.n.cfg.NodeID, To: owner},
			graceFrom: graceFrom,
			ownerUp:   h.n.live.Up(owner),
		})
	}
	return out
}

// withoutDropped removes from ids the partitions dropped since the last
// scan began. h.mu is held.
func (h *handoffRunner) withoutDropped(ids []handoff.ID) []handoff.ID {
	if len(h.droppedSinceScan) == 0 {
		return ids
	}
	return slices.DeleteFunc(ids, func(id handoff.ID) bool { return h.droppedSinceScan[id.Partition] })
}

// hintCandidates are the foreign partitions whose drop grace (if this
// node owned them until recently) has passed or whose owner went down
// during it: deliverable when their owner is up, held while it is down.
func (h *handoffRunner) hintCandidates(now time.Time) (deliver, held []handoff.ID) {
	for _, f := range h.foreignPartitions(now) {
		switch {
		case !f.graceFrom.IsZero():
		case f.ownerUp:
			deliver = append(deliver, f.id)
		default:
			held = append(held, f.id)
		}
	}
	return deliver, held
}

// ownerDownSinceLoss reports whether the owner of p, a partition this
// node lost within the drop grace, has been seen down since. The copy kept
// here for requests routed by a lagging ring then takes fallback writes
// for the owner: those are hints, to be listed as held while it is down
// and delivered as soon as it is back, not a grace later.
func (h *handoffRunner) ownerDownSinceLoss(p int, owner string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.n.live.Up(owner) {
		h.downSinceLoss[p] = true
	}
	return h.downSinceLoss[p]
}

// holdsAny reports whether partition p has any key here.
func (n *Node) holdsAny(p int) bool {
	found := false
	_ = n.eng.Iterate(store.Partition(p), nil, func(_, _ []byte) error {
		found = true
		return store.ErrStop
	})
	return found
}

// apply folds a worker's event into the scheduler and persists cursors.
// It reports whether a hinted transfer ended, so that the loop rescans
// the partitions for hints before it offers that transfer again.
func (h *handoffRunner) apply(ev workerEvent) (hintEnded bool) {
	now := h.n.cfg.Clock.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.workers[ev.id] != ev.w {
		return false // a stopped attempt's late word
	}
	hintEnded = ev.finished && ev.id.Kind == handoff.Hinted
	switch {
	case ev.estimate != nil:
		h.sched.Estimate(ev.id, *ev.estimate)
	case ev.progress != nil:
		h.sched.Progress(now, ev.id, ev.progress.keys, ev.progress.bytes, ev.progress.cursor)
		if c, keys, bytes, ok := h.sched.Cursor(ev.id); ok {
			h.saveCursor(ev.id, savedCursor{Cursor: c, Keys: keys, Bytes: bytes})
		}
	case ev.finished:
		delete(h.workers, ev.id)
		if ev.err != nil && !errors.Is(ev.err, context.Canceled) {
			// Canceled: the loop stopped it (paused, cancelled, no longer
			// wanted because the move completed, shutdown); not a failure.
			h.n.metrics.handoffFailures.Add(1)
			h.n.log.Warn("handoff failed; will retry", "transfer", ev.id.String(), "err", ev.err)
		}
		if h.sched.Finished(now, ev.id, ev.err) {
			h.dropCursor(ev.id)
			if ev.id.Kind == handoff.Ownership {
				h.moved[ev.id] = true
				h.n.metrics.transfers.Add(1)
			}
			h.n.log.Info("handoff complete", "transfer", ev.id.String())
		}
		if _, _, _, ok := h.sched.Cursor(ev.id); !ok {
			h.dropCursor(ev.id)
		}
	}
	return hintEnded
}

func (h *handoffRunner) saveCursor(id handoff.ID, sc savedCursor) {
	b, err := msgpack.Marshal(&sc)
	if err == nil {
		err = h.n.eng.Put(localPartition, []byte(cursorPrefix+id.String()), b)
	}
	if err != nil {
		h.n.log.Warn("handoff cursor not saved; a restart resends more", "transfer", id.String(), "err", err)
		return
	}
	h.saved[id] = true
}

// dropCursor forgets a transfer's saved cursor. The caller holds h.mu.
func (h *handoffRunner) dropCursor(id handoff.ID) {
	if err := h.n.eng.Delete(localPartition, []byte(cursorPrefix+id.String())); err == nil {
		delete(h.saved, id)
	}
}

// send hands an event to the loop, or, once the loop has returned,
// records a worker's end directly so that the scheduler does not think it
// still runs. It waits on the loop's end and not on the worker's context:
// a worker the loop stopped (no longer wanted, stalled, paused) has its
// context cancelled, and a select on both would choose at random between
// telling the loop and recording the end behind its back. The loop, not
// woken then, would leave the freed slot idle until its next wake-up (a
// tick, a deadline, a ring change), and when the next transfer starts
// would depend on the scheduler rather than on what happened.
func (h *handoffRunner) send(ev workerEvent) {
	select {
	case <-ev.w.loopDone:
	default:
		select {
		case h.events <- ev:
			return
		case <-ev.w.loopDone:
		}
	}
	if !ev.finished {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.workers[ev.id] == ev.w {
		delete(h.workers, ev.id)
		h.sched.Finished(h.n.cfg.Clock.Now(), ev.id, cmpErr(ev.err, context.Canceled))
	}
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// run streams one transfer after st.Cursor, in durable batches, then
// completes it.
func (h *handoffRunner) run(ctx context.Context, w *worker, st handoff.Start) {
	id := st.ID
	sent, err := h.stream(ctx, w, id, st.Cursor)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err == nil && id.Kind == handoff.Hinted && sent == 0 && h.n.holdsAny(id.Partition) {
		err = errUndeliverable
	}
	if err == nil && id.Kind == handoff.Ownership && h.complete != nil {
		err = h.complete(ctx, Transfer{Partition: id.Partition, From: id.From, To: id.To})
	}
	if err != nil && ctx.Err() != nil {
		// Stopped by the loop: say why (stalled, or canceled for a pause,
		// a cancel, shutdown). A commit that succeeded stays a success
		// even if the new ring, arriving meanwhile, stopped the worker.
		err = context.Cause(ctx)
	}
	h.send(workerEvent{w: w, id: id, finished: true, err: err})
}

type batchEntry struct {
	key []byte
	raw []byte
	obj *object.Object
}

// stream sends partition id.Partition's objects after cursor to id.To and
// says how many it sent.
func (h *handoffRunner) stream(ctx context.Context, w *worker, id handoff.ID, cursor []byte) (sent int, err error) {
	p := id.Partition
	var left uint64
	_ = h.n.eng.IterateFrom(store.Partition(p), after(cursor), func(_, _ []byte) error {
		left++
		return ctx.Err()
	})
	h.send(workerEvent{w: w, id: id, estimate: &left})
	err = h.deliver(ctx, p, id.To, cursor, id.Kind == handoff.Hinted, func(keys, bytes int, cursor []byte) {
		sent += keys
		h.send(workerEvent{w: w, id: id, progress: &batchProgress{keys: uint64(keys), bytes: uint64(bytes), cursor: cursor}})
	})
	return sent, err
}

// deliver streams partition p's objects after cursor to node to, in
// batches the receiver merges and makes durable before it answers, at
// the node's handoff rate. With hinted, each object delivered is deleted
// here if it did not change meanwhile (what changed stays for the next
// pass). onBatch hears of each acknowledged batch and the new cursor.
func (h *handoffRunner) deliver(ctx context.Context, p int, to string, cursor []byte, hinted bool, onBatch func(keys, bytes int, cursor []byte)) error {
	for {
		batch, corrupt, err := h.nextBatch(ctx, p, cursor)
		if err != nil {
			return err
		}
		if hinted && len(corrupt) > 0 {
			if err := h.dropCorrupt(p, corrupt); err != nil {
				return err
			}
		}
		if len(batch) == 0 {
			return nil
		}
		size := 0
		for _, e := range batch {
			size += len(e.key) + len(e.raw)
		}
		if err := h.throttle(ctx, size); err != nil {
			return err
		}
		if err := h.n.sendBatch(ctx, ring.VNode{Partition: p, Node: to}, batch, hinted); err != nil {
			return err
		}
		cursor = batch[len(batch)-1].key
		if hinted {
			if h.n.routing.Load().ownsOrReceives(p, h.n.cfg.NodeID) {
				// The ring changed while the batch was on its way: the
				// partition is this node's now, or coming to it, and what
				// it holds there is its own copy, no longer hints to
				// delete. The loop stops this transfer at its next look;
				// stop now.
				return fmt.Errorf("%w: partition %d became this node's during the handoff; its copies stay", context.Canceled, p)
			}
			// The copies deleted here held this node's latest dots of
			// their keys: its actors' epochs so far are not to be used
			// again (see epoch.go).
			h.n.epochs.untrust()
			for _, e := range batch {
				if _, err := h.n.local.dropIfUnchanged(p, e.key, e.obj); err != nil {
					return err
				}
			}
			h.n.metrics.hintsHandedOff.Add(uint64(len(batch)))
		}
		h.n.metrics.handoffObjects.Add(uint64(len(batch)))
		h.n.metrics.handoffBytes.Add(uint64(size))
		onBatch(len(batch), size, cursor)
	}
}

// nextBatch reads the next batch of objects after cursor, and the stored
// values on the way that fail verification, which it leaves out.
func (h *handoffRunner) nextBatch(ctx context.Context, p int, cursor []byte) (batch []batchEntry, corrupt []batchEntry, err error) {
	size := 0
	err = h.n.eng.IterateFrom(store.Partition(p), after(cursor), func(key, value []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		obj, err := object.Decode(value)
		if err != nil {
			// Never hand on a value that fails verification: the
			// replicas hold the key, and repair restores it where it
			// is owned.
			h.n.metrics.corruptReads.Add(1)
			h.n.log.Error("corrupt object left out of a handoff", "partition", p, "err", err)
			corrupt = append(corrupt, batchEntry{key: slices.Clone(key), raw: slices.Clone(value)})
			return nil
		}
		batch = append(batch, batchEntry{key: slices.Clone(key), raw: slices.Clone(value), obj: obj})
		size += len(key) + len(value)
		if len(batch) >= h.cfg.BatchKeys || size >= h.cfg.BatchBytes {
			return store.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrStop) {
		return nil, nil, err
	}
	return batch, corrupt, nil
}

// dropCorrupt deletes, from partition p that this node holds as hints,
// the values that fail verification, each only if it is still the same
// bytes. Nothing can repair them here (repair mends owners), no request
// reads them, and they cannot be handed on: kept, they would hold the
// partition here for ever. What they held survives where the write's
// other replicas are, or not at all: these bytes could not give it back.
func (h *handoffRunner) dropCorrupt(p int, corrupt []batchEntry) error {
	// The copies dropped may have held this node's latest dots of their
	// keys: its actors' epochs so far are not to be used again.
	h.n.epochs.untrust()
	for _, e := range corrupt {
		dropped, err := h.n.local.dropCorrupt(p, e.key, e.raw)
		if err != nil {
			return err
		}
		if dropped {
			loc, _ := ParseLocation(e.key)
			h.n.log.Error("corrupt hinted object dropped", "partition", p, "key", loc.String())
			h.n.metrics.corruptHintsDropped.Add(1)
		}
	}
	return nil
}

// after is the least key greater than cursor (nil: from the first key).
func after(cursor []byte) []byte {
	if cursor == nil {
		return nil
	}
	return append(slices.Clone(cursor), 0)
}

// throttle waits until the node's handoff rate allows size more bytes.
func (h *handoffRunner) throttle(ctx context.Context, size int) error {
	if err := pace(ctx, h.n.cfg.Clock, h.limiter, size); err != nil {
		return fmt.Errorf("node: handoff: %w", err)
	}
	return nil
}

// LocalTransfers returns the transfers this node sends: those scheduled,
// and one for every other foreign partition (foreignPartitions), so that
// a node listing nothing holds no data but that of the partitions its ring
// gives it, and may be stopped once it owns none. A partition within its
// drop grace is listed as in grace until the grace ends; one found since
// the last scan for hints as the scan would list it, waiting or held.
func (n *Node) LocalTransfers() []handoff.Status {
	h := n.handoff
	h.mu.Lock()
	list := h.sched.List()
	h.mu.Unlock()
	listed := map[int]bool{}
	for _, s := range list {
		if s.Kind == handoff.Hinted {
			listed[s.Partition] = true
		}
	}
	now := n.cfg.Clock.Now()
	unlisted := false
	for _, f := range h.foreignPartitions(now) {
		if listed[f.id.Partition] {
			continue
		}
		s := handoff.Status{ID: f.id, State: handoff.Waiting, Since: now}
		switch {
		case !f.graceFrom.IsZero():
			s.State, s.Since, s.RetryAt = handoff.Grace, f.graceFrom, f.graceFrom.Add(h.cfg.DropGrace)
		case !f.ownerUp:
			s.State = handoff.Held
		}
		list = append(list, s)
		unlisted = true
	}
	if unlisted {
		slices.SortFunc(list, func(a, b handoff.Status) int { return handoff.CompareID(a.ID, b.ID) })
	}
	return list
}

// unscheduledHint reports whether id names copies LocalTransfers lists
// for a partition this node holds without its ring giving it: sent by
// this node, to the partition's owner, with data here.
func (n *Node) unscheduledHint(id handoff.ID) bool {
	rt := n.routing.Load()
	return rt != nil && id.Kind == handoff.Hinted && id.From == n.cfg.NodeID && id.Partition < rt.ring.Size() &&
		!rt.ownsOrReceives(id.Partition, n.cfg.NodeID) && rt.ring.Owner(id.Partition) == id.To && n.holdsAny(id.Partition)
}

// controlLocal applies an operator's action to a transfer this node sends.
// Dropping a hinted transfer deletes the partition's objects held here for
// its owner, once its worker has stopped.
func (n *Node) controlLocal(id handoff.ID, a handoff.Action) error {
	h := n.handoff
	h.mu.Lock()
	defer h.mu.Unlock()
	if a == handoff.Drop {
		if rt := n.routing.Load(); rt == nil || rt.ownsOrReceives(id.Partition, n.cfg.NodeID) {
			return fmt.Errorf("%w: partition %d is this node's own (or moving to it); only hints can be dropped", handoff.ErrBadAction, id.Partition)
		}
	}
	stop, err := h.sched.Control(n.cfg.Clock.Now(), id, a)
	if errors.Is(err, handoff.ErrNoTransfer) && n.unscheduledHint(id) {
		// Listed (LocalTransfers) before the loop scheduled it: in its
		// drop grace, or found since the last scan. No worker runs it and
		// there is no progress to keep, so only a drop means anything.
		if a != handoff.Drop {
			return fmt.Errorf("%w: %s is not scheduled yet (in its drop grace, or found since the last scan for hints); only drop acts on it now",
				handoff.ErrBadAction, id)
		}
		err = nil
	}
	if err != nil {
		return err
	}
	if stop {
		if w, ok := h.workers[id]; ok {
			w.stop(context.Canceled)
		}
	}
	if a == handoff.Cancel || a == handoff.Drop {
		h.dropCursor(id)
	}
	if a == handoff.Drop {
		// The worker (if any) was told to stop; dropping under it is
		// safe, as it only ever deletes what it delivered.
		n.epochs.untrust() // the dropped copies held this node's dots (epoch.go)
		if err := n.local.dropPartition(id.Partition); err != nil {
			return fmt.Errorf("node: drop hints of partition %d: %w", id.Partition, err)
		}
		h.droppedSinceScan[id.Partition] = true
		n.log.Warn("hints dropped by an operator", "transfer", id.String())
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return nil
}
