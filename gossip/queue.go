package gossip

import (
	"log/slog"
	"sync"
)

// queueWarnLen is the backlog at which a slow Delegate is logged.
const queueWarnLen = 1024

// eventQueue hands events to the Delegate on its own goroutine, so that
// memberlist's goroutines, which report changes while holding memberlist's
// locks, never wait on the Delegate. The queue is unbounded: membership
// events are few, and dropping one would break the per-member state
// sequence the Delegate is promised.
type eventQueue struct {
	d      Delegate // nil: events are discarded
	logger *slog.Logger

	mu      sync.Mutex
	pending []Event
	warned  bool

	wake chan struct{} // capacity 1: "pending may be non-empty"
	stop chan struct{}
	done chan struct{}
}

func newEventQueue(d Delegate, logger *slog.Logger) *eventQueue {
	q := &eventQueue{d: d, logger: logger}
	if d == nil {
		return q
	}
	q.wake = make(chan struct{}, 1)
	q.stop = make(chan struct{})
	q.done = make(chan struct{})
	go q.run()
	return q
}

// push queues e without blocking.
func (q *eventQueue) push(e Event) {
	if q.d == nil {
		return
	}
	q.mu.Lock()
	q.pending = append(q.pending, e)
	n := len(q.pending)
	warn := n >= queueWarnLen && !q.warned
	if warn {
		q.warned = true
	}
	q.mu.Unlock()
	if warn {
		q.logger.Warn("gossip: delegate is slow, events are queueing", "queued", n)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) run() {
	defer close(q.done)
	for {
		select {
		case <-q.stop:
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			batch := q.pending
			q.pending = nil
			q.warned = false
			q.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				select {
				case <-q.stop:
					return
				default:
				}
				q.d.Notify(e)
			}
		}
	}
}

// close stops delivery and waits for a Notify in progress to return.
// Events still queued are dropped.
func (q *eventQueue) close() {
	if q.d == nil {
		return
	}
	close(q.stop)
	<-q.done
}
