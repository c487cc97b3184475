package gossip

// Delegate receives membership events.
//
// Notify is called from one goroutine owned by the Gossip, one event at a
// time, in the order this node observed the changes; for any one member
// the sequence is a valid walk of its states (Alive, Suspect, Dead, Left,
// and Alive again when it returns). Events about this node itself are
// included (its own Alive at New, its own metadata updates, its own Left).
//
// Notify must not block for long: events queue behind it. It may call the
// Gossip's methods, except Close, which waits for Notify to return (a
// SetMeta racing Close fails with ErrClosed). It is never called after
// Close returns; events still queued then are dropped.
type Delegate interface {
	Notify(Event)
}
