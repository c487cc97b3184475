// Package lincheck checks histories of the strongly consistent keyspace
// for linearizability with porcupine.
//
// The model is one compare-and-set register per key whose state is the
// key's value, "" when the key is absent or deleted. Values are unique per
// write, so a value names the version that wrote it, and a compare-and-set
// or delete names the version it replaces by the value it read.
//
// An operation whose outcome is unknown (a timeout, a lost leader) may
// have taken effect at any time after its call, so the recorder gives it a
// return time later than every other (Infinity): the checker then tries
// both outcomes at every point after the call. A failed read has no effect
// and is simply not recorded.
//
// Use:
//
//	h := lincheck.NewHistory(time.Now)
//	call := h.Now()
//	// ... run the operation ...
//	h.Add(client, lincheck.Input{Key: k, Kind: lincheck.Read}, lincheck.Output{Value: v}, call)
//	res, info := lincheck.Check(h.Operations(), time.Minute)
package lincheck
