package handoff

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Scheduler tracks a node's outgoing transfers and decides which run. It
// is not safe for concurrent use: the node's handoff loop owns it.
type Scheduler struct {
	cfg       Config
	transfers map[ID]*entry
	completed uint64
}

type entry struct {
	st      Status
	cursor  []byte
	wanted  bool
	failsIn int // consecutive failures
	// attempt: where the current attempt started, for its rate.
	attemptStart time.Time
	attemptBytes uint64
}

// NewScheduler returns an empty scheduler. It panics on an invalid config,
// a programming error.
func NewScheduler(cfg Config) *Scheduler {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Scheduler{cfg: cfg, transfers: map[ID]*entry{}}
}

// Restore gives a transfer the progress a previous run of the node saved,
// so that it resumes after cursor. It creates the transfer as waiting if
// it does not exist; Offer then decides whether it is still wanted.
func (s *Scheduler) Restore(now time.Time, id ID, cursor []byte, keys, bytes uint64) {
	e := s.ensure(now, id)
	e.cursor = slices.Clone(cursor)
	e.st.Keys, e.st.Bytes = keys, bytes
}

func (s *Scheduler) ensure(now time.Time, id ID) *entry {
	e, ok := s.transfers[id]
	if !ok {
		e = &entry{st: Status{ID: id, State: Waiting, Since: now}}
		s.transfers[id] = e
	}
	return e
}

// Offer states which transfers should exist now. New ones start waiting;
// ones no longer wanted are forgotten, except running ones, which the
// caller learns about from Unwanted and stops.
func (s *Scheduler) Offer(now time.Time, wanted []ID) {
	for _, e := range s.transfers {
		e.wanted = false
	}
	for _, id := range wanted {
		s.ensure(now, id).wanted = true
	}
	for id, e := range s.transfers {
		if !e.wanted && e.st.State != Running {
			delete(s.transfers, id)
		}
	}
}

// Hold marks which of the offered transfers cannot start now because
// their receiver is down (hints for a down primary): they are listed as
// held, so that an operator sees them (and may drop them), and start
// once a later Hold no longer names them.
func (s *Scheduler) Hold(now time.Time, held []ID) {
	set := map[ID]bool{}
	for _, id := range held {
		set[id] = true
	}
	for id, e := range s.transfers {
		switch {
		case set[id] && e.st.State == Waiting:
			e.st.State, e.st.Since = Held, now
		case !set[id] && e.st.State == Held:
			e.st.State, e.st.Since = Waiting, now
		}
	}
}

// Unwanted returns the running transfers the last Offer no longer wants:
// the caller should stop them (they then report Finished).
func (s *Scheduler) Unwanted() []ID {
	var out []ID
	for id, e := range s.transfers {
		if !e.wanted && e.st.State == Running {
			out = append(out, id)
		}
	}
	sortIDs(out)
	return out
}

// Next marks as running, and returns with their cursors, the transfers to
// start now: waiting ones, and retrying ones whose backoff has passed, in
// ID order, up to the concurrency limit.
func (s *Scheduler) Next(now time.Time) []Start {
	running := 0
	var ready []ID
	for id, e := range s.transfers {
		switch {
		case e.st.State == Running:
			running++
		case !e.wanted:
		case e.st.State == Waiting, e.st.State == Retrying && !now.Before(e.st.RetryAt):
			ready = append(ready, id)
		}
	}
	sortIDs(ready)
	var out []Start
	for _, id := range ready {
		if running >= s.cfg.MaxConcurrent {
			break
		}
		e := s.transfers[id]
		e.st.State, e.st.Since, e.st.RetryAt = Running, now, time.Time{}
		e.st.Attempts++
		e.attemptStart, e.attemptBytes = now, 0
		e.st.Rate, e.st.ETA, e.st.TotalKeys = 0, 0, 0
		out = append(out, Start{ID: id, Cursor: slices.Clone(e.cursor)})
		running++
	}
	return out
}

// Start is a transfer to begin: stream keys after Cursor (all keys when
// it is empty).
type Start struct {
	ID     ID
	Cursor []byte
}

// Estimate records the sender's count of the keys left to send, for the
// ETA.
func (s *Scheduler) Estimate(id ID, totalKeys uint64) {
	if e, ok := s.transfers[id]; ok {
		e.st.TotalKeys = e.st.Keys + totalKeys
	}
}

// Progress records a batch the receiver acknowledged durably: keys and
// bytes more, and the last key sent, which becomes the cursor.
func (s *Scheduler) Progress(now time.Time, id ID, keys, bytes uint64, cursor []byte) {
	e, ok := s.transfers[id]
	if !ok || e.st.State != Running {
		return
	}
	e.st.Keys += keys
	e.st.Bytes += bytes
	e.attemptBytes += bytes
	e.cursor = slices.Clone(cursor)
	e.st.Updated = now
	e.failsIn = 0
	if d := now.Sub(e.attemptStart).Seconds(); d > 0 {
		e.st.Rate = float64(e.attemptBytes) / d
	}
	if e.st.TotalKeys > e.st.Keys && e.st.Keys > 0 && e.st.Rate > 0 {
		perKey := float64(e.st.Bytes) / float64(e.st.Keys)
		e.st.ETA = time.Duration(float64(e.st.TotalKeys-e.st.Keys) * perKey / e.st.Rate * float64(time.Second))
	}
}

