package gossip

import (
	"testing"
)

// blockingDelegate holds every Notify until released.
type blockingDelegate struct {
	got     chan Event
	release chan struct{}
}

func (d *blockingDelegate) Notify(e Event) {
	d.got <- e
	<-d.release
}

func TestQueueOrderAndNonBlocking(t *testing.T) {
	d := &blockingDelegate{got: make(chan Event, 1), release: make(chan struct{})}
	q := newEventQueue(d, discardLogger())
	defer q.close()

	// The Delegate is stuck on the first event; pushing must not block.
	const n = 3 * queueWarnLen
	for i := range n {
		q.push(Event{Node: "n", Meta: Meta{RingEpoch: uint64(i)}})
	}
	for i := range n {
		e := <-d.got
		if e.Meta.RingEpoch != uint64(i) {
			t.Fatalf("event %d delivered as %d", i, e.Meta.RingEpoch)
		}
		d.release <- struct{}{}
	}
}

func TestQueueCloseWaitsAndDrops(t *testing.T) {
	d := &blockingDelegate{got: make(chan Event, 1), release: make(chan struct{})}
	q := newEventQueue(d, discardLogger())
	q.push(Event{Node: "first"})
	q.push(Event{Node: "second"})
	<-d.got // first is being delivered

	closed := make(chan struct{})
	go func() {
		q.close()
		close(closed)
	}()
	<-q.stop // close has begun
	select {
	case <-closed:
		t.Fatal("close returned while Notify was running")
	default:
	}
	close(d.release)
	<-closed
	select {
	case e := <-d.got:
		t.Fatalf("%v delivered after close", e)
	default:
	}
	q.push(Event{Node: "after"}) // must not block or panic
}

func TestNilDelegate(t *testing.T) {
	q := newEventQueue(nil, discardLogger())
	q.push(Event{Node: "n"})
	q.close()
}
