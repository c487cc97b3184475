package gopool

import (
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"weak"
)

func TestReusesParkedGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(4)
		defer p.Close()
		ran := 0
		for range 10 {
			p.Go(func() { ran++ })
			synctest.Wait() // the function has run and its goroutine parked
		}
		if ran != 10 {
			t.Fatalf("ran %d functions, want 10", ran)
		}
		if got := p.started.Load(); got != 1 {
			t.Fatalf("started %d goroutines for 10 functions one after another, want 1", got)
		}
		if got := p.Idle(); got != 1 {
			t.Fatalf("Idle = %d, want 1", got)
		}
	})
}

func TestNeverQueues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(1)
		defer p.Close()
		release := make(chan struct{})
		var running sync.WaitGroup
		running.Add(3)
		for range 3 {
			// Each blocks until released: had Go queued the next behind
			// it, running.Wait would never return.
			p.Go(func() {
				running.Done()
				<-release
			})
		}
		running.Wait()
		close(release)
		synctest.Wait()
		if got := p.started.Load(); got != 3 {
			t.Fatalf("started %d goroutines for 3 functions at once, want 3", got)
		}
	})
}

func TestIdleBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(2)
		defer p.Close()
		release := make(chan struct{})
		for range 8 {
			p.Go(func() { <-release })
		}
		synctest.Wait()
		close(release)
		synctest.Wait()
		if got := p.Idle(); got != 2 {
			t.Fatalf("Idle = %d after 8 functions returned, want the bound 2", got)
		}
		// The pool's own count: runtime.NumGoroutine counts the whole
		// process, where goroutines of other tests and of the runtime come
		// and go (it failed a CI run with 5).
		if got, started := p.exited.Load(), p.started.Load(); got != 6 || started != 8 {
			t.Fatalf("%d of %d goroutines exited, want 6 of 8", got, started)
		}
	})
}

func TestCloseWaitsForFunctions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(2)
		release := make(chan struct{})
		p.Go(func() { <-release })
		p.Go(func() {})
		synctest.Wait()
		closed := make(chan struct{})
		go func() {
			p.Close()
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a function was running")
		default:
		}
		close(release)
		<-closed
		if got := p.Idle(); got != 1 {
			// The goroutine that finished last counted itself idle, then
			// saw the pool closed; the count is not reset, which is harmless.
			t.Logf("Idle after Close = %d", got)
		}
		p.Close() // again: a no-op
	})
}

// deep uses about n KiB of stack, as a Badger read does.
//
//go:noinline
func deep(n int) byte {
	var buf [1024]byte
	buf[n%len(buf)] = byte(n)
	if n == 0 {
		return buf[0]
	}
	return deep(n-1) + buf[n%len(buf)]
}

// BenchmarkGo runs a function with a 16 KiB deep stack on the pool, one
// after another from one caller; BenchmarkGoStatement starts a goroutine
// for each, whose stack grows from the start every time.
func BenchmarkGo(b *testing.B) {
	p := New(64)
	defer p.Close()
	benchmarkSpawn(b, p.Go)
}

func BenchmarkGoStatement(b *testing.B) {
	benchmarkSpawn(b, func(f func()) { go f() })
}

func benchmarkSpawn(b *testing.B, spawn func(func())) {
	var wg sync.WaitGroup
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		spawn(func() {
			deep(16)
			wg.Done()
		})
		wg.Wait()
	}
}

func TestParkedGoroutineDropsItsFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(1)
		defer p.Close()
		var held weak.Pointer[[64 << 20]byte]
		// In a function of its own, so that only the function run holds big.
		func() {
			big := new([64 << 20]byte)
			held = weak.Make(big)
			p.Go(func() { big[0] = 1 })
		}()
		synctest.Wait() // the function has run; its goroutine is parked
		runtime.GC()
		if held.Value() != nil {
			t.Fatal("a parked goroutine keeps its last function, and what it holds, alive")
		}
	})
}
