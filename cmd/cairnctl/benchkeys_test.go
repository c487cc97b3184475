package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBenchKey(t *testing.T) {
	for i, want := range map[int64]string{0: "user0000000000", 42: "user0000000042", maxBenchRecords + maxBenchOps: "user1100000000"} {
		if got := benchKey(i); got != want {
			t.Errorf("benchKey(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestZeta(t *testing.T) {
	// YCSB's precomputed zeta of its ten billion items.
	if got := zeta(ycsbItemCount, zipfianConstant); math.Abs(got-ycsbZetan)/ycsbZetan > 1e-9 {
		t.Errorf("zeta(1e10) = %.15g, YCSB has %.15g", got, ycsbZetan)
	}
	// The tail approximation against the plain sum.
	n := int64(3 * zetaExactTerms)
	var exact float64
	for i := int64(1); i <= n; i++ {
		exact += math.Pow(float64(i), -zipfianConstant)
	}
	if got := zeta(n, zipfianConstant); math.Abs(got-exact)/exact > 1e-12 {
		t.Errorf("zeta(%d) = %.15g, summed %.15g", n, got, exact)
	}
	// Growing an item count extends zeta: by a few terms, or anew.
	z := newZipfian(1000, zipfianConstant)
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int64{1001, 1500, 1500 + 2*zetaExactTerms} {
		z.next(r, n)
		if want := zeta(n, zipfianConstant); math.Abs(z.zetan-want)/want > 1e-12 {
			t.Errorf("grown to %d: zetan %.15g, want %.15g", n, z.zetan, want)
		}
	}
}

// draws counts how often each key of n comes out of k in draws draws.
func draws(k keyChooser, n int64, count int) []int {
	r := rand.New(rand.NewPCG(7, 11))
	hits := make([]int, n)
	for range count {
		hits[k.next(r, n)]++
	}
	return hits
}

// topShare is the share of the draws that went to the most drawn
// fraction of the keys.
func topShare(hits []int, fraction float64) float64 {
	sorted := slices.Clone(hits)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	top, all := 0, 0
	for i, h := range sorted {
		if i < int(float64(len(sorted))*fraction) {
			top += h
		}
		all += h
	}
	return float64(top) / float64(all)
}

func TestUniformKeys(t *testing.T) {
	const n, count = 1000, 200_000
	hits := draws(newKeyChoosers("uniform", n)(), n, count)
	// Every tenth of the range gets a tenth of the draws.
	for d := range 10 {
		var s int
		for _, h := range hits[d*n/10 : (d+1)*n/10] {
			s += h
		}
		if share := float64(s) / count; math.Abs(share-0.1) > 0.005 {
			t.Errorf("keys %d-%d: %.3f of the draws, want 0.1", d*n/10, (d+1)*n/10-1, share)
		}
	}
	if share := topShare(hits, 0.01); share > 0.015 {
		t.Errorf("the top 1%% of keys got %.3f of the draws", share)
	}
}

func TestZipfianKeys(t *testing.T) {
	const n, count = 1000, 200_000
	hits := draws(newKeyChoosers("zipfian", n)(), n, count)
	// YCSB's scrambled zipfian: the ten hottest keys of a thousand get
	// about 13% of the draws (uniform: 1%), and they are scattered.
	share := topShare(hits, 0.01)
	if share < 0.08 || share > 0.2 {
		t.Errorf("the top 1%% of keys got %.3f of the draws, want about 0.13", share)
	}
	var hottest []int
	for i, h := range hits {
		if h > count/200 {
			hottest = append(hottest, i)
		}
	}
	if len(hottest) < 3 || hottest[len(hottest)-1]-hottest[0] < n/4 {
		t.Errorf("hottest keys %v: want several, spread over the range", hottest)
	}
	// Most keys are drawn at all: skewed, not collapsed.
	drawn := 0
	for _, h := range hits {
		if h > 0 {
			drawn++
		}
	}
	if drawn < n*9/10 {
		t.Errorf("%d of %d keys drawn", drawn, n)
	}
}

func TestZipfianUnscrambled(t *testing.T) {
	const n, count = 1000, 200_000
	z := newZipfian(n, zipfianConstant)
	r := rand.New(rand.NewPCG(3, 4))
	hits := make([]int, n)
	for range count {
		hits[z.next(r, n)]++
	}
	// P(i) = 1/((i+1)^theta zeta(n)): exactly for the first two, which
	// Gray's method draws apart; the rest approximately.
	zn := zeta(n, zipfianConstant)
	for _, i := range []int{0, 1} {
		want := math.Pow(float64(i+1), -zipfianConstant) / zn
		if got := float64(hits[i]) / count; math.Abs(got-want) > 0.05*want {
			t.Errorf("P(%d) = %.4f, want %.4f", i, got, want)
		}
	}
	var top int
	for _, h := range hits[:n/100] {
		top += h
	}
	if got, want := float64(top)/count, zeta(n/100, zipfianConstant)/zn; math.Abs(got-want) > 0.1*want {
		t.Errorf("P(i < %d) = %.4f, want about %.4f", n/100, got, want)
	}
	for i := 1; i < n; i *= 4 {
		if hits[i] > hits[i/2] {
			t.Errorf("key %d drawn %d times, more than key %d: %d", i, hits[i], i/2, hits[i/2])
		}
	}
}

func TestLatestKeys(t *testing.T) {
	const n, count = 1000, 200_000
	k := newKeyChoosers("latest", n)()
	hits := draws(k, n, count)
	// The newest key is the most drawn; the newest 1% get zeta(10)/zeta(1000),
	// about 39%, of the draws.
	if i := slices.Index(hits, slices.Max(hits)); i != n-1 {
		t.Errorf("most drawn key %d, want the newest, %d", i, n-1)
	}
	var newest int
	for _, h := range hits[n-n/100:] {
		newest += h
	}
	if share := float64(newest) / count; share < 0.33 || share > 0.45 {
		t.Errorf("the newest 1%% of keys got %.3f of the draws, want about 0.39", share)
	}
	// As keys are inserted, the newest follows.
	hits = draws(k, n+100, count)
	if i := slices.Index(hits, slices.Max(hits)); i != n+99 {
		t.Errorf("after 100 inserts, most drawn key %d, want %d", i, n+99)
	}
}

func TestInsertCounter(t *testing.T) {
	c := newInsertCounter(10)
	a, b, d := c.take(), c.take(), c.take()
	if a != 10 || b != 11 || d != 12 || c.count() != 10 {
		t.Fatalf("took %d %d %d, count %d", a, b, d, c.count())
	}
	// Keys are chosen below the first one not yet inserted.
	c.ack(12)
	c.ack(11)
	if c.count() != 10 {
		t.Errorf("count %d with key 10 in flight, want 10", c.count())
	}
	c.ack(10)
	if c.count() != 13 || len(c.done) != 0 {
		t.Errorf("count %d, %d left over, want 13 and none", c.count(), len(c.done))
	}
}
