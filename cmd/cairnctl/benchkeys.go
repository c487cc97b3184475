package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// Keys are YCSB's: "user" and the record's index, zero-padded so that
// every index a run can reach (maxBenchRecords + maxBenchOps) has the
// same width.
func benchKey(i int64) string { return fmt.Sprintf("user%010d", i) }

// zipfianConstant is YCSB's default skew.
const zipfianConstant = 0.99

// keyChooser picks the index of an existing key among the n inserted so
// far, [0, n). A chooser belongs to one client; it is not safe for
// concurrent use.
type keyChooser interface {
	next(r *rand.Rand, n int64) int64
}

func validDistribution(name string) bool {
	switch name {
	case "uniform", "zipfian", "latest":
		return true
	}
	return false
}

// newKeyChoosers returns a constructor of one distribution's choosers,
// one per client, for n records to start with. What all of them share
// (a zeta sum over n) is computed once, here.
func newKeyChoosers(distribution string, n int64) func() keyChooser {
	switch distribution {
	case "zipfian":
		return func() keyChooser {
			return &scrambledZipfian{z: newZipfianZeta(ycsbItemCount, zipfianConstant, ycsbZetan)}
		}
	case "latest":
		base := newZipfian(n, zipfianConstant)
		return func() keyChooser { return &latest{z: base} }
	}
	return func() keyChooser { return uniform{} }
}

// uniform: every key alike.
type uniform struct{}

func (uniform) next(r *rand.Rand, n int64) int64 { return r.Int64N(n) }

// YCSB's ScrambledZipfianGenerator draws from a zipfian over ten billion
// items, whose zeta it has precomputed, and hashes the draw into the key
// range: the popular keys are spread over the range instead of being its
// first ones, and the skew does not depend on the record count.
const (
	ycsbItemCount = 10_000_000_000
	ycsbZetan     = 26.46902820178302 // zeta(ycsbItemCount, 0.99)
)

// scrambledZipfian is YCSB's scrambled zipfian.
type scrambledZipfian struct{ z zipfian }

func (s *scrambledZipfian) next(r *rand.Rand, n int64) int64 {
	return int64(ycsbHash(uint64(s.z.next(r, ycsbItemCount))) % uint64(n))
}

// ycsbHash is YCSB's Utils.fnvhash64: FNV-1a over the value's eight
// bytes, least significant first, made non-negative as Java's Math.abs
// does.
func ycsbHash(v uint64) uint64 {
	h := uint64(0xcbf29ce484222325)
	for range 8 {
		h ^= v & 0xff
		h *= 1099511628211
		v >>= 8
	}
	if int64(h) < 0 {
		h = uint64(-int64(h))
	}
	return h
}

// latest is YCSB's SkewedLatestGenerator: a zipfian over the age of the
// keys, so that the newest key is the most popular.
type latest struct{ z zipfian }

func (l *latest) next(r *rand.Rand, n int64) int64 { return n - 1 - l.z.next(r, n) }

// zipfian draws from [0, n), 0 the most popular, with P(i) proportional
// to 1/(i+1)^theta: YCSB's ZipfianGenerator, after Gray et al., "Quickly
// generating billion-record synthetic databases" (SIGMOD 1994). n may
// grow from one draw to the next (the latest distribution, as keys are
// inserted); zeta is then extended rather than recomputed.
type zipfian struct {
	theta, alpha, zeta2, halfPowTheta float64

	n     int64   // the item count zetan and eta are for
	zetan float64 // zeta(n, theta)
	eta   float64
}

func newZipfian(n int64, theta float64) zipfian {
	return newZipfianZeta(n, theta, zeta(n, theta))
}

// newZipfianZeta is newZipfian with zeta(n, theta) given.
func newZipfianZeta(n int64, theta, zetan float64) zipfian {
	z := zipfian{theta: theta, alpha: 1 / (1 - theta), zeta2: zeta(2, theta), halfPowTheta: math.Pow(0.5, theta)}
	z.setN(n, zetan)
	return z
}

func (z *zipfian) setN(n int64, zetan float64) {
	z.n, z.zetan = n, zetan
	z.eta = (1 - math.Pow(2/float64(n), 1-z.theta)) / (1 - z.zeta2/zetan)
}

func (z *zipfian) next(r *rand.Rand, n int64) int64 {
	if n <= 1 {
		return 0
	}
	if n != z.n {
		z.resize(n)
	}
	u := r.Float64()
	uz := u * z.zetan
	switch {
	case uz < 1:
		return 0
	case uz < 1+z.halfPowTheta:
		return 1
	}
	return min(int64(float64(n)*math.Pow(z.eta*u-z.eta+1, z.alpha)), n-1)
}

// resize moves zeta to n items: the terms between the two counts are
// added when they are few, else zeta is computed anew.
func (z *zipfian) resize(n int64) {
	if n > z.n && n-z.n <= zetaExactTerms {
		zetan := z.zetan
		for i := z.n + 1; i <= n; i++ {
			zetan += math.Pow(float64(i), -z.theta)
		}
		z.setN(n, zetan)
		return
	}
	z.setN(n, zeta(n, z.theta))
}

// zetaExactTerms is how many terms zeta sums one by one; beyond, the tail
// is the Euler-Maclaurin approximation, exact to about 1e-15 there.
const zetaExactTerms = 1 << 16

// zeta is the sum of 1/i^theta for i from 1 to n.
func zeta(n int64, theta float64) float64 {
	f := func(x float64) float64 { return math.Pow(x, -theta) }
	if n <= zetaExactTerms {
		var s float64
		for i := int64(1); i <= n; i++ {
			s += f(float64(i))
		}
		return s
	}
	var s float64
	for i := int64(1); i < zetaExactTerms; i++ {
		s += f(float64(i))
	}
	// The sum of f(i) for i from m to n: the integral, the end points'
	// halves, and the first derivative correction.
	m, x := float64(zetaExactTerms), float64(n)
	df := func(x float64) float64 { return -theta * math.Pow(x, -theta-1) }
	s += (math.Pow(x, 1-theta)-math.Pow(m, 1-theta))/(1-theta) + (f(m)+f(x))/2 + (df(x)-df(m))/12
	return s
}

// insertCounter hands out the indexes of new keys and knows how many of
// them are done: keys are chosen below that, never one still being
// inserted (YCSB's AcknowledgedCounterGenerator). A failed insert counts
// as done: its key is then missing, which the reads of it report.
type insertCounter struct {
	next  atomic.Int64
	limit atomic.Int64 // every index below it is done

	mu   sync.Mutex
	done map[int64]bool // done, above limit
}

// newInsertCounter starts with the n keys of the load phase done.
func newInsertCounter(n int64) *insertCounter {
	c := &insertCounter{done: map[int64]bool{}}
	c.next.Store(n)
	c.limit.Store(n)
	return c
}

// take returns the index of the next new key.
func (c *insertCounter) take() int64 { return c.next.Add(1) - 1 }

// ack marks the key i as inserted.
func (c *insertCounter) ack(i int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := c.limit.Load()
	if i != limit {
		c.done[i] = true
		return
	}
	for limit++; c.done[limit]; limit++ {
		delete(c.done, limit)
	}
	c.limit.Store(limit)
}

// count is how many keys exist: the index of the first not yet done.
func (c *insertCounter) count() int64 { return c.limit.Load() }
