package gossip

import "fmt"

// State is a member's state as this node sees it.
type State int

const (
	// Alive: the member answers probes (or nothing says otherwise yet).
	Alive State = iota
	// Suspect: this node's own probe of the member failed and memberlist
	// has started its suspicion timer. The member is still counted as up;
	// it either refutes (Alive again) or is declared Dead.
	Suspect
	// Dead: the member failed: suspected and not refuted in time.
	Dead
	// Left: the member left gracefully (Gossip.Leave).
	Left
)

func (s State) String() string {
	switch s {
	case Alive:
		return "alive"
	case Suspect:
		return "suspect"
	case Dead:
		return "dead"
	case Left:
		return "left"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// Event is a change in a member's state or metadata.
type Event struct {
	// Kind is the member's new state. A metadata change of an alive
	// member is Kind Alive with Updated set.
	Kind State
	// Updated: the member's Meta changed (Kind is then Alive).
	Updated bool
	// Node is the member's memberlist name, which is its cairn node id.
	Node string
	// Meta is the member's metadata: the new one for Alive, the last one
	// known for Suspect, Dead and Left.
	Meta Meta
}

func (e Event) String() string {
	if e.Updated {
		return fmt.Sprintf("%s %s (updated, epoch %d)", e.Node, e.Kind, e.Meta.RingEpoch)
	}
	return fmt.Sprintf("%s %s", e.Node, e.Kind)
}

// Member is one member as this node sees it.
type Member struct {
	Node  string
	Addr  string // gossip host:port
	State State
	Meta  Meta
}
