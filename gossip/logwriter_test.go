package gossip

import (
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/syncbuf"
)

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		in    string
		level slog.Level
		msg   string
	}{
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:1\n", slog.LevelDebug, "Stream connection from=127.0.0.1:1"},
		{"[INFO] memberlist: Marking b as failed\n", slog.LevelInfo, "Marking b as failed"},
		{"[WARN] memberlist: Refuting a suspect message (from: b)\n", slog.LevelWarn, "Refuting a suspect message (from: b)"},
		{"[ERR] memberlist: Failed to send UDP ping: x\n", slog.LevelError, "Failed to send UDP ping: x"},
		{"[ERR] Failed to shutdown transport: x\n", slog.LevelError, "Failed to shutdown transport: x"},
		{"no tag at all\n", slog.LevelInfo, "no tag at all"},
		{"[NOPE] memberlist: odd\n", slog.LevelInfo, "[NOPE] memberlist: odd"},
	} {
		level, msg := parseLogLine(tc.in)
		if level != tc.level || msg != tc.msg {
			t.Errorf("parseLogLine(%q) = %v, %q; want %v, %q", tc.in, level, msg, tc.level, tc.msg)
		}
	}
}

func TestLogWriter(t *testing.T) {
	var buf syncbuf.Buffer
	var suspects []string
	w := &logWriter{
		logger:    slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})),
		onSuspect: func(node string) { suspects = append(suspects, node) },
	}
	l := log.New(w, "", 0) // as New gives it to memberlist
	l.Printf("[DEBUG] memberlist: hidden below the handler's level")
	l.Printf("[WARN] memberlist: something odd")
	l.Printf("[INFO] memberlist: Suspect %s has failed, no acks received", "node-7")
	l.Printf("[DEBUG] memberlist: Suspect %s has failed, no acks received", "wrong level")
	l.Printf("[INFO] memberlist: Suspect  has failed, no acks received")

	if len(suspects) != 1 || suspects[0] != "node-7" {
		t.Errorf("suspects = %q, want [node-7]", suspects)
	}
	out := buf.String()
	for _, want := range []string{`level=WARN msg="something odd" component=memberlist`, `level=INFO msg="Suspect node-7 has failed`} {
		if !strings.Contains(out, want) {
			t.Errorf("log output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("debug line logged at info level:\n%s", out)
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
