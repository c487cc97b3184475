package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
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
	if err := recv(t, errc); !errors.Is(err, ErrConnection) {
		t.Errorf("call in flight across partition: %v, want ErrConnection", err)
	}
	if err := recv(t, ended); !errors.Is(err, context.Canceled) {
		t.Errorf("handler across partition: %v", err)
	}
	_, err := c.Call(ctx, addr, "echo", nil)
	if !errors.Is(err, ErrConnection) || !strings.Contains(err.Error(), "cli cannot reach srv") {
		t.Errorf("call across partition: %v", err)
	}

	m.Heal()
	if _, err := c.Call(ctx, addr, "echo", nil); err != nil {
		t.Errorf("call after heal: %v", err)
	}
}

// TestBlockHoldsResponse: with the server's replies held, a call waits
// (and the server enforces its deadline without a cancel getting
// through); after Unblock the held answers arrive.
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
	// A call that times out while its answer is held.
	if _, err := c.Call(ctxTimeout(t, 50*time.Millisecond), addr, "echo", []byte("lost")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call with reply held: %v", err)
	}
	if got := recv(t, handled); got != "lost" {
		t.Fatalf("handled %q", got)
	}
	// A call that waits it out.
	errc := make(chan error, 1)
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
// request's deadline even when nothing more arrives from the caller.
func TestServerDeadlineWithoutCancel(t *testing.T) {
	m := NewMemNetwork()
	started, ended := make(chan struct{}, 1), make(chan error, 1)
	_, addr := startServer(t, testConfig(), m.Host("srv"), "srv:1", blockUntilCancelled(started, ended))
	c := newTestClient(t, testConfig(), m.Host("cli"))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(ctxTimeout(t, 100*time.Millisecond), addr, "block", nil)
		errc <- err
	}()
	recv(t, started)
	m.Block("cli", "srv")
	if err := recv(t, ended); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("handler: %v, want DeadlineExceeded", err)
	}
	if err := recv(t, errc); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Call: %v, want DeadlineExceeded", err)
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
