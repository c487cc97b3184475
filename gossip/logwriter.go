package gossip

import (
	"context"
	"log/slog"
	"strings"
)

// logWriter is the io.Writer under the *log.Logger memberlist is given. It
// turns memberlist's lines ("[WARN] memberlist: message") into slog
// records at the matching level, so one handler decides format and level
// for the whole process.
//
// It also reports this node's failed probes. memberlist has no callback
// for suspicion (hashicorp/memberlist#266: a Node's State field is never
// set), and the line its prober logs just before it suspects a member is
// the only sign of it outside memberlist's locks.
type logWriter struct {
	logger    *slog.Logger
	onSuspect func(node string) // may be nil
}

// The line memberlist v0.7.0 logs (at INFO) when a probe gets no ack,
// direct, indirect or over TCP, right before it marks the member suspect.
const (
	suspectPrefix = "Suspect "
	suspectSuffix = " has failed, no acks received"
)

func (w *logWriter) Write(p []byte) (int, error) {
	level, msg := parseLogLine(string(p))
	if level == slog.LevelInfo && w.onSuspect != nil {
		if node, ok := suspectedNode(msg); ok {
			w.onSuspect(node)
		}
	}
	ctx := context.Background()
	if w.logger.Enabled(ctx, level) {
		w.logger.Log(ctx, level, msg, "component", "memberlist")
	}
	return len(p), nil
}

// parseLogLine splits a memberlist log line into its level and message,
// without the level tag, the "memberlist: " prefix and the newline. An
// untagged line is INFO.
func parseLogLine(line string) (slog.Level, string) {
	line = strings.TrimRight(line, "\r\n")
	level := slog.LevelInfo
	if rest, ok := strings.CutPrefix(line, "["); ok {
		if tag, msg, ok := strings.Cut(rest, "] "); ok {
			switch tag {
			case "TRACE", "DEBUG":
				level, line = slog.LevelDebug, msg
			case "INFO":
				level, line = slog.LevelInfo, msg
			case "WARN", "WARNING":
				level, line = slog.LevelWarn, msg
			case "ERR", "ERROR":
				level, line = slog.LevelError, msg
			}
		}
	}
	return level, strings.TrimPrefix(line, "memberlist: ")
}

func suspectedNode(msg string) (string, bool) {
	node, ok := strings.CutPrefix(msg, suspectPrefix)
	if !ok {
		return "", false
	}
	node, ok = strings.CutSuffix(node, suspectSuffix)
	return node, ok && node != ""
}
