package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPartitionAndHeal: a partition fails the calls in flight and new
// calls with ErrConnection; after Heal calls go through again.
func TestPartitionAndHeal(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", func(ctx context.Context, method string, body []byte) ([]byte, error) {
		if method == "block" {
			return blockUntilCancelled(started, ended)(ctx, method, body)
		}
		return echo(ctx, method, body)
	})
	c := newTestClient(t, testConfig(), m.Host("cli"))
	ctx := ctxTimeout(t, waitLong)
	if _, err := c.Call(ctx, addr, "echo", nil); err != nil {
		t.Fatal(err)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, addr, "block", nil)
		errc <- err
	}()
	recv(t, started)
	m.Partition([]string{"cli"}, []string{"srv"})
	if err := recv(t, errc); !errors.Is(err, ErrConnection) || errors.Is(err, ErrDial) {
		t.Errorf("call in flight across partition: %v, want ErrConnection and not ErrDial", err)
	}
	if err := recv(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("handler across partition: %v", err)
	}
	// Once the client has seen its connections go, calls fail at the dial.
	waitBroken(t, c, addr)
	_, err := c.Call(ctx, addr, "echo", nil)
	if !errors.Is(err, ErrDial) || !strings.Contains(err.Error(), "cli cannot reach srv") {
		t.Errorf("call across partition: %v", err)
	}

	m.Heal()
	if _, err := c.Call(ctx, addr, "echo", nil); err != nil {
		t.Errorf("call after heal: %v", err)
	}
}

// TestBlockHoldsResponse: with the server's replies held, calls wait
// (or give up); after Unblock the held answer arrives.
func TestBlockHoldsResponse(t *testing.T) {
	m := NewMemNetwork()
	handled := make(chan string, 2)
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", func(ctx context.Context, method string, body []byte) ([]byte, error) {
		handled <- string(body)
		return body, nil
	})
	c := newTestClient(t, testConfig(), m.Host("cli"))
	if _, err := c.Call(ctxTimeout(t, waitLong), addr, "echo", nil); err != nil {
		t.Fatal(err)
	}
	recv(t, handled)

	m.Block("srv", "cli")
	// A call that gives up while its answer is held.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctx, addr, "echo", []byte("lost"))
		errc <- err
	}()
	if got := recv(t, handled); got != "lost" {
		t.Fatalf("handled %q", got)
	}
	cancel()
	if err := recv(t, errc); !errors.Is(err, context.Canceled) {
		t.Fatalf("call with reply held: %v", err)
	}
	// A call that waits it out.
	go func() {
		out, err := c.Call(ctxTimeout(t, waitLong), addr, "echo", []byte("late"))
		if err == nil && string(out) != "late" {
			err = errors.New("wrong answer " + string(out))
		}
		errc <- err
	}()
	if got := recv(t, handled); got != "late" {
		t.Fatalf("handled %q", got)
	}
	select {
	case err := <-errc:
		t.Fatalf("call returned while its reply was held: %v", err)
	default:
	}
	m.Unblock("srv", "cli")
	if err := recv(t, errc); err != nil {
		t.Fatal(err)
	}
}

