package lincheck

import (
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

func TestModel(t *testing.T) {
	op := func(c int, call, ret int64, in Input, out Output) porcupine.Operation {
		if out.Unknown {
			ret = Infinity
		}
		return porcupine.Operation{ClientId: c, Input: in, Output: out, Call: call, Return: ret}
	}
	create := func(k, to string) Input { return Input{Key: k, Kind: Create, To: to} }
	cas := func(k, from, to string) Input { return Input{Key: k, Kind: CAS, From: from, To: to} }
	del := func(k, from string) Input { return Input{Key: k, Kind: Delete, From: from} }
	read := Input{Key: "a", Kind: Read}
	ok, refused, unknown := Output{OK: true}, Output{}, Output{Unknown: true}
	val := func(v string) Output { return Output{Value: v} }
	for _, c := range []struct {
		name string
		ops  []porcupine.Operation
		want porcupine.CheckResult
	}{
		{"create then read", []porcupine.Operation{op(0, 0, 1, create("a", "x"), ok), op(1, 2, 3, read, val("x"))}, porcupine.Ok},
		{"stale read", []porcupine.Operation{op(0, 0, 1, create("a", "x"), ok), op(1, 2, 3, read, val(""))}, porcupine.Illegal},
		{"concurrent read may miss", []porcupine.Operation{op(0, 0, 3, create("a", "x"), ok), op(1, 1, 2, read, val(""))}, porcupine.Ok},
		{"second create refused", []porcupine.Operation{op(0, 0, 1, create("a", "x"), ok), op(1, 2, 3, create("a", "y"), refused)}, porcupine.Ok},
		{"second create applied", []porcupine.Operation{op(0, 0, 1, create("a", "x"), ok), op(1, 2, 3, create("a", "y"), ok)}, porcupine.Illegal},
		{"cas on stale value applied", []porcupine.Operation{
			op(0, 0, 1, create("a", "x"), ok), op(0, 2, 3, cas("a", "x", "y"), ok), op(1, 4, 5, cas("a", "x", "z"), ok)}, porcupine.Illegal},
		{"unknown write seen later", []porcupine.Operation{
			op(0, 0, 1, create("a", "x"), unknown), op(1, 10, 11, read, val("x"))}, porcupine.Ok},
		{"unknown write never seen", []porcupine.Operation{
			op(0, 0, 1, create("a", "x"), unknown), op(1, 10, 11, read, val(""))}, porcupine.Ok},
		{"read of a value never written", []porcupine.Operation{op(1, 0, 1, read, val("q"))}, porcupine.Illegal},
		{"delete then create", []porcupine.Operation{
			op(0, 0, 1, create("a", "x"), ok), op(0, 2, 3, del("a", "x"), ok), op(1, 4, 5, create("a", "y"), ok), op(1, 6, 7, read, val("y"))}, porcupine.Ok},
		{"read after delete sees the value", []porcupine.Operation{
			op(0, 0, 1, create("a", "x"), ok), op(0, 2, 3, del("a", "x"), ok), op(1, 4, 5, read, val("x"))}, porcupine.Illegal},
		{"delete of an absent key refused", []porcupine.Operation{op(0, 0, 1, del("a", "x"), refused)}, porcupine.Ok},
		{"keys are independent", []porcupine.Operation{
			op(0, 0, 1, create("a", "x"), ok), op(1, 2, 3, Input{Key: "b", Kind: Read}, val(""))}, porcupine.Ok},
	} {
		if got, _ := Check(c.ops, time.Second); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}

func TestHistoryUnknownReturnsAtInfinity(t *testing.T) {
	now := time.Unix(0, 0)
	h := NewHistory(func() time.Time { return now })
	now = now.Add(time.Second)
	h.Add(0, Input{Key: "a", Kind: Create, To: "x"}, Output{Unknown: true}, 0)
	h.Add(0, Input{Key: "a", Kind: Read}, Output{}, 0)
	ops := h.Operations()
	if ops[0].Return != Infinity || ops[1].Return != int64(time.Second) {
		t.Fatalf("returns %d and %d, want Infinity and 1s", ops[0].Return, ops[1].Return)
	}
	if s := Summarize(ops); s.Unknown != 1 || s.Reads != 1 {
		t.Fatalf("summary %v", s)
	}
}
