package hclogslog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// capture returns a logger writing JSON at handlerLevel and a function
// returning the records written so far.
func capture(t *testing.T, handlerLevel slog.Level) (*slog.Logger, func() []map[string]any) {
	var buf bytes.Buffer
	sl := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: handlerLevel, AddSource: true}))
	return sl, func() []map[string]any {
		var recs []map[string]any
		for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("bad JSON %q: %v", line, err)
			}
			recs = append(recs, m)
		}
		buf.Reset()
		return recs
	}
}

func TestLevelsAndArgs(t *testing.T) {
	sl, records := capture(t, LevelTrace)
	l := New(sl, "raft")
	l.Trace("t", "k", 1)
	l.Debug("d")
	l.Info("i", "peer", "n2", "fmt", hclog.Fmt("%d-%s", 7, "x"))
	l.Warn("w")
	l.Error("e")
	l.Log(hclog.NoLevel, "n")
	want := []struct{ level, msg string }{
		{"DEBUG-4", "t"}, {"DEBUG", "d"}, {"INFO", "i"}, {"WARN", "w"}, {"ERROR", "e"}, {"INFO", "n"},
	}
	recs := records()
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %v", len(recs), len(want), recs)
	}
	for i, w := range want {
		if recs[i]["level"] != w.level || recs[i]["msg"] != w.msg || recs[i]["logger"] != "raft" {
			t.Errorf("record %d = %v, want level %s msg %s", i, recs[i], w.level, w.msg)
		}
	}
	if recs[0]["k"] != 1.0 || recs[2]["peer"] != "n2" || recs[2]["fmt"] != "7-x" {
		t.Errorf("args lost: %v %v", recs[0], recs[2])
	}
	src, _ := recs[0]["source"].(map[string]any)
	if file, _ := src["file"].(string); !strings.HasSuffix(file, "hclogslog_test.go") {
		t.Errorf("source points at %v, want the caller", src)
	}
}

func TestNamesAndWith(t *testing.T) {
	sl, records := capture(t, slog.LevelInfo)
	root := New(sl, "")
	raft := root.Named("raft")
	net := raft.Named("net").With("local", "n1")
	reset := net.ResetNamed("other")
	net.Info("hello", "x", 1)
	reset.Info("again")
	root.Info("root")

	if raft.Name() != "raft" || net.Name() != "raft.net" || reset.Name() != "other" {
		t.Errorf("names: %q %q %q", raft.Name(), net.Name(), reset.Name())
	}
	if got := net.ImpliedArgs(); len(got) != 2 || got[0] != "local" {
		t.Errorf("ImpliedArgs = %v", got)
	}
	recs := records()
	if len(recs) != 3 {
		t.Fatalf("records: %v", recs)
	}
	if recs[0]["logger"] != "raft.net" || recs[0]["local"] != "n1" || recs[0]["x"] != 1.0 {
		t.Errorf("named With record: %v", recs[0])
	}
	if recs[1]["logger"] != "other" || recs[1]["local"] != "n1" {
		t.Errorf("ResetNamed record: %v", recs[1])
	}
	if _, ok := recs[2]["logger"]; ok {
		t.Errorf("unnamed logger has a name: %v", recs[2])
	}
}

func TestSetLevel(t *testing.T) {
	sl, records := capture(t, slog.LevelDebug)
	l := New(sl, "x")
	child := l.Named("child")
	if l.GetLevel() != hclog.Debug || l.IsTrace() || !l.IsDebug() {
		t.Errorf("before SetLevel: level %v, trace %v", l.GetLevel(), l.IsTrace())
	}
	l.SetLevel(hclog.Warn)
	child.Info("dropped")
	child.Warn("kept")
	if child.GetLevel() != hclog.Warn || child.IsInfo() || !child.IsError() {
		t.Errorf("child did not follow SetLevel: %v", child.GetLevel())
	}
	// A level below the handler's cannot open the handler up.
	l.SetLevel(hclog.Trace)
	l.Trace("still dropped")
	l.SetLevel(hclog.Off)
	l.Error("off")
	recs := records()
	if len(recs) != 1 || recs[0]["msg"] != "kept" {
		t.Errorf("records: %v", recs)
	}
}

func TestStandardLogger(t *testing.T) {
	sl, records := capture(t, LevelTrace)
	l := New(sl, "mlist")
	l.StandardLogger(nil).Print("[DEBUG] plain line")
	l.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Printf("[WARN] memberlist: %s\n", "suspect n3")
	w := l.StandardWriter(&hclog.StandardLoggerOptions{InferLevels: true, InferLevelsWithTimestamp: true})
	w.Write([]byte("2024/01/02 03:04:05 [ERR] broken\n[TRACE] two lines\n"))
	l.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Error}).Print("[INFO] forced")
	want := []struct{ level, msg string }{
		{"INFO", "[DEBUG] plain line"},
		{"WARN", "memberlist: suspect n3"},
		{"ERROR", "broken"},
		{"DEBUG-4", "two lines"},
		{"ERROR", "forced"},
	}
	recs := records()
	if len(recs) != len(want) {
		t.Fatalf("records: %v", recs)
	}
	for i, w := range want {
		if recs[i]["level"] != w.level || recs[i]["msg"] != w.msg {
			t.Errorf("record %d = %v, want %s %q", i, recs[i], w.level, w.msg)
		}
	}
}

// TestRaftAcceptsIt is the reason the package exists: Raft's config takes
// an hclog.Logger.
func TestRaftAcceptsIt(t *testing.T) {
	sl, records := capture(t, slog.LevelInfo)
	conf := raft.DefaultConfig()
	conf.Logger = New(sl, "raft")
	conf.Logger.Named("fsm").Info("restored", "index", 7)
	if recs := records(); len(recs) != 1 || recs[0]["logger"] != "raft.fsm" {
		t.Errorf("records: %v", recs)
	}
}
