package meta

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/cairnkv/cairn/internal/msgpackcheck"
)

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
		if err := msgpackcheck.Check(b); err != nil {
			t.Fatalf("msgpackcheck.Check(%q): %v", b, err)
		}
		for n := range len(b) {
			if err := msgpackcheck.Check(b[:n]); err == nil {
				t.Fatalf("msgpackcheck.Check accepts a %d-byte prefix of %q", n, b)
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
	if !errors.Is(err, msgpackcheck.ErrTruncated) {
		t.Fatalf("got %v", err)
	}
}
