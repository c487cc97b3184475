package gossip

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/syncbuf"
)

// TestEncryptionKeepsOutOtherKeys runs real UDP and TCP on loopback.
func TestEncryptionKeepsOutOtherKeys(t *testing.T) {
	logs := &syncbuf.Buffer{}
	dumpLogsOnFailure(t, logs)
	key := mustKey(t)

	start := func(name string, key []byte) (*Gossip, *recorder) {
		t.Helper()
		cfg := testConfig(name, logs)
		cfg.BindAddr = "127.0.0.1:0"
		cfg.SecretKey = key
		rec := newRecorder()
		g, err := New(cfg, rec)
		if err != nil {
			t.Fatalf("New(%s): %v", name, err)
		}
		t.Cleanup(func() { _ = g.Close() })
		return g, rec
	}

	a, recA := start("a", key)
	b, _ := start("b", key)
	if n, err := b.Join([]string{a.Addr()}); err != nil || n != 1 {
		t.Fatalf("b (same key): Join = %d, %v; want 1, nil", n, err)
	}
	recA.waitAlive(t, 0, "a", "b")

	for _, tc := range []struct {
		name string
		key  []byte
	}{
		{"wrong-key", mustKey(t)},
		{"no-key", nil},
	} {
		g, _ := start(tc.name, tc.key)
		n, err := g.Join([]string{a.Addr()})
		t.Logf("%s: Join: %v", tc.name, err)
		if !errors.Is(err, ErrJoin) || n != 0 {
			t.Errorf("%s: Join = %d, %v; want 0, ErrJoin", tc.name, n, err)
		}
		if ms := g.Members(); len(ms) != 1 {
			t.Errorf("%s: Members() = %v, want only itself", tc.name, ms)
		}
	}
	for _, m := range a.Members() {
		if m.Node != "a" && m.Node != "b" {
			t.Errorf("a: Members() has %+v", m)
		}
	}
	// a logs each refusal, with where it came from, above debug level.
	for _, want := range []string{
		"no installed keys could decrypt the message from=127.0.0.1:",
		"encryption is configured but remote state is not encrypted from=127.0.0.1:",
	} {
		logged := func() bool {
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "node=a") && strings.Contains(l, want) && !strings.Contains(l, "level=DEBUG") {
					return true
				}
			}
			return false
		}
		// a logs on its own goroutine: poll, with a deadline.
		for deadline := time.Now().Add(10 * time.Second); !logged(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("a did not log %q", want)
				break
			}
		}
	}
}

func mustKey(t *testing.T) []byte {
	t.Helper()
	s, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestKeyRotation walks the rolling rotation ParseKeyring documents,
// from key A to key B: at each step a node on the previous step's keys
// and one on the next step's gossip with each other, and skipping a step
// splits them.
func TestKeyRotation(t *testing.T) {
	logs := &syncbuf.Buffer{}
	dumpLogsOnFailure(t, logs)
	a, b := mustKey(t), mustKey(t)
	enc := func(keys ...[]byte) string {
		var parts []string
		for _, k := range keys {
			parts = append(parts, base64.StdEncoding.EncodeToString(k))
		}
		return strings.Join(parts, ",")
	}
	n := 0
	start := func(ring string) *Gossip {
		t.Helper()
		n++
		cfg := testConfig(fmt.Sprintf("n%d", n), logs)
		cfg.BindAddr = "127.0.0.1:0"
		var err error
		cfg.SecretKey, cfg.AcceptKeys, err = ParseKeyring(ring)
		if err != nil {
			t.Fatal(err)
		}
		g, err := New(cfg, newRecorder())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = g.Close() })
		return g
	}
	for _, tc := range []struct {
		name     string
		old, new string
		ok       bool
	}{
		{"A to A,B", enc(a), enc(a, b), true},
		{"A,B to B,A", enc(a, b), enc(b, a), true},
		{"B,A to B", enc(b, a), enc(b), true},
		{"A to B,A (skipped a step)", enc(a), enc(b, a), false},
		{"A,B to B (skipped a step)", enc(a, b), enc(b), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, nw := start(tc.old), start(tc.new)
			joined, err := nw.Join([]string{old.Addr()})
			if tc.ok && (err != nil || joined != 1) {
				t.Fatalf("Join = %d, %v; want 1, nil", joined, err)
			}
			if !tc.ok && err == nil {
				t.Fatalf("Join = %d, nil; want an error", joined)
			}
		})
	}
	for _, bad := range []string{"", enc(a) + ",", enc(a) + ",bm9wZQ==", "not base64"} {
		if _, _, err := ParseKeyring(bad); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ParseKeyring(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
}
