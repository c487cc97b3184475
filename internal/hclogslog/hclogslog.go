// Package hclogslog lets libraries that log through go-hclog (Raft, its
// BoltDB store) log through cairn's log/slog handler instead, so that one
// handler decides format, destination and level for the whole process.
//
// Levels map one to one (hclog Trace becomes slog.LevelDebug-4, below
// Debug). A logger's name becomes the "logger" attribute; With arguments
// become slog attributes. SetLevel filters on top of the handler and is
// shared by a logger and every logger derived from it; until it is called
// the handler alone decides, and GetLevel reports the lowest level the
// handler lets through.
package hclogslog

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level hclog's Trace maps to.
const LevelTrace = slog.LevelDebug - 4

// logger implements hclog.Logger on a slog.Logger.
type logger struct {
	sl      *slog.Logger // With args already applied
	name    string
	implied []any
	level   *atomic.Int32 // an hclog.Level; NoLevel: the handler decides
}

var _ hclog.Logger = (*logger)(nil)

// New returns an hclog.Logger that writes to l under name (which may be
// empty).
func New(l *slog.Logger, name string) hclog.Logger {
	return &logger{sl: l, name: name, level: new(atomic.Int32)}
}

func toSlog(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return LevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo // Info, and NoLevel as hclog prints it
}

func (l *logger) enabled(level hclog.Level) bool {
	set := hclog.Level(l.level.Load())
	if set == hclog.Off || level == hclog.Off || (set != hclog.NoLevel && level < set) {
		return false
	}
	return l.sl.Enabled(context.Background(), toSlog(level))
}

// emit logs one record; callers must be exactly one frame above it so the
// record points at the code that called the hclog method.
func (l *logger) emit(level hclog.Level, msg string, args []any) {
	if !l.enabled(level) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // Callers, emit, the hclog method
	r := slog.NewRecord(time.Now(), toSlog(level), msg, pcs[0])
	if l.name != "" {
		r.AddAttrs(slog.String("logger", l.name))
	}
	r.Add(formatArgs(args)...)
	_ = l.sl.Handler().Handle(context.Background(), r)
}

// formatArgs renders hclog.Format values, which hclog treats as Printf
// calls, as strings; everything else passes through to slog.
func formatArgs(args []any) []any {
	out := args
	for i, a := range args {
		f, ok := a.(hclog.Format)
		if !ok || len(f) == 0 {
			continue
		}
		if &out[0] == &args[0] {
			out = slices.Clone(args) // never modify the caller's slice
		}
		if s, ok := f[0].(string); ok {
			out[i] = fmt.Sprintf(s, f[1:]...)
		} else {
			out[i] = fmt.Sprint(f...)
		}
	}
	return out
}

func (l *logger) Log(level hclog.Level, msg string, args ...any) { l.emit(level, msg, args) }
func (l *logger) Trace(msg string, args ...any)                  { l.emit(hclog.Trace, msg, args) }
func (l *logger) Debug(msg string, args ...any)                  { l.emit(hclog.Debug, msg, args) }
func (l *logger) Info(msg string, args ...any)                   { l.emit(hclog.Info, msg, args) }
func (l *logger) Warn(msg string, args ...any)                   { l.emit(hclog.Warn, msg, args) }
func (l *logger) Error(msg string, args ...any)                  { l.emit(hclog.Error, msg, args) }

func (l *logger) IsTrace() bool { return l.enabled(hclog.Trace) }
func (l *logger) IsDebug() bool { return l.enabled(hclog.Debug) }
func (l *logger) IsInfo() bool  { return l.enabled(hclog.Info) }
func (l *logger) IsWarn() bool  { return l.enabled(hclog.Warn) }
func (l *logger) IsError() bool { return l.enabled(hclog.Error) }

// ImpliedArgs returns the arguments given to With, oldest first.
func (l *logger) ImpliedArgs() []any { return slices.Clone(l.implied) }

// With returns a logger that adds args to every record.
func (l *logger) With(args ...any) hclog.Logger {
	c := *l
	c.sl = l.sl.With(formatArgs(args)...)
	c.implied = append(slices.Clone(l.implied), args...)
	return &c
}

func (l *logger) Name() string { return l.name }

// Named appends name to the logger's name, dot-separated as hclog does.
func (l *logger) Named(name string) hclog.Logger {
	c := *l
	if l.name != "" {
		c.name = l.name + "." + name
	} else {
		c.name = name
	}
	return &c
}

func (l *logger) ResetNamed(name string) hclog.Logger {
	c := *l
	c.name = name
	return &c
}

// SetLevel filters out records below level, for this logger and every
// logger it was derived from or derives.
func (l *logger) SetLevel(level hclog.Level) { l.level.Store(int32(level)) }

// GetLevel returns the level set by SetLevel or, before that, the lowest
// level the slog handler accepts.
func (l *logger) GetLevel() hclog.Level {
	if set := hclog.Level(l.level.Load()); set != hclog.NoLevel {
		return set
	}
	for level := hclog.Trace; level <= hclog.Error; level++ {
		if l.sl.Enabled(context.Background(), toSlog(level)) {
			return level
		}
	}
	return hclog.Off
}

// StandardLogger returns a *log.Logger whose lines are logged at Info (or
// as opts say).
func (l *logger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer that logs each line written to it.
func (l *logger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	w := &stdWriter{l: l}
	if opts != nil {
		w.opts = *opts
	}
	return w
}

// stdWriter logs lines written by a log.Logger.
type stdWriter struct {
	l    *logger
	opts hclog.StandardLoggerOptions
}

// levelTags are the prefixes InferLevels recognises, as hclog does.
var levelTags = []struct {
	tag   string
	level hclog.Level
}{
	{"[TRACE]", hclog.Trace},
	{"[DEBUG]", hclog.Debug},
	{"[INFO]", hclog.Info},
	{"[WARN]", hclog.Warn},
	{"[ERR]", hclog.Error},
	{"[ERROR]", hclog.Error},
}

func (w *stdWriter) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		level, msg := w.classify(line)
		w.l.emit(level, msg, nil)
	}
	return len(p), nil
}

// classify picks the level for a line and strips its level tag.
func (w *stdWriter) classify(line string) (hclog.Level, string) {
	level, msg := hclog.Info, line
	for _, t := range levelTags {
		i := strings.Index(line, t.tag)
		if i < 0 || (i > 0 && !w.opts.InferLevelsWithTimestamp) {
			continue
		}
		level, msg = t.level, strings.TrimSpace(line[i+len(t.tag):])
		break
	}
	switch {
	case w.opts.ForceLevel != hclog.NoLevel:
		return w.opts.ForceLevel, msg
	case w.opts.InferLevels:
		return level, msg
	}
	return hclog.Info, line
}
