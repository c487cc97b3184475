package clock

import (
	"testing"
	"time"
)

func TestFakeFiresInOrder(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	late := c.NewTimer(2 * time.Second)
	early := c.NewTimer(time.Second)
	stopped := c.NewTimer(time.Second)
	if !stopped.Stop() {
		t.Fatal("stop of an armed timer reported inactive")
	}
	c.Advance(999 * time.Millisecond)
	select {
	case <-early.C():
		t.Fatal("timer fired early")
	default:
	}
	c.Advance(time.Millisecond)
	if got := <-early.C(); !got.Equal(time.Unix(1, 0)) {
		t.Fatalf("early fired at %v", got)
	}
	select {
	case <-late.C():
		t.Fatal("late timer fired at 1s")
	case <-stopped.C():
		t.Fatal("stopped timer fired")
	default:
	}
	c.Advance(time.Second)
	if got := <-late.C(); !got.Equal(time.Unix(2, 0)) {
		t.Fatalf("late fired at %v", got)
	}
	if c.Pending() != 0 {
		t.Fatalf("pending = %d after all fired", c.Pending())
	}
}

func TestFakeTicker(t *testing.T) {
	c := NewFake(time.Unix(0, 0))
	tk := c.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for i := 1; i <= 3; i++ {
		c.Advance(10 * time.Millisecond)
		got := <-tk.C()
		if want := time.Unix(0, int64(i)*int64(10*time.Millisecond)); !got.Equal(want) {
			t.Fatalf("tick %d at %v, want %v", i, got, want)
		}
	}
}
