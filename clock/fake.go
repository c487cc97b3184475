package clock

import (
	"sort"
	"sync"
	"time"
)

// Fake is a manually driven Clock for tests. Time stands still until Advance
// or Set moves it; timers and tickers that fall due are fired in deadline
// order (ties in creation order). Channels are buffered with capacity one and
// a tick that finds the buffer full is dropped, as with time.Ticker.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*fakeTimer
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

type fakeTimer struct {
	c      *Fake
	ch     chan time.Time
	when   time.Time
	period time.Duration // zero for a one-shot timer
	seq    uint64
	active bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	t.c.remove(t)
	return was
}

type fakeTicker struct{ *fakeTimer }

func (t fakeTicker) Stop() { t.fakeTimer.Stop() }

// Now returns the fake time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the fake time elapsed since t.
func (c *Fake) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// NewTimer returns a timer that fires when the fake time reaches Now()+d.
func (c *Fake) NewTimer(d time.Duration) Timer { return c.add(d, 0) }

// NewTicker returns a ticker firing every d of fake time.
func (c *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive ticker period")
	}
	return fakeTicker{c.add(d, d)}
}

// Pending reports how many timers and tickers are waiting to fire; tests use
// it to wait until a goroutine has armed its timer before advancing.
func (c *Fake) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Advance moves the clock forward by d, firing every timer that falls due.
func (c *Fake) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards for timers: a Set into the past
// changes Now but fires nothing).
func (c *Fake) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		sort.Slice(c.timers, func(i, j int) bool {
			a, b := c.timers[i], c.timers[j]
			if !a.when.Equal(b.when) {
				return a.when.Before(b.when)
			}
			return a.seq < b.seq
		})
		if len(c.timers) == 0 || c.timers[0].when.After(t) {
			break
		}
		next := c.timers[0]
		if next.when.After(c.now) {
			c.now = next.when
		}
		select {
		case next.ch <- c.now:
		default:
		}
		if next.period > 0 {
			next.when = next.when.Add(next.period)
		} else {
			next.active = false
			c.timers = c.timers[1:]
		}
	}
	c.now = t
}

func (c *Fake) add(d time.Duration, period time.Duration) *fakeTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1), when: c.now.Add(d), period: period, seq: c.seq, active: true}
	if d <= 0 {
		t.ch <- c.now
		if period == 0 {
			t.active = false
			return t
		}
		t.when = c.now.Add(period)
	}
	c.timers = append(c.timers, t)
	return t
}

func (c *Fake) remove(t *fakeTimer) {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return
		}
	}
}
