package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// benchReport is bench's -o json: the configuration, then each phase's
// figures. Its shape is stable (TestBenchJSONShape pins it); a field is
// only ever added, with a new version.
type benchReport struct {
	Version int               `json:"version"` // 1
	Config  benchConfigReport `json:"config"`
	Phases  []phaseReport     `json:"phases"`
}

// benchConfigReport is the configuration as run, defaults filled in.
type benchConfigReport struct {
	Workload string `json:"workload"`
	// Mix is each operation's share of the run phase.
	Mix          map[string]float64 `json:"mix"`
	Distribution string             `json:"distribution"`
	Records      int64              `json:"records"`
	Ops          int64              `json:"ops"`
	DurationSec  float64            `json:"duration_sec"`
	Clients      int                `json:"clients"`
	ValueSize    int                `json:"value_size"`
	Type         string             `json:"type"`
	Bucket       string             `json:"bucket"`
	// ReadQuorum and WriteQuorum are "default" for the bucket's.
	ReadQuorum  string `json:"read_quorum"`
	WriteQuorum string `json:"write_quorum"`
	// Rate is the target in operations per second; 0: unthrottled.
	Rate float64 `json:"rate"`
	// CoordinatedOmissionCorrection: latencies are measured from when
	// each operation was due (with a rate).
	CoordinatedOmissionCorrection bool     `json:"coordinated_omission_correction"`
	Seed                          uint64   `json:"seed"`
	Load                          bool     `json:"load"`
	SkipRun                       bool     `json:"skip_run"`
	Nodes                         []string `json:"nodes"`
	TimeoutSec                    float64  `json:"timeout_sec"`
	// Consistent and AllowMult are the bucket's properties as read before
	// the run: they decide what an update sends.
	Consistent bool `json:"consistent"`
	AllowMult  bool `json:"allow_mult"`
}

// phaseReport is one phase: every kind of operation it did, and all of
// them together.
type phaseReport struct {
	Name string `json:"name"` // load or run
	// StoppedBy is limit (the record count or --ops), duration or
	// interrupted.
	StoppedBy  string     `json:"stopped_by"`
	ElapsedSec float64    `json:"elapsed_sec"`
	Ops        []opReport `json:"ops"`
	Total      opReport   `json:"total"`
	// FirstError is the message of the phase's first failed operation.
	FirstError string `json:"first_error"`
}

// opReport is one kind of operation's figures. Count includes the
// errors; OpsPerSec and the latencies are of the successful operations.
type opReport struct {
	Op           string         `json:"op"`
	Count        int64          `json:"count"`
	Errors       int64          `json:"errors"`
	ErrorsByKind errorsByKind   `json:"errors_by_kind"`
	OpsPerSec    float64        `json:"ops_per_sec"`
	LatencyMS    latencyPercent `json:"latency_ms"`
}

type errorsByKind struct {
	NotFound    int64 `json:"not_found"`
	Quorum      int64 `json:"quorum"`
	Conflict    int64 `json:"conflict"`
	Unavailable int64 `json:"unavailable"`
	Timeout     int64 `json:"timeout"`
	Other       int64 `json:"other"`
}

// latencyPercent are latency percentiles in milliseconds.
type latencyPercent struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func (c benchConfig) report(consistent, allowMult bool) benchConfigReport {
	wl, _ := findWorkload(c.Workload)
	mix := map[string]float64{}
	for _, k := range wl.kinds() {
		mix[k.String()] = wl.mix[k]
	}
	return benchConfigReport{
		Workload: wl.name, Mix: mix, Distribution: c.distribution(),
		Records: c.Records, Ops: c.Ops, DurationSec: c.Duration.Seconds(),
		Clients: c.Clients, ValueSize: c.ValueSize, Type: c.Type, Bucket: c.Bucket,
		ReadQuorum: quorumName(string(c.ReadQuorum)), WriteQuorum: quorumName(string(c.WriteQuorum)),
		Rate: c.Rate, CoordinatedOmissionCorrection: c.Rate > 0,
		Seed: c.Seed, Load: c.Load, SkipRun: c.SkipRun, Nodes: c.Nodes, TimeoutSec: c.Timeout.Seconds(),
		Consistent: consistent, AllowMult: allowMult,
	}
}

func quorumName(q string) string {
	if q == "" {
		return "default"
	}
	return q
}

func (r phaseResult) report() phaseReport {
	secs := r.elapsed.Seconds()
	pr := phaseReport{Name: r.name, StoppedBy: r.stoppedBy, ElapsedSec: round(secs, 3), Ops: []opReport{}}
	for _, k := range r.stats.kinds {
		pr.Ops = append(pr.Ops, newOpReport(k.String(), r.stats.ops[k].snapshot(), secs))
	}
	total := r.stats.total()
	pr.Total = newOpReport("total", total, secs)
	if total.firstErr != nil {
		pr.FirstError = total.firstErr.Error()
	}
	return pr
}

