package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestWorkloadMix(t *testing.T) {
	const count = 100_000
	for _, w := range benchWorkloads {
		var sum float64
		for _, share := range w.mix {
			sum += share
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("workload %s: shares sum to %g", w.name, sum)
		}
		r := rand.New(rand.NewPCG(1, 0))
		var got [numOpKinds]int
		for range count {
			got[w.pick(r)]++
		}
		for k, share := range w.mix {
			if f := float64(got[k]) / count; math.Abs(f-share) > 0.005 {
				t.Errorf("workload %s: %s %.4f of the operations, want %.2f", w.name, opKind(k), f, share)
			}
		}
	}
}

func TestWorkloadsAreYCSBs(t *testing.T) {
	for _, tc := range []struct {
		name string
		mix  map[opKind]float64
		keys string
	}{
		{"a", map[opKind]float64{opRead: 0.5, opUpdate: 0.5}, "zipfian"},
		{"b", map[opKind]float64{opRead: 0.95, opUpdate: 0.05}, "zipfian"},
		{"c", map[opKind]float64{opRead: 1}, "zipfian"},
		{"d", map[opKind]float64{opRead: 0.95, opInsert: 0.05}, "latest"},
		{"f", map[opKind]float64{opRead: 0.5, opRMW: 0.5}, "zipfian"},
		{"put-only", map[opKind]float64{opPut: 1}, "uniform"},
	} {
		w, ok := findWorkload(tc.name)
		if !ok {
			t.Errorf("no workload %s", tc.name)
			continue
		}
		for k := range numOpKinds {
			if w.mix[k] != tc.mix[k] {
				t.Errorf("workload %s: %s %g, want %g", tc.name, k, w.mix[k], tc.mix[k])
			}
		}
		if w.keys != tc.keys {
			t.Errorf("workload %s: %s keys, want %s", tc.name, w.keys, tc.keys)
		}
	}
	if _, ok := findWorkload("A"); !ok {
		t.Errorf("workload names are not case-insensitive")
	}
}
