package sim

import (
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// skewClock is one node's wall clock: the bubble's time plus an offset
// the simulator moves to make the node's clock jump, forwards or back.
// Timers and tickers measure elapsed time, as a monotonic clock does, so a
// jump moves what the node reads from Now but not when its timers fire.
type skewClock struct {
	clock.Real
	offset atomic.Int64 // nanoseconds
}

var _ clock.Clock = (*skewClock)(nil)

func (c *skewClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *skewClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// jump moves the clock by d.
func (c *skewClock) jump(d time.Duration) { c.offset.Add(int64(d)) }