func newOpReport(name string, s opSnapshot, secs float64) opReport {
	ok := s.latency.TotalCount()
	errs := s.errorCount()
	r := opReport{
		Op: name, Count: ok + errs, Errors: errs,
		ErrorsByKind: errorsByKind{
			NotFound: s.errors[errNotFound], Quorum: s.errors[errQuorum], Conflict: s.errors[errConflict],
			Unavailable: s.errors[errUnavailable], Timeout: s.errors[errTimeout], Other: s.errors[errOther],
		},
		LatencyMS: percentiles(s.latency),
	}
	if secs > 0 {
		r.OpsPerSec = round(float64(ok)/secs, 1)
	}
	return r
}

func percentiles(h *hdrhistogram.Histogram) latencyPercent {
	if h.TotalCount() == 0 {
		return latencyPercent{}
	}
	ms := func(us int64) float64 { return round(float64(us)/1000, 3) }
	return latencyPercent{
		P50: ms(h.ValueAtQuantile(50)), P95: ms(h.ValueAtQuantile(95)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()),
	}
}

func round(f float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(f*p) / p
}

// printBenchConfig is the table output's first line: what ran.
func printBenchConfig(w io.Writer, c benchConfigReport) {
	var mix []string
	for _, k := range opNames {
		if share, ok := c.Mix[k]; ok {
			mix = append(mix, fmt.Sprintf("%s %g%%", k, round(share*100, 2)))
		}
	}
	rate := "unthrottled"
	if c.Rate > 0 {
		rate = fmt.Sprintf("%g ops/s target, latency from each operation's due time", c.Rate)
	}
	fmt.Fprintf(w, "workload %s (%s), %s keys over %d records, %d clients, %d-byte values, %s/%s, r=%s w=%s, %s, seed %d\n",
		c.Workload, strings.Join(mix, ", "), c.Distribution, c.Records, c.Clients, c.ValueSize,
		c.Type, c.Bucket, c.ReadQuorum, c.WriteQuorum, rate, c.Seed)
}

var stopReasons = map[string]map[string]string{
	"load": {stopLimit: "every record inserted", stopDuration: "stopped at --duration", stopInterrupted: "interrupted"},
	"run":  {stopLimit: "stopped at --ops", stopDuration: "stopped at --duration", stopInterrupted: "interrupted"},
}

// printPhase prints a phase as a table, one row per kind of operation
// and one for them all, then its errors by kind.
func printPhase(w io.Writer, p phaseReport) error {
	fmt.Fprintf(w, "\n%s: %d operations in %.1fs, %s\n", p.Name, p.Total.Count, p.ElapsedSec, stopReasons[p.Name][p.StoppedBy])
	t := newTable(w, "OP", "COUNT", "ERRORS", "OPS/S", "P50 MS", "P95 MS", "P99 MS", "P99.9 MS", "MAX MS")
	rows := p.Ops
	if len(rows) > 1 {
		rows = append(rows[:len(rows):len(rows)], p.Total)
	}
	for _, o := range rows {
		l := o.LatencyMS
		t.row(o.Op, o.Count, o.Errors, fmt.Sprintf("%.0f", o.OpsPerSec),
			ms(l.P50), ms(l.P95), ms(l.P99), ms(l.P999), ms(l.Max))
	}
	if err := t.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "errors: %s\n", errorSummary(p))
	return err
}

func ms(v float64) string { return fmt.Sprintf("%.2f", v) }

// errorSummary is "none", or the counts by kind and the first message.
func errorSummary(p phaseReport) string {
	e := p.Total.ErrorsByKind
	var parts []string
	for i, n := range []int64{e.NotFound, e.Quorum, e.Conflict, e.Unavailable, e.Timeout, e.Other} {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, errKindNames[i]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ") + "; the first: " + p.FirstError
}

// report prints a status line every second until done: the phase, its
// time so far, the operations per second over the last second, the p99
// so far and the errors so far. The line is rewritten in place and wiped
// at the end: it is for a terminal.
func (b *benchRunner) report(p *phase, done <-chan struct{}) {
	tick := b.clock.NewTicker(time.Second)
	defer tick.Stop()
	var lastOps int64
	last := p.start
	for {
		select {
		case <-done:
			fmt.Fprint(b.progress, "\r\033[K")
			return
		case now := <-tick.C():
			t := p.stats.total()
			ops := t.latency.TotalCount() + t.errorCount()
			rate := float64(ops-lastOps) / now.Sub(last).Seconds()
			lastOps, last = ops, now
			fmt.Fprintf(b.progress, "\r\033[K%s %4.0fs  %8.0f ops/s  p99 %s ms  %d errors",
				p.name, now.Sub(p.start).Seconds(), rate, ms(float64(t.latency.ValueAtQuantile(99))/1000), t.errorCount())
		}
	}
}
