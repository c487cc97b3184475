package httpguard

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// A slowloris client opens many connections and sends each one's headers
// a byte at a time, never finishing them. With the server's
// ReadHeaderTimeout, a normal request still succeeds while they hang on,
// and the server closes every slow connection itself (the test's own read
// deadline is only a bound on a failure).
func TestSlowlorisClientsAreCutOff(t *testing.T) {
	cfg := DefaultLocalConfig()
	cfg.MaxConcurrent = 4 // fewer slots than slow connections: they must not take them
	h, err := New(cfg, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := cfg.Server(h, nil)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	const slow = 32
	started := make(chan struct{}, slow)
	closed := make(chan error, slow)
	for range slow {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		go trickle(conn, started, closed)
	}
	for range slow {
		<-started
	}

	res, err := http.Get("http://" + ln.Addr().String() + "/buckets/b/keys/k")
	if err != nil {
		t.Fatalf("normal request while %d slow clients hang on: %v", slow, err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("normal request: %d %q", res.StatusCode, body)
	}

	for range slow {
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
	}
}

// trickle sends a request line and then header bytes one at a time until
// the server closes the connection. It reports nil on closed when the
// server closed it, an error when the connection outlived any sane
// ReadHeaderTimeout.
func trickle(conn net.Conn, started chan<- struct{}, closed chan<- error) {
	if _, err := io.WriteString(conn, "GET /buckets/b/keys/k HTTP/1.1\r\nHost: cairn\r\n"); err != nil {
		started <- struct{}{}
		closed <- nil // closed already: the server is faster than us
		return
	}
	started <- struct{}{}
	// The reader sees the server's close (EOF, or a 408 then EOF).
	eof := make(chan error, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, conn)
		eof <- err
	}()
	pace := time.NewTicker(20 * time.Millisecond) // the attack's pace, not a wait
	defer pace.Stop()
	header := []byte("X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	for i := 0; ; i++ {
		select {
		case err := <-eof:
			if errors.Is(err, os.ErrDeadlineExceeded) {
				closed <- errors.New("a slow connection was still open after 10s: the server does not enforce its header timeout")
				return
			}
			closed <- nil
			return
		case <-pace.C:
			// A write error means the server closed its side; the reader
			// reports it.
			_, _ = conn.Write(header[i%len(header) : i%len(header)+1])
		}
	}
}
