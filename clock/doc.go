// Package clock is cairn's time seam. Protocol code never calls time.Now,
// time.Sleep or time.NewTimer directly; it is handed a Clock so that tests
// (and the deterministic simulator) can advance time instead of sleeping.
//
// Real is the wall clock. Fake only moves when Advance or Set is called, and
// fires the timers that fall due in deadline order, so a test that schedules
// work "in 15 seconds" runs it by calling Advance(15*time.Second).
package clock