// Cursor returns a transfer's cursor, for the caller to persist.
func (s *Scheduler) Cursor(id ID) ([]byte, uint64, uint64, bool) {
	e, ok := s.transfers[id]
	if !ok {
		return nil, 0, 0, false
	}
	return slices.Clone(e.cursor), e.st.Keys, e.st.Bytes, true
}

// Finished records the end of a running transfer's attempt. With a nil
// err the transfer is complete and forgotten (done reports true). With an
// error it is retried after a backoff, unless an operator paused or
// cancelled it meanwhile, or it is no longer wanted.
func (s *Scheduler) Finished(now time.Time, id ID, err error) (done bool) {
	e, ok := s.transfers[id]
	if !ok {
		return false
	}
	if err == nil {
		delete(s.transfers, id)
		s.completed++
		return true
	}
	if !e.wanted {
		delete(s.transfers, id)
		return false
	}
	if e.st.State != Running {
		// Paused or cancelled while it ran: its worker was stopped.
		return false
	}
	e.failsIn++
	backoff := s.cfg.MinBackoff << min(e.failsIn-1, 20)
	backoff = min(backoff, s.cfg.MaxBackoff)
	e.st.State, e.st.Since, e.st.RetryAt = Retrying, now, now.Add(backoff)
	e.st.LastError = err.Error()
	return false
}

// Stalled returns the running transfers that have made no progress for
// the stall timeout: the caller stops them and reports Finished with an
// error, which schedules a retry.
func (s *Scheduler) Stalled(now time.Time) []ID {
	var out []ID
	for id, e := range s.transfers {
		last := e.st.Since
		if e.st.Updated.After(last) {
			last = e.st.Updated
		}
		if e.st.State == Running && now.Sub(last) >= s.cfg.StallTimeout {
			out = append(out, id)
		}
	}
	sortIDs(out)
	return out
}

// Control applies an operator's action. Pausing, cancelling or dropping
// a running transfer returns stop = true: the caller stops its worker.
// Resume puts a paused or cancelled transfer back in the queue at once.
// Drop forgets a hinted transfer; the caller deletes its objects.
func (s *Scheduler) Control(now time.Time, id ID, a Action) (stop bool, err error) {
	e, ok := s.transfers[id]
	if !ok {
		return false, fmt.Errorf("%w: %s", ErrNoTransfer, id)
	}
	running := e.st.State == Running
	switch a {
	case Pause:
		if e.st.State != Cancelled {
			e.st.State, e.st.Since = Paused, now
		}
	case Cancel:
		e.st.State, e.st.Since = Cancelled, now
		e.cursor, e.st.Keys, e.st.Bytes, e.st.TotalKeys, e.st.ETA = nil, 0, 0, 0, 0
	case Drop:
		if id.Kind != Hinted {
			return false, fmt.Errorf("%w: only hinted transfers can be dropped, %s is an ownership transfer", ErrBadAction, id)
		}
		delete(s.transfers, id)
	case Resume:
		if e.st.State == Paused || e.st.State == Cancelled || e.st.State == Retrying {
			e.st.State, e.st.Since, e.st.RetryAt = Waiting, now, time.Time{}
		}
		return false, nil
	default:
		return false, fmt.Errorf("%w: %q", ErrBadAction, a)
	}
	return running, nil
}

// List returns every transfer's status, sorted by ID string.
func (s *Scheduler) List() []Status {
	out := make([]Status, 0, len(s.transfers))
	for _, e := range s.transfers {
		out = append(out, e.st)
	}
	slices.SortFunc(out, func(a, b Status) int { return CompareID(a.ID, b.ID) })
	return out
}

// Completed counts transfers that finished since the scheduler was made.
func (s *Scheduler) Completed() uint64 { return s.completed }

// Running reports whether id is running.
func (s *Scheduler) Running(id ID) bool {
	e, ok := s.transfers[id]
	return ok && e.st.State == Running
}

// CompareID orders ids by kind, partition, sender and receiver: the
// order List returns.
func CompareID(a, b ID) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Partition, b.Partition),
		cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
}

func sortIDs(ids []ID) { slices.SortFunc(ids, CompareID) }

// Deadline returns when the scheduler next needs a look even if nothing
// happens: the earliest retry of a retrying transfer or stall deadline of
// a running one. ok is false when there is none. While MaxConcurrent
// transfers run, retries are left out: none can start before a running
// transfer finishes, and that finish is an event of its own. (A retry
// time already past would otherwise be a deadline that is always due,
// and the caller's loop would spin until a slot frees.)
func (s *Scheduler) Deadline() (at time.Time, ok bool) {
	running := 0
	for _, e := range s.transfers {
		if e.st.State == Running {
			running++
		}
	}
	full := running >= s.cfg.MaxConcurrent
	for _, e := range s.transfers {
		var t time.Time
		switch {
		case e.st.State == Retrying && e.wanted && !full:
			t = e.st.RetryAt
		case e.st.State == Running:
			t = e.st.Since
			if e.st.Updated.After(t) {
				t = e.st.Updated
			}
			t = t.Add(s.cfg.StallTimeout)
		default:
			continue
		}
		if !ok || t.Before(at) {
			at, ok = t, true
		}
	}
	return at, ok
}
