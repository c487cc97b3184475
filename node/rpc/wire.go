package rpc

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"
)

// ioBufferSize sizes the buffered reader and writer on each connection.
const ioBufferSize = 64 << 10

// coalesceBytes is the batch size below which the writer yields once
// before flushing, to let more frames join the write.
const coalesceBytes = 16 << 10

// sendQueueLen is how many encoded frames may wait for a connection's
// writer before senders block.
const sendQueueLen = 256

// wire is the half of a connection that client and server share: one
// goroutine writes queued frames, so callers never block on socket I/O
// (they can give up when their context ends) and frames queued together
// leave in one write; and one shutdown path records why the connection
// ended.
type wire struct {
	conn  net.Conn
	queue chan []byte

	once sync.Once
	done chan struct{} // closed by shutdown
	err  error         // why; read only after done is closed
}

func newWire(conn net.Conn) wire {
	return wire{conn: conn, queue: make(chan []byte, sendQueueLen), done: make(chan struct{})}
}

// shutdown closes the connection once, recording err as the reason.
func (w *wire) shutdown(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.done)
		w.conn.Close()
	})
}

// send queues an encoded frame, waiting for room unless ctx ends or the
// connection is shut first.
func (w *wire) send(ctx context.Context, b []byte) error {
	select {
	case w.queue <- b:
		return nil
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trySend queues b if there is room right now; for frames that are only
// an optimisation, such as cancels.
func (w *wire) trySend(b []byte) {
	select {
	case w.queue <- b:
	default:
	}
}

// writeLoop writes queued frames until the connection is shut. A write
// that makes no progress for writeTimeout (if positive) shuts the
// connection: the peer is gone or has stopped reading.
func (w *wire) writeLoop(writeTimeout time.Duration) {
	bw := bufio.NewWriterSize(w.conn, ioBufferSize)
	var armed time.Time // when the write deadline was last pushed back
	for {
		var b []byte
		select {
		case b = <-w.queue:
		case <-w.done:
			return
		}
		// Write everything that is queued, then flush once. When the
		// queue runs dry while the batch is still small, yield once
		// before flushing: senders that are about to queue (handlers
		// finishing, callers encoding) get to run first, so their frames
		// share this write syscall instead of each paying for one. Under
		// load that is most of the cost of a frame; when nothing else is
		// runnable the yield returns at once.
		yielded := false
		for b != nil {
			if writeTimeout > 0 {
				// Pushing the deadline back costs a little, so do it only
				// when a good part of it has been used up.
				if now := time.Now(); now.Sub(armed) > writeTimeout/4 {
					w.conn.SetWriteDeadline(now.Add(writeTimeout))
					armed = now
				}
			}
			if _, err := bw.Write(b); err != nil {
				w.shutdown(fmt.Errorf("%w: write: %w", ErrConnection, err))
				return
			}
			select {
			case b = <-w.queue:
				continue
			default:
				b = nil
			}
			if !yielded && bw.Buffered() < coalesceBytes {
				yielded = true
				runtime.Gosched()
				select {
				case b = <-w.queue:
				default:
				}
			}
		}
		if err := bw.Flush(); err != nil {
			w.shutdown(fmt.Errorf("%w: write: %w", ErrConnection, err))
			return
		}
	}
}
