package lincheck

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// Kinds of operation.
const (
	Read   = "read"   // reads the key's value
	Create = "create" // writes To if the key is absent
	CAS    = "cas"    // writes To if the value is From
	Delete = "delete" // removes the key if the value is From
)

// Input is one operation on one key.
type Input struct {
	Key  string
	Kind string // Read, Create, CAS or Delete
	From string // CAS, Delete: the value read, which the write replaces
	To   string // Create, CAS: the value written, unique per write
}

// Output is what the operation answered.
type Output struct {
	Value   string // Read: "" when the key is absent
	OK      bool   // writes: applied
	Unknown bool   // writes: the outcome is unknown (timeout, lost leader)
}

// Model is the per-key register model. Histories are partitioned by key,
// which keeps the search small.
func Model() porcupine.Model {
	m := porcupine.NondeterministicModel{
		Partition:         partitionByKey,
		Init:              func() []any { return []any{""} },
		Step:              step,
		DescribeOperation: describe,
	}
	return m.ToModel()
}

func partitionByKey(h []porcupine.Operation) [][]porcupine.Operation {
	return PartitionBy(func(input any) string { return input.(Input).Key })(h)
}

// PartitionBy returns a porcupine partition function that splits a history
// by the key of each operation's input, in the order keys first appear: a
// model of independent keys (this package's, or a test's own) is checked
// key by key, which keeps the search small.
func PartitionBy(key func(input any) string) func([]porcupine.Operation) [][]porcupine.Operation {
	return func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := key(op.Input)
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	}
}

// step returns the states the register may be in after the operation, none
// if the operation could not have answered what it did from state.
func step(state, input, output any) []any {
	s, in, out := state.(string), input.(Input), output.(Output)
	var applies bool
	next := in.To
	switch in.Kind {
	case Read:
		if out.Value == s {
			return []any{s}
		}
		return nil
	case Create:
		applies = s == ""
	case CAS:
		applies = s != "" && s == in.From
	case Delete:
		applies, next = s != "" && s == in.From, ""
	default:
		return nil
	}
	switch {
	case out.Unknown && applies:
		return []any{s, next} // it may or may not have happened
	case out.Unknown:
		return []any{s}
	case out.OK && applies:
		return []any{next}
	case !out.OK && !applies:
		return []any{s}
	}
	return nil
}

// Describe is an operation as a line of a report.
func Describe(in Input, out Output) string {
	switch in.Kind {
	case Read:
		return fmt.Sprintf("read(%s) -> %q", in.Key, out.Value)
	case Create:
		return fmt.Sprintf("create(%s, %q) -> %s", in.Key, in.To, outcome(out))
	case Delete:
		return fmt.Sprintf("delete(%s, %q) -> %s", in.Key, in.From, outcome(out))
	}
	return fmt.Sprintf("cas(%s, %q -> %q) -> %s", in.Key, in.From, in.To, outcome(out))
}

func describe(input, output any) string { return Describe(input.(Input), output.(Output)) }

func outcome(out Output) string {
	switch {
	case out.Unknown:
		return "unknown"
	case out.OK:
		return "ok"
	}
	return "refused"
}
