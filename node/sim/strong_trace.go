package sim

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// eventTrace keeps the last events of a strong run (the driver's fault
// actions and what the members log at Info and above) for a failure
// report. Records are kept as they come and formatted only for a report.
type eventTrace struct {
	start time.Time
	keep  int

	mu   sync.Mutex
	ring []traceEvent
	next int
	n    int
}

type traceEvent struct {
	at    time.Duration
	rec   slog.Record
	attrs []slog.Attr // the logger's own, from With
}

func newEventTrace(start time.Time, keep int) *eventTrace {
	return &eventTrace{start: start, keep: keep}
}

func (t *eventTrace) add(rec slog.Record, attrs []slog.Attr) {
	if t.keep <= 0 {
		return
	}
	e := traceEvent{at: time.Since(t.start), rec: rec.Clone(), attrs: attrs}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	if len(t.ring) < t.keep {
		t.ring = append(t.ring, e)
		return
	}
	t.ring[t.next] = e
	t.next = (t.next + 1) % t.keep
}

// logf records a line of the driver's.
func (t *eventTrace) logf(format string, args ...any) {
	t.add(slog.NewRecord(time.Now(), slog.LevelInfo, fmt.Sprintf(format, args...), 0), nil)
}

// lines formats the kept events, oldest first.
func (t *eventTrace) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]string, 0, len(t.ring))
	for i := range t.ring {
		e := t.ring[(t.next+i)%len(t.ring)]
		var b strings.Builder
		fmt.Fprintf(&b, "%9.3fs %s", e.at.Seconds(), e.rec.Message)
		for _, a := range e.attrs {
			fmt.Fprintf(&b, " %s", a)
		}
		e.rec.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s", a)
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// traceHandler is a slog.Handler that feeds an eventTrace.
type traceHandler struct {
	t     *eventTrace
	attrs []slog.Attr
}

var _ slog.Handler = traceHandler{}

func (h traceHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h traceHandler) Handle(_ context.Context, r slog.Record) error {
	h.t.add(r, h.attrs)
	return nil
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{t: h.t, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

// WithGroup keeps the attributes flat: a trace line is read by eye.
func (h traceHandler) WithGroup(string) slog.Handler { return h }

// timestamp is the virtual time since start, as a log line begins.
func timestamp(start time.Time) string {
	return fmt.Sprintf("%9.3fs ", time.Since(start).Seconds())
}
