package main

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	kv "github.com/cairnkv/cairn/client"
)

// errKind is what went wrong with an operation, for the error counts.
type errKind int

const (
	errNotFound errKind = iota
	errQuorum
	errConflict
	errUnavailable
	errTimeout
	errOther
	numErrKinds
)

var errKindNames = [numErrKinds]string{"not found", "quorum", "conflict", "unavailable", "timeout", "other"}

// classify sorts a failed operation's error. A call that ran out of time
// is a timeout whatever its last attempt said.
func classify(err error) errKind {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errTimeout
	case errors.Is(err, kv.ErrNotFound):
		return errNotFound
	case errors.Is(err, kv.ErrQuorum):
		return errQuorum
	case errors.Is(err, kv.ErrConflict):
		return errConflict
	case errors.Is(err, kv.ErrUnavailable):
		return errUnavailable
	}
	return errOther
}

// Latencies are recorded in microseconds, from 1µs to an hour (longer
// ones as an hour), to three significant digits.
const (
	histMin    = 1
	histMax    = int64(time.Hour / time.Microsecond)
	histDigits = 3
)

func newLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMin, histMax, histDigits)
}

// opStats are the figures of one kind of operation in one phase. The
// clients record into them concurrently; the progress line reads them
// meanwhile.
type opStats struct {
	mu       sync.Mutex
	latency  *hdrhistogram.Histogram // successful operations, µs
	errors   [numErrKinds]int64
	firstErr error
}

func newOpStats() *opStats { return &opStats{latency: newLatencyHistogram()} }

// record counts one operation that took d and ended with err.
func (s *opStats) record(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errors[classify(err)]++
		if s.firstErr == nil {
			s.firstErr = err
		}
		return
	}
	us := min(max(d.Microseconds(), histMin), histMax)
	_ = s.latency.RecordValue(us) // within the range: cannot fail
}

// opSnapshot is a copy of an opStats.
type opSnapshot struct {
	latency  *hdrhistogram.Histogram
	errors   [numErrKinds]int64
	firstErr error
}

func (s *opStats) snapshot() opSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := newLatencyHistogram()
	h.Merge(s.latency)
	return opSnapshot{latency: h, errors: s.errors, firstErr: s.firstErr}
}

func (s opSnapshot) errorCount() int64 {
	var n int64
	for _, e := range s.errors {
		n += e
	}
	return n
}

// merge adds o to s (s's histogram is its own).
func (s *opSnapshot) merge(o opSnapshot) {
	s.latency.Merge(o.latency)
	for i, e := range o.errors {
		s.errors[i] += e
	}
	if s.firstErr == nil {
		s.firstErr = o.firstErr
	}
}

// phaseStats are a phase's figures, one opStats per kind of operation it
// does.
type phaseStats struct {
	kinds []opKind
	ops   [numOpKinds]*opStats
}

func newPhaseStats(kinds []opKind) *phaseStats {
	p := &phaseStats{kinds: kinds}
	for _, k := range kinds {
		p.ops[k] = newOpStats()
	}
	return p
}

// total merges every kind of operation.
func (p *phaseStats) total() opSnapshot {
	t := opSnapshot{latency: newLatencyHistogram()}
	for _, k := range p.kinds {
		t.merge(p.ops[k].snapshot())
	}
	return t
}
