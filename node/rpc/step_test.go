package rpc

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitQueued waits until n messages are queued (a Call queues its request
// on its own goroutine).
func waitQueued(t *testing.T, n *StepNetwork, want int) []*StepMessage {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p := n.Pending(); len(p) == want {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages queued, want %d", len(n.Pending()), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStepNetworkMovesOnlyWhenTold(t *testing.T) {
	n := NewStepNetwork()
	defer n.Close()
	ran := make(chan string, 4)
	n.Listen("a", func(context.Context, string, []byte) ([]byte, error) { return nil, nil })
	n.Listen("b", func(_ context.Context, method string, body []byte) ([]byte, error) {
		ran <- method
		if method == "fail" {
			return nil, errors.New("no")
		}
		return append([]byte("re:"), body...), nil
	})
	type result struct {
		out []byte
		err error
	}
	call := func(ctx context.Context, method string) <-chan result {
		ch := make(chan result, 1)
		go func() {
			out, err := n.Host("a").Call(ctx, "b", method, []byte("x"))
			ch <- result{out, err}
		}()
		return ch
	}

	// A request waits until it is delivered; its reply until it is too.
	got := call(context.Background(), "echo")
	req := waitQueued(t, n, 1)[0]
	if req.From != "a" || req.To != "b" || req.Reply || req.Origin != req.Seq {
		t.Fatalf("queued %+v", req)
	}
	select {
	case <-ran:
		t.Fatal("the handler ran before delivery")
	default:
	}
	n.Deliver(req)
	<-ran
	rep := waitQueued(t, n, 1)[0]
	if !rep.Reply || rep.From != "b" || rep.To != "a" || rep.Origin != req.Seq {
		t.Fatalf("reply %+v", rep)
	}
	n.Deliver(rep)
	if r := <-got; r.err != nil || string(r.out) != "re:x" {
		t.Fatalf("call: %q %v", r.out, r.err)
	}

	// A handler's error comes back as the peer's RemoteError.
	got = call(context.Background(), "fail")
	n.Deliver(waitQueued(t, n, 1)[0])
	<-ran
	n.Deliver(waitQueued(t, n, 1)[0])
	var rerr *RemoteError
	if r := <-got; !errors.As(r.err, &rerr) {
		t.Fatalf("handler error came back as %v", r.err)
	}

	// A dropped request is silence: the call ends with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	got = call(ctx, "echo")
	n.Drop(waitQueued(t, n, 1)[0])
	if r := <-got; !errors.Is(r.err, context.DeadlineExceeded) {
		t.Fatalf("dropped request: %v", r.err)
	}

	// A request delivered to a host that is down is refused; a host that
	// is down cannot send.
	got = call(context.Background(), "echo")
	m := waitQueued(t, n, 1)[0]
	n.Stop("b")
	n.Deliver(m)
	if r := <-got; !errors.Is(r.err, ErrDial) {
		t.Fatalf("delivered to a stopped host: %v", r.err)
	}
	n.Stop("a")
	if _, err := n.Host("a").Call(context.Background(), "b", "echo", nil); !errors.Is(err, ErrDial) {
		t.Fatalf("a stopped host sent: %v", err)
	}
}

// A reply nobody waits for leaves the queue; a request whose caller gave
// up stays, since a peer may still run it.
func TestStepNetworkForgetsOrphanReplies(t *testing.T) {
	n := NewStepNetwork()
	defer n.Close()
	n.Listen("a", func(context.Context, string, []byte) ([]byte, error) { return nil, nil })
	n.Listen("b", func(context.Context, string, []byte) ([]byte, error) { return []byte("ok"), nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := n.Host("a").Call(ctx, "b", "m", nil)
		done <- err
	}()
	req := waitQueued(t, n, 1)[0]
	cancel()
	<-done
	if p := n.Pending(); len(p) != 1 {
		t.Fatalf("the abandoned request left the queue: %d queued", len(p))
	}
	n.Deliver(req)
	n.wg.Wait() // the handler has run and answered
	if p := n.Pending(); len(p) != 0 {
		t.Fatalf("%d orphan replies queued", len(p))
	}
}