// TestServerDeadlineWithoutCancel: the server cancels a handler at the
// deadline carried in the request, with nothing more from the caller (the
// request is written by hand, so no client-side timer is involved).
func TestServerDeadlineWithoutCancel(t *testing.T) {
	m := NewMemNetwork()
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", blockUntilCancelled(started, ended))
	raw, err := m.Host("cli").Dial(ctxTimeout(t, waitLong), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	req, err := encodeFrame(&frame{ID: 1, Kind: kindRequest, Method: "block", Timeout: int64(50 * time.Millisecond)}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Write(req); err != nil {
		t.Fatal(err)
	}
	recv(t, started)
	if err := recv(t, ended); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("handler: %v, want DeadlineExceeded", err)
	}
}

// TestServerSurvivesBadInput writes garbage on raw TCP connections: each
// is closed with a warning, and the server goes on answering.
func TestServerSurvivesBadInput(t *testing.T) {
	checkGoroutines(t)
	cfg, logs := loggedConfig()
	_, addr := startServer(t, cfg, TCP{}, "127.0.0.1:0", echo)
	c := newTestClient(t, testConfig(), TCP{})

	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	good, err := encodeFrame(&frame{ID: 1, Kind: kindRequest, Method: "echo"}, cfg.MaxFrameSize)
	if err != nil {
		t.Fatal(err)
	}
	header := func(n int) []byte {
		return binary.BigEndian.AppendUint32(nil, uint32(n))
	}
	tests := []struct {
		name  string
		input []byte
	}{
		{"random bytes", random},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}},
		{"just over the limit", append(header(cfg.MaxFrameSize+1), 0, 0, 0, 0)},
		{"truncated frame", good[:len(good)-3]},
		{"truncated header", good[:6]},
		{"msgpack garbage", rawFrame([]byte{0xc1, 0xc1, 0xc1})},
		{"a response sent to a server", rawFrame(mustMarshal(t, &frame{ID: 1, Kind: kindResponse}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Write(tt.input); err != nil {
				t.Fatal(err)
			}
			raw.(*net.TCPConn).CloseWrite() // so a short frame ends
			raw.SetReadDeadline(time.Now().Add(waitLong))
			// The server must close the connection (EOF, or a reset if it
			// closed with our bytes unread) without answering.
			if n, err := io.Copy(io.Discard, raw); n != 0 || isTimeout(err) {
				t.Fatalf("server answered or kept the connection open: read %d, %v", n, err)
			}
			if _, err := c.Call(ctxTimeout(t, waitLong), addr, "echo", []byte("ok")); err != nil {
				t.Fatalf("server stopped answering: %v", err)
			}
		})
	}
	if n := strings.Count(logs.String(), "bad frame"); n != len(tests) {
		t.Errorf("%d warnings for %d bad connections:\n%s", n, len(tests), logs.String())
	}
}

// TestWriteTimeout: a peer that takes no bytes for WriteTimeout breaks the
// connection, failing the calls on it.
func TestWriteTimeout(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", echo)
	cfg := testConfig()
	cfg.WriteTimeout = 50 * time.Millisecond
	cfg.ConnsPerPeer = 1 // both calls on the connection made before the Block
	c := newTestClient(t, cfg, m.Host("cli"))
	ctx := ctxTimeout(t, waitLong)
	if _, err := c.Call(ctx, addr, "echo", nil); err != nil {
		t.Fatal(err)
	}
	m.Block("cli", "srv")
	// More than the mem buffer holds, so the writer stalls.
	_, err := c.Call(ctx, addr, "echo", make([]byte, memBufferSize+1))
	if !errors.Is(err, ErrConnection) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("call to a stalled peer: %v", err)
	}
}

// dialSignal is a Network that reports each Dial as it starts.
type dialSignal struct {
	Network
	dialing chan string
}

func (d dialSignal) Dial(ctx context.Context, addr string) (net.Conn, error) {
	d.dialing <- addr
	return d.Network.Dial(ctx, addr)
}

// TestClientCloseDuringDial: Close does not wait out a dial that hangs.
func TestClientCloseDuringDial(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	ln, err := m.Host("srv").Listen("srv:1") // never accepts
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig()
	cfg.DialTimeout = time.Hour
	nw := dialSignal{m.Host("cli"), make(chan string, 1)}
	c := NewClient(cfg, nw)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), "srv:1", "echo", nil)
		errc <- err
	}()
	recv(t, nw.dialing)
	c.Close()
	if err := recv(t, errc); !errors.Is(err, ErrClosed) {
		t.Errorf("call during Close: %v, want ErrClosed", err)
	}
}
