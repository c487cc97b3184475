package gossip

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/syncbuf"
)

type delegateFunc func(Event)

func (f delegateFunc) Notify(e Event) { f(e) }

// TestCloseWhileDelegateCallsBack: a Delegate that calls SetRingEpoch
// while Close waits for it gets ErrClosed instead of a deadlock.
func TestCloseWhileDelegateCallsBack(t *testing.T) {
	logs := &syncbuf.Buffer{}
	dumpLogsOnFailure(t, logs)
	cfg := testConfig("a", logs)
	cfg.Transport = (&MemNetwork{}).NewTransport("a")

	var (
		g        *Gossip
		once     sync.Once
		entered  = make(chan struct{})
		release  = make(chan struct{})
		callback = make(chan error, 1)
	)
	d := delegateFunc(func(Event) {
		once.Do(func() {
			close(entered)
			<-release
			callback <- g.SetRingEpoch(5)
		})
	})
	g, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	<-entered // the Delegate is in Notify with this node's own Alive

	closed := make(chan error, 1)
	go func() { closed <- g.Close() }()
	<-g.stopReconnect // Close has begun
	close(release)

	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close deadlocked with the Delegate")
	}
	if err := <-callback; !errors.Is(err, ErrClosed) {
		t.Fatalf("SetRingEpoch from the Delegate during Close = %v, want ErrClosed", err)
	}
	if err := g.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestConcurrentUse exercises the read and write methods together under
// the race detector.
func TestConcurrentUse(t *testing.T) {
	c := newCluster(t)
	c.startJoined("a", "b")
	a := c.nodes["a"].g
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 8 {
				switch (i + j) % 4 {
				case 0:
					if err := a.SetRingEpoch(uint64(j)); err != nil && !errors.Is(err, ErrBroadcastTimeout) {
						t.Errorf("SetRingEpoch: %v", err)
					}
				case 1:
					a.Members()
				case 2:
					a.Up("b")
				case 3:
					a.Addr()
				}
			}
		})
	}
	wg.Wait()
}
