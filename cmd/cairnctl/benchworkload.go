package main

import (
	"math/rand/v2"
	"strings"
)

// opKind is one kind of bench operation.
type opKind int

// The operations of the workloads. Their meaning on a cairn bucket:
//   - read: a Get of an existing key.
//   - update: YCSB's update of an existing key, as YCSB's Riak binding
//     does it: one blind Put (no context) on an eventually consistent
//     bucket; a Get, then a Put with the Get's context, on a consistent
//     one, where only the current version's context may overwrite a key.
//   - insert: a Put of a new key, no context.
//   - rmw: a Get, then a Put of a new value with the Get's context
//     (YCSB's read-modify-write), on any bucket.
//   - put: one blind Put of an existing key, whatever the bucket: the
//     write path alone, one HTTP request per operation.
const (
	opRead opKind = iota
	opUpdate
	opInsert
	opRMW
	opPut
	numOpKinds
)

var opNames = [numOpKinds]string{"read", "update", "insert", "rmw", "put"}

func (k opKind) String() string { return opNames[k] }

// writes reports whether the operation sends a value.
func (k opKind) writes() bool { return k != opRead }

// workload is a mix of operations and the key distribution it uses
// unless told otherwise: YCSB's core workloads, and put-only.
type workload struct {
	name  string
	about string
	mix   [numOpKinds]float64 // shares, summing to 1
	keys  string              // the default distribution
}

var benchWorkloads = []workload{
	{name: "a", about: "update heavy: 50% read, 50% update", keys: "zipfian",
		mix: [numOpKinds]float64{opRead: 0.5, opUpdate: 0.5}},
	{name: "b", about: "read mostly: 95% read, 5% update", keys: "zipfian",
		mix: [numOpKinds]float64{opRead: 0.95, opUpdate: 0.05}},
	{name: "c", about: "read only", keys: "zipfian",
		mix: [numOpKinds]float64{opRead: 1}},
	{name: "d", about: "read latest: 95% read, 5% insert, reads favour the newest keys", keys: "latest",
		mix: [numOpKinds]float64{opRead: 0.95, opInsert: 0.05}},
	{name: "f", about: "read-modify-write: 50% read, 50% read then write with the read's context", keys: "zipfian",
		mix: [numOpKinds]float64{opRead: 0.5, opRMW: 0.5}},
	{name: "put-only", about: "100% put: one blind Put per operation", keys: "uniform",
		mix: [numOpKinds]float64{opPut: 1}},
}

// findWorkload looks a workload up by name, in any case.
func findWorkload(name string) (workload, bool) {
	for _, w := range benchWorkloads {
		if strings.EqualFold(w.name, name) {
			return w, true
		}
	}
	return workload{}, false
}

func workloadNames() string {
	names := make([]string, len(benchWorkloads))
	for i, w := range benchWorkloads {
		names[i] = w.name
	}
	return strings.Join(names, ", ")
}

// pick draws the next operation.
func (w workload) pick(r *rand.Rand) opKind {
	u := r.Float64()
	last := opRead
	for k, share := range w.mix {
		if share == 0 {
			continue
		}
		if u < share {
			return opKind(k)
		}
		u -= share
		last = opKind(k)
	}
	return last // rounding: u was within an ulp of 1
}

// kinds are the operations the workload does, in opKind order.
func (w workload) kinds() []opKind {
	var ks []opKind
	for k, share := range w.mix {
		if share > 0 {
			ks = append(ks, opKind(k))
		}
	}
	return ks
}

// has reports whether the workload does any of ks.
func (w workload) has(ks ...opKind) bool {
	for _, k := range ks {
		if w.mix[k] > 0 {
			return true
		}
	}
	return false
}
