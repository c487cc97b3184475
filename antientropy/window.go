package antientropy

import (
	"fmt"
	"strings"
	"time"
)

const day = 24 * time.Hour

// Window is a daily UTC time range in which exchanges may start, so that
// an operator can keep repair traffic out of peak hours. Start and End are
// offsets from 00:00 UTC with minute precision; End before Start wraps
// midnight. The zero Window (Start == End == 0) is "always".
type Window struct {
	Start, End time.Duration
}

// ParseWindow parses "" or "always" (the zero Window) or "HH:MM-HH:MM"
// (24-hour, UTC; "22:00-04:00" wraps midnight). An empty range such as
// "05:00-05:00" is an error. Errors wrap ErrBadWindow.
func ParseWindow(s string) (Window, error) {
	if s == "" || s == "always" {
		return Window{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("%w %q: want \"always\" or HH:MM-HH:MM", ErrBadWindow, s)
	}
	start, err := parseClock(from)
	if err != nil {
		return Window{}, fmt.Errorf("%w %q: start: %v", ErrBadWindow, s, err)
	}
	end, err := parseClock(to)
	if err != nil {
		return Window{}, fmt.Errorf("%w %q: end: %v", ErrBadWindow, s, err)
	}
	if start == end {
		return Window{}, fmt.Errorf("%w %q: start equals end (use \"always\")", ErrBadWindow, s)
	}
	return Window{Start: start, End: end}, nil
}

// parseClock parses exactly "HH:MM", 00:00 to 23:59.
func parseClock(s string) (time.Duration, error) {
	digit := func(i int) int { return int(s[i] - '0') }
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not HH:MM", s)
		}
	}
	h, m := digit(0)*10+digit(1), digit(3)*10+digit(4)
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("%q is out of range 00:00-23:59", s)
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, nil
}

// validate checks a Window built as a literal rather than parsed.
func (w Window) validate() error {
	for _, d := range []time.Duration{w.Start, w.End} {
		if d < 0 || d >= day || d%time.Minute != 0 {
			return fmt.Errorf("%w: offset %v is not a whole minute in [0, 24h)", ErrBadWindow, d)
		}
	}
	if w.Start == w.End && w.Start != 0 {
		return fmt.Errorf("%w: start equals end %v", ErrBadWindow, w.Start)
	}
	return nil
}

// Always reports whether w places no restriction (Start == End, which
// only the zero Window has once validated).
func (w Window) Always() bool { return w.Start == w.End }

// Contains reports whether t (taken in UTC) is inside w: start inclusive,
// end exclusive.
func (w Window) Contains(t time.Time) bool {
	if w.Always() {
		return true
	}
	off := sinceMidnight(t)
	if w.Start < w.End {
		return w.Start <= off && off < w.End
	}
	return off >= w.Start || off < w.End
}

// Next returns t if w contains t, else the first window start after t
// (in UTC).
func (w Window) Next(t time.Time) time.Time {
	if w.Contains(t) {
		return t
	}
	u := t.UTC()
	next := u.Add(w.Start - sinceMidnight(u))
	if !next.After(u) {
		next = next.Add(day)
	}
	return next
}

func sinceMidnight(t time.Time) time.Duration {
	t = t.UTC()
	y, m, d := t.Date()
	return t.Sub(time.Date(y, m, d, 0, 0, 0, 0, time.UTC))
}

// String returns "always" or "HH:MM-HH:MM"; ParseWindow reads it back.
func (w Window) String() string {
	if w.Always() {
		return "always"
	}
	return clockString(w.Start) + "-" + clockString(w.End)
}

func clockString(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// MarshalText implements encoding.TextMarshaler (config files, JSON).
func (w Window) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseWindow.
func (w *Window) UnmarshalText(b []byte) error {
	p, err := ParseWindow(string(b))
	if err != nil {
		return err
	}
	*w = p
	return nil
}
