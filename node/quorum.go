package node

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Quorum is a replica count as Riak spells it: a symbolic value (one, quorum,
// all, default) or an explicit number. Symbolic values are negative so that
// the zero value is the explicit count 0 (meaningful for dw and pr/pw).
type Quorum int

// Symbolic quorum values.
const (
	QuorumDefault Quorum = -1 // the bucket's value
	QuorumOne     Quorum = -2
	QuorumQuorum  Quorum = -3 // floor(n/2)+1
	QuorumAll     Quorum = -4
)

// ParseQuorum reads "one", "quorum", "all", "default" or a non-negative
// integer. An empty string is QuorumDefault.
func ParseQuorum(s string) (Quorum, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "default":
		return QuorumDefault, nil
	case "one":
		return QuorumOne, nil
	case "quorum":
		return QuorumQuorum, nil
	case "all":
		return QuorumAll, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("node: bad quorum value %q: want one, quorum, all, default or a non-negative integer", s)
	}
	return Quorum(n), nil
}

// String returns the Riak spelling.
func (q Quorum) String() string {
	switch q {
	case QuorumDefault:
		return "default"
	case QuorumOne:
		return "one"
	case QuorumQuorum:
		return "quorum"
	case QuorumAll:
		return "all"
	}
	return strconv.Itoa(int(q))
}

// Resolve turns q into a count for n replicas, taking QuorumDefault from def
// (itself resolved against n). It fails when the count exceeds n.
func (q Quorum) Resolve(n int, def Quorum) (int, error) {
	if q == QuorumDefault {
		if def == QuorumDefault {
			def = QuorumQuorum
		}
		q = def
	}
	var c int
	switch q {
	case QuorumOne:
		c = 1
	case QuorumQuorum:
		c = n/2 + 1
	case QuorumAll:
		c = n
	default:
		c = int(q)
	}
	if c > n {
		return 0, fmt.Errorf("%w: %d exceeds n_val %d", ErrQuorumTooLarge, c, n)
	}
	return c, nil
}

// MarshalJSON writes symbolic values as strings and counts as numbers, as
// Riak's bucket properties do.
func (q Quorum) MarshalJSON() ([]byte, error) {
	if q < 0 {
		return json.Marshal(q.String())
	}
	return json.Marshal(int(q))
}

// UnmarshalJSON accepts a string ("quorum", "3") or a number.
func (q *Quorum) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("node: quorum must be a string or an integer, got %s", b)
		}
		s = strconv.Itoa(n)
	}
	v, err := ParseQuorum(s)
	if err != nil {
		return err
	}
	*q = v
	return nil
}
