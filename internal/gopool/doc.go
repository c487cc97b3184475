// Package gopool runs short functions on goroutines that outlive them.
//
// A request path that starts a goroutine per request pays for more than the
// goroutine: a new goroutine starts with a small stack, and a call chain as
// deep as a Badger read grows it two or three times, each time copying it.
// Under a GET load that copying was 7% of a node's CPU. A Pool keeps the
// goroutines that finish a function parked, up to a bound, and hands the
// next function to one of them, whose stack has already grown.
//
// A Pool never queues: Go hands the function to a parked goroutine if one
// is waiting and starts a new one otherwise, so a function starts exactly
// as soon as it would under a go statement, and a slow function never
// delays another.
//
//	p := gopool.New(64)
//	defer p.Close() // after the last Go
//	p.Go(func() { serve(req) })
package gopool
