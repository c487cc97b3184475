package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// memPair returns both ends of a connection dialled from host "a" to a
// listener on host "b".
func memPair(t *testing.T, m *MemNetwork) (client, server net.Conn) {
	t.Helper()
	ln, err := m.Host("b").Listen("b:1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return dialAccept(t, m.Host("a"), ln)
}

func dialAccept(t *testing.T, from Network, ln net.Listener) (client, server net.Conn) {
	t.Helper()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err := from.Dial(ctxTimeout(t, waitLong), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = recv(t, accepted)
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

func readN(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitLong))
	defer c.SetReadDeadline(time.Time{})
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

func write(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
}

// readTimesOut asserts that nothing arrives on c within a short while.
func readTimesOut(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	defer c.SetReadDeadline(time.Time{})
	if n, err := c.Read(make([]byte, 1)); !isTimeout(err) {
		t.Fatalf("read = %d, %v; want a timeout", n, err)
	}
}

func TestMemConnDuplex(t *testing.T) {
	checkGoroutines(t)
	m := NewMemNetwork()
	c, s := memPair(t, m)
	if got := s.LocalAddr().String(); got != "b:1" {
		t.Errorf("server LocalAddr = %q", got)
	}
	if c.RemoteAddr().String() != "b:1" || s.RemoteAddr() != c.LocalAddr() {
		t.Errorf("addresses: client %v->%v, server %v->%v", c.LocalAddr(), c.RemoteAddr(), s.LocalAddr(), s.RemoteAddr())
	}
	// Writes do not wait for the reader, in both directions at once.
	big := bytes.Repeat([]byte("x"), 1<<20)
	write(t, c, big)
	write(t, s, []byte("pong"))
	if got := readN(t, c, 4); string(got) != "pong" {
		t.Errorf("client read %q", got)
	}
	if got := readN(t, s, len(big)); !bytes.Equal(got, big) {
		t.Error("server read a different megabyte")
	}
}

func TestMemConnWriterBlocksWhenFull(t *testing.T) {
	c, s := memPair(t, NewMemNetwork())
	write(t, c, make([]byte, memBufferSize-10)) // fits: does not wait
	c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond))
	n, err := c.Write(make([]byte, 20))
	if !isTimeout(err) || n != 10 {
		t.Fatalf("write = %d, %v; want 10 and a timeout", n, err)
	}
	c.SetWriteDeadline(time.Time{})
	// Draining the buffer lets a blocked writer finish.
	done := make(chan error, 1)
	go func() {
		_, err := c.Write(make([]byte, 100))
		done <- err
	}()
	readN(t, s, memBufferSize+100)
	if err := recv(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestMemConnDeadlines(t *testing.T) {
	c, s := memPair(t, NewMemNetwork())
	start := time.Now()
	readTimesOut(t, c)
	if time.Since(start) > waitLong/2 {
		t.Error("read deadline fired late")
	}
	// A deadline in the past fails at once, even with data waiting.
	write(t, s, []byte("hi"))
	c.SetDeadline(time.Now().Add(-time.Second))
	if _, err := c.Read(make([]byte, 2)); !isTimeout(err) {
		t.Fatalf("read past deadline: %v", err)
	}
	if _, err := c.Write([]byte("x")); !isTimeout(err) {
		t.Fatalf("write past deadline: %v", err)
	}
	// Clearing it makes the conn usable again, data intact.
	c.SetDeadline(time.Time{})
	if got := readN(t, c, 2); string(got) != "hi" {
		t.Errorf("read %q", got)
	}
	// Moving a deadline while a Read waits re-arms it.
	c.SetReadDeadline(time.Now().Add(time.Hour))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		errc <- err
	}()
	c.SetReadDeadline(time.Now())
	if err := recv(t, errc); !isTimeout(err) {
		t.Fatalf("read after deadline moved: %v", err)
	}
}

func TestMemConnClose(t *testing.T) {
	c, s := memPair(t, NewMemNetwork())
	write(t, c, []byte("last words"))
	c.Close()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read on closed end: %v", err)
	}
	if got := readN(t, s, 10); string(got) != "last words" {
		t.Errorf("peer read %q before EOF", got)
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer read after drain: %v, want EOF", err)
	}
	if _, err := s.Write([]byte("anyone?")); err == nil {
		t.Error("write to a closed peer succeeded")
	}
}

