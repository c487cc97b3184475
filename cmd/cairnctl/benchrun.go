package main

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn/clock"
)

// benchTarget runs one operation on the store. Clients call do
// concurrently; value is only read, and only until do returns.
type benchTarget interface {
	do(ctx context.Context, op opKind, key string, value []byte) error
}

// Why a phase stopped.
const (
	stopLimit       = "limit"       // the record count (load) or --ops (run)
	stopDuration    = "duration"    // --duration
	stopInterrupted = "interrupted" // the command's context ended (Ctrl-C)
)

// benchRunner runs the phases of one bench configuration: each client a
// goroutine that draws operations and keys and sends them one at a time.
type benchRunner struct {
	cfg    benchConfig
	wl     workload
	target benchTarget
	clock  clock.Clock
	// progress, when not nil, gets a status line every second.
	progress io.Writer
}

// phaseResult is what a phase did: the figures and why it stopped.
type phaseResult struct {
	name      string
	stoppedBy string
	elapsed   time.Duration
	stats     *phaseStats
	// issued is how many operations the clients started.
	issued int64
}

// phase is one phase in progress.
type phase struct {
	name     string
	start    time.Time
	deadline time.Time
	maxOps   int64
	stats    *phaseStats
	issued   atomic.Int64

	stopOnce  sync.Once
	stoppedBy string
}

func (p *phase) stop(reason string) { p.stopOnce.Do(func() { p.stoppedBy = reason }) }

// benchClient is one client's state: random sources and a key chooser of
// its own, so that with the same seed each client draws the same
// operations, keys and values on every run.
type benchClient struct {
	id     int
	rng    *rand.Rand
	values *rand.ChaCha8
	keys   keyChooser
	value  []byte
}

func (b *benchRunner) newClients(phaseNo uint64, keys func() keyChooser) []*benchClient {
	cs := make([]*benchClient, b.cfg.Clients)
	for i := range cs {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[0:], b.cfg.Seed)
		binary.LittleEndian.PutUint64(seed[8:], phaseNo)
		binary.LittleEndian.PutUint64(seed[16:], uint64(i))
		cs[i] = &benchClient{
			id:     i,
			rng:    rand.New(rand.NewPCG(b.cfg.Seed, phaseNo<<32|uint64(i))),
			values: rand.NewChaCha8(seed),
			keys:   keys(),
			value:  make([]byte, b.cfg.ValueSize),
		}
	}
	return cs
}

// phasePlan is what a phase does.
type phasePlan struct {
	name   string
	kinds  []opKind
	maxOps int64
	// draw picks a client's next operation and key; seq numbers the
	// phase's operations from 0.
	draw func(c *benchClient, seq int64) (opKind, int64)
	// done, if not nil, is told of each operation once it is answered.
	done func(op opKind, key int64)
}

// load inserts keys 0 to Records-1.
func (b *benchRunner) load(ctx context.Context) phaseResult {
	return b.runPhase(ctx, phasePlan{
		name: "load", kinds: []opKind{opInsert}, maxOps: b.cfg.Records,
		draw: func(_ *benchClient, seq int64) (opKind, int64) { return opInsert, seq },
	}, b.newClients(1, func() keyChooser { return uniform{} }))
}

// run runs the workload over the keys 0 to records-1 and those it
// inserts itself.
func (b *benchRunner) run(ctx context.Context, records int64) phaseResult {
	inserts := newInsertCounter(records)
	return b.runPhase(ctx, phasePlan{
		name: "run", kinds: b.wl.kinds(), maxOps: b.cfg.Ops,
		draw: func(c *benchClient, _ int64) (opKind, int64) {
			op := b.wl.pick(c.rng)
			if op == opInsert {
				return op, inserts.take()
			}
			return op, c.keys.next(c.rng, inserts.count())
		},
		done: func(op opKind, key int64) {
			if op == opInsert {
				inserts.ack(key)
			}
		},
	}, b.newClients(2, newKeyChoosers(b.cfg.distribution(), records)))
}

// runPhase runs the clients until the operations, the duration or ctx
// run out.
func (b *benchRunner) runPhase(ctx context.Context, plan phasePlan, cs []*benchClient) phaseResult {
	start := b.clock.Now()
	p := &phase{name: plan.name, start: start, deadline: start.Add(b.cfg.Duration), maxOps: plan.maxOps,
		stats: newPhaseStats(plan.kinds)}
	done := make(chan struct{})
	var progress sync.WaitGroup
	if b.progress != nil {
		progress.Go(func() { b.report(p, done) })
	}
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { b.client(ctx, p, plan, c) })
	}
	wg.Wait()
	close(done)
	progress.Wait()
	return phaseResult{name: plan.name, stoppedBy: p.stoppedBy, elapsed: b.clock.Since(start), stats: p.stats,
		issued: min(p.issued.Load(), plan.maxOps)}
}

// client sends one client's operations, one at a time.
//
// Without a rate, a client sends its next operation as soon as the last
// one is answered, and an operation's latency is its service time. With a
// rate, client i of C sends its j-th operation at start + (i + j*C)/rate,
// so that the clients together keep an even schedule, and an operation
// sent late because the one before it was slow has its latency measured
// from when it was due. Otherwise a stall would hold back the operations
// queued behind it without any of them reporting the wait (coordinated
// omission).
func (b *benchRunner) client(ctx context.Context, p *phase, plan phasePlan, c *benchClient) {
	for j := int64(0); ; j++ {
		if ctx.Err() != nil {
			p.stop(stopInterrupted)
			return
		}
		due := b.clock.Now()
		if b.cfg.Rate > 0 {
			due = dueAt(p.start, b.cfg.Rate, b.cfg.Clients, c.id, j)
		}
		if !due.Before(p.deadline) {
			p.stop(stopDuration)
			return
		}
		seq := p.issued.Add(1) - 1
		if seq >= p.maxOps {
			p.stop(stopLimit)
			return
		}
		if err := sleepUntil(ctx, b.clock, due); err != nil {
			p.stop(stopInterrupted)
			return
		}
		op, key := plan.draw(c, seq)
		var value []byte
		if op.writes() {
			_, _ = c.values.Read(c.value) // never fails
			value = c.value
		}
		begin := due
		if b.cfg.Rate == 0 {
			begin = b.clock.Now()
		}
		err := b.target.do(ctx, op, benchKey(key), value)
		took := b.clock.Since(begin)
		if plan.done != nil {
			plan.done(op, key)
		}
		if ctx.Err() != nil {
			// Cut short by the interrupt: neither a latency nor an error.
			p.stop(stopInterrupted)
			return
		}
		p.stats.ops[op].record(took, err)
	}
}

// dueAt is when client id of clients sends its j-th operation (from 0)
// for all of them together to send rate operations per second.
func dueAt(start time.Time, rate float64, clients, id int, j int64) time.Time {
	n := float64(int64(id) + j*int64(clients)) // the operation's place in the whole schedule
	return start.Add(time.Duration(n / rate * float64(time.Second)))
}

// sleepUntil waits until t on clk, or until ctx ends.
func sleepUntil(ctx context.Context, clk clock.Clock, t time.Time) error {
	d := t.Sub(clk.Now())
	if d <= 0 {
		return nil
	}
	tm := clk.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
