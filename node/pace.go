package node

import (
	"context"
	"fmt"

	"github.com/cairnkv/cairn/clock"
	"golang.org/x/time/rate"
)

// pace waits until lim allows n more units (bytes), in steps of at most
// the limiter's burst, on clk rather than on the system clock that
// rate.Limiter.WaitN would use: so a node's background transfers keep to
// its injected clock, and a test or the simulation that moves that clock
// moves them. A nil lim allows everything at once.
func pace(ctx context.Context, clk clock.Clock, lim *rate.Limiter, n int) error {
	for lim != nil && n > 0 {
		step := min(n, lim.Burst())
		n -= step
		now := clk.Now()
		r := lim.ReserveN(now, step)
		if !r.OK() {
			return fmt.Errorf("node: pace: %d units exceed what the limiter can ever allow", step)
		}
		d := r.DelayFrom(now)
		if d <= 0 {
			continue
		}
		t := clk.NewTimer(d)
		select {
		case <-t.C():
		case <-ctx.Done():
			t.Stop()
			r.CancelAt(clk.Now())
			return ctx.Err()
		}
	}
	return ctx.Err()
}
