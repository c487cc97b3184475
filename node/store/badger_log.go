package store

import (
	"fmt"
	"log/slog"
	"strings"
)

// badgerLogger adapts Badger's printf-style logger to slog. Badger is chatty
// at info level (every compaction, every memtable flush), so only its
// warnings and errors get through.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(format string, args ...any) {
	b.l.Error(badgerMessage(format, args), "component", "badger")
}

func (b badgerLogger) Warningf(format string, args ...any) {
	b.l.Warn(badgerMessage(format, args), "component", "badger")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}

func badgerMessage(format string, args []any) string {
	return strings.TrimRight(fmt.Sprintf(format, args...), "\n")
}
