package lincheck

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// Infinity is the return time of an operation whose outcome is unknown:
// later than any other event, as it may take effect at any time after its
// call.
const Infinity int64 = 1 << 62

// History records operations against one clock. It is safe for
// concurrent use.
type History struct {
	now   func() time.Time
	start time.Time

	mu  sync.Mutex
	ops []porcupine.Operation
}

// NewHistory returns an empty history timed by now (time.Now, which is
// virtual inside a synctest bubble).
func NewHistory(now func() time.Time) *History {
	return &History{now: now, start: now()}
}

// Now is the current time on the history's clock, for an operation's call.
func (h *History) Now() int64 { return int64(h.now().Sub(h.start)) }

// Add records an operation called at call that returns now; a write whose
// outcome is unknown returns at Infinity.
func (h *History) Add(client int, in Input, out Output, call int64) {
	ret := h.Now()
	if out.Unknown {
		ret = Infinity
	}
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
}

// Operations returns a copy of the operations recorded so far, in the order
// they returned.
func (h *History) Operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ops)
}

// Check runs porcupine on ops for at most timeout. The result is
// porcupine.Unknown when the search ran out of time. When the history is
// not linearizable and CAIRN_PORCUPINE_HTML names a file, the
// visualisation is written there.
func Check(ops []porcupine.Operation, timeout time.Duration) (porcupine.CheckResult, porcupine.LinearizationInfo) {
	res, info := porcupine.CheckOperationsVerbose(Model(), ops, timeout)
	if res == porcupine.Illegal {
		if path := os.Getenv("CAIRN_PORCUPINE_HTML"); path != "" {
			_ = porcupine.VisualizePath(Model(), info, path)
		}
	}
	return res, info
}

// Summary counts a history's operations by outcome.
type Summary struct {
	Reads                          int
	Acked, Refused, Unknown, Total int // writes (create, cas, delete)
}

// Summarize counts ops.
func Summarize(ops []porcupine.Operation) Summary {
	var s Summary
	for _, op := range ops {
		in, out := op.Input.(Input), op.Output.(Output)
		switch {
		case in.Kind == Read:
			s.Reads++
		case out.Unknown:
			s.Unknown++
		case out.OK:
			s.Acked++
		default:
			s.Refused++
		}
	}
	s.Total = len(ops)
	return s
}

func (s Summary) String() string {
	return fmt.Sprintf("%d ops: %d reads, %d writes applied, %d refused, %d unknown", s.Total, s.Reads, s.Acked, s.Refused, s.Unknown)
}

// Tail describes the last n operations of ops by call time, one a line,
// for a failure report.
func Tail(ops []porcupine.Operation, n int) []string {
	ops = slices.Clone(ops)
	slices.SortStableFunc(ops, func(a, b porcupine.Operation) int {
		switch {
		case a.Call < b.Call:
			return -1
		case a.Call > b.Call:
			return 1
		}
		return 0
	})
	ops = ops[max(0, len(ops)-n):]
	lines := make([]string, 0, len(ops))
	for _, op := range ops {
		ret := "?"
		if op.Return != Infinity {
			ret = fmt.Sprintf("%.3fs", time.Duration(op.Return).Seconds())
		}
		lines = append(lines, fmt.Sprintf("%9.3fs..%-9s c%-2d %s", time.Duration(op.Call).Seconds(), ret, op.ClientId,
			strings.TrimSpace(Describe(op.Input.(Input), op.Output.(Output)))))
	}
	return lines
}
