package node

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cairnkv/cairn/clock"
	"golang.org/x/time/rate"
)

// pace keeps to the clock it is given: 3 KiB at 1 KiB/s with a 1 KiB
// burst takes the burst at once and then two seconds of that clock, and a
// cancelled wait returns at once with the context's error. The bubble only
// tells when the goroutine is blocked; its own time is not the clock used.
func TestPaceKeepsToTheInjectedClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := clock.NewFake(time.Unix(1_000, 0))
		lim := rate.NewLimiter(1024, 1024)
		done := make(chan error, 1)
		go func() { done <- pace(context.Background(), clk, lim, 3*1024) }()
		for i := range 2 {
			synctest.Wait()
			select {
			case err := <-done:
				t.Fatalf("pace returned after %d seconds of its clock, want 2 (err %v)", i, err)
			default:
			}
			if clk.Pending() != 1 {
				t.Fatalf("pace waits on %d timers of its clock, want 1", clk.Pending())
			}
			clk.Advance(time.Second)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithCancel(context.Background())
		go func() { done <- pace(ctx, clk, lim, 2*1024) }()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled pace: %v", err)
		}
		if err := pace(context.Background(), clk, nil, 1<<30); err != nil {
			t.Fatalf("unlimited pace: %v", err)
		}
	})
}
