package meta

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func TestCheckMsgpack(t *testing.T) {
	nested := strings.Repeat("\x91", maxNesting) + "\xc0"
	for _, tc := range []struct {
		name string
		b    string
		ok   bool
	}{
		{"nil", "\xc0", true},
		{"empty", "", false},
		{"trailing", "\xc0\xc0", false},
		{"unused code", "\xc1", false},
		{"array claiming 3 billion", "\xdd\xb6\xb6\xb6\x30\x30", false},
		{"map claiming more than is left", "\x83\xa1a\xc0", false},
		{"bin32 claiming 3 GB", "\xc6\xc6\xc6\xc6\xc6\xc4", false},
		{"ext32 claiming 1 GB", "\xc9W$\xfb\xd8\x30", false},
		{"str8 cut short", "\xd9\x05abc", false},
		{"fixext8 cut short", "\xd7\xff\x00\x00", false},
		{"nested to the limit", nested, true},
		{"nested too deep", "\x91" + nested, false},
		{"all the scalars", "\xdc\x00\x10\x01\xe0\xc2\xc3\xcc\x01\xcd\x00\x01\xce\x00\x00\x00\x01\xcf\x00\x00\x00\x00\x00\x00\x00\x01" +
			"\xd0\xff\xd1\xff\xff\xd2\xff\xff\xff\xff\xd3\xff\xff\xff\xff\xff\xff\xff\xff\xca\x00\x00\x00\x00" +
			"\xcb\x00\x00\x00\x00\x00\x00\x00\x00\xd4\x01\x00\xc7\x01\x01\x00", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkMsgpack([]byte(tc.b)); (err == nil) != tc.ok {
				t.Fatalf("checkMsgpack(%q) = %v, want ok %v", tc.b, err, tc.ok)
			}
		})
	}
}

// Everything the package encodes passes the check, and no proper prefix
// of it does.
func TestCheckMsgpackEncodings(t *testing.T) {
	h := newHarness(t)
	richHistory(h)
	values := [][]byte{mustMarshal(t, h.f.State())}
	for _, data := range seedCommands(t) {
		cmd, err := DecodeCommand(data)
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, data)
		if cmd.Body != nil {
			values = append(values, cmd.Body)
		}
	}
	tm, _ := msgpack.Marshal(time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC))
	values = append(values, tm)
	for _, b := range values {
		if err := checkMsgpack(b); err != nil {
			t.Fatalf("checkMsgpack(%q): %v", b, err)
		}
		for n := range len(b) {
			if err := checkMsgpack(b[:n]); err == nil {
				t.Fatalf("checkMsgpack accepts a %d-byte prefix of %q", n, b)
			}
		}
	}
}

func TestUnmarshalTurnsPanicsIntoErrors(t *testing.T) {
	var cmd StrongDeleteCmd
	if err := unmarshal([]byte("\x93\xc0\xc0\xc0"), &cmd); err == nil {
		t.Fatal("want an error")
	}
	var st State
	err := unmarshal(bytes.Repeat([]byte{0x91}, 10), &st)
	if !errors.Is(err, errTruncated) {
		t.Fatalf("got %v", err)
	}
}