func TestMemDialErrors(t *testing.T) {
	m := NewMemNetwork()
	a := m.Host("a")
	if _, err := a.Dial(context.Background(), "nowhere:1"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("dial unknown address: %v", err)
	}
	ln, err := m.Host("b").Listen("b:1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Host("c").Listen("b:1"); err == nil {
		t.Error("second Listen on b:1 succeeded")
	}
	// Nobody accepts: the dial waits for its context.
	if _, err := a.Dial(ctxTimeout(t, 20*time.Millisecond), "b:1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dial without accept: %v", err)
	}
	ln.Close()
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
	if _, err := a.Dial(context.Background(), "b:1"); err == nil {
		t.Error("dial to a closed listener succeeded")
	}
	if _, err := m.Host("b").Listen("b:1"); err != nil {
		t.Errorf("address not freed by Close: %v", err)
	}
}

func TestMemPartition(t *testing.T) {
	m := NewMemNetwork()
	c, s := memPair(t, m)
	readErr := make(chan error, 1)
	go func() {
		_, err := s.Read(make([]byte, 1))
		readErr <- err
	}()
	m.Partition([]string{"a"}, []string{"b", "z"})
	if err := recv(t, readErr); err == nil || !strings.Contains(err.Error(), "a cannot reach b") {
		t.Errorf("blocked read across new partition: %v", err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("write across partition succeeded")
	}
	for _, from := range []string{"a", "b"} {
		to := map[string]string{"a": "b:1", "b": "a:1"}[from]
		if from == "b" {
			ln, err := m.Host("a").Listen("a:1")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
		}
		if _, err := m.Host(from).Dial(context.Background(), to); err == nil || !strings.Contains(err.Error(), "cannot reach") {
			t.Errorf("dial %s->%s across partition: %v", from, to, err)
		}
	}
	m.Heal()
	ln, err := m.Host("b").Listen("b:2")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c2, s2 := dialAccept(t, m.Host("a"), ln)
	write(t, c2, []byte("back"))
	if got := readN(t, s2, 4); string(got) != "back" {
		t.Errorf("after heal read %q", got)
	}
}

func TestMemIsolate(t *testing.T) {
	m := NewMemNetwork()
	c, _ := memPair(t, m)
	ln, err := m.Host("b").Listen("b:2")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m.Isolate("b")
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, net.ErrClosed) {
		t.Errorf("read on isolated conn: %v", err)
	}
	// A host that appears later is cut off too; b still reaches itself.
	if _, err := m.Host("late").Dial(context.Background(), "b:2"); err == nil {
		t.Error("dial to isolated host succeeded")
	}
	dialAccept(t, m.Host("b"), ln)
}

// TestMemReset: a reset closes the host's connections, both ends, and
// leaves it reachable.
func TestMemReset(t *testing.T) {
	m := NewMemNetwork()
	c, s := memPair(t, m)
	m.Reset("b")
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, net.ErrClosed) {
		t.Errorf("read on the dialler's end after reset: %v", err)
	}
	if _, err := s.Write([]byte("x")); err == nil {
		t.Error("write on the listener's end after reset succeeded")
	}
	ln, err := m.Host("b").Listen("b:2")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialAccept(t, m.Host("a"), ln)
}

func TestMemBlock(t *testing.T) {
	m := NewMemNetwork()
	c, s := memPair(t, m) // c on host a, s on host b
	m.Block("a", "b")
	write(t, c, []byte("held"))
	readTimesOut(t, s)
	// The other direction still flows.
	write(t, s, []byte("free"))
	if got := readN(t, c, 4); string(got) != "free" {
		t.Errorf("b->a read %q", got)
	}
	// New dials from a to b fail; b can still dial a.
	if _, err := m.Host("a").Dial(context.Background(), "b:1"); err == nil {
		t.Error("dial a->b while blocked succeeded")
	}
	lnA, err := m.Host("a").Listen("a:1")
	if err != nil {
		t.Fatal(err)
	}
	defer lnA.Close()
	fromB, atA := dialAccept(t, m.Host("b"), lnA)
	write(t, atA, []byte("held too")) // a->b on a connection made during the block
	readTimesOut(t, fromB)

	m.Unblock("a", "b")
	if got := readN(t, s, 4); string(got) != "held" {
		t.Errorf("after Unblock read %q", got)
	}
	if got := readN(t, fromB, 8); string(got) != "held too" {
		t.Errorf("after Unblock read %q", got)
	}

	// Heal releases held bytes too, including a writer's close.
	m.Block("b", "a")
	write(t, s, []byte("bye"))
	s.Close()
	readTimesOut(t, c)
	m.Heal()
	if got := readN(t, c, 3); string(got) != "bye" {
		t.Errorf("after Heal read %q", got)
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after drain: %v, want EOF", err)
	}
}
