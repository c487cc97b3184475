package node

import (
	"encoding/json"
	"fmt"
)

// Props are the properties of a bucket type or bucket, with Riak's names.
type Props struct {
	NVal          int    `json:"n_val"`
	AllowMult     bool   `json:"allow_mult"`
	LastWriteWins bool   `json:"last_write_wins"`
	R             Quorum `json:"r"`
	W             Quorum `json:"w"`
	PR            Quorum `json:"pr"`
	PW            Quorum `json:"pw"`
	DW            Quorum `json:"dw"`
	RW            Quorum `json:"rw"`
	BasicQuorum   bool   `json:"basic_quorum"`
	NotFoundOK    bool   `json:"notfound_ok"`
	Consistent    bool   `json:"consistent"`
	// ReadFanout is how many replicas a get asks: ReadFanoutAll (Riak's
	// way, and the default: every replica of the preference list, read
	// repair over all of them) or ReadFanoutQuorum (Cassandra's: r of
	// them, this node's own first, and another only when one fails, cannot
	// count, or the quorum has not answered within the node's
	// ReadSpeculateAfter). Quorum saves a replica read and a round trip
	// per get; read repair then covers only the replicas asked, and
	// anti-entropy and hinted handoff the others. Empty means all.
	ReadFanout string `json:"read_fanout"`
}

// The values of Props.ReadFanout.
const (
	ReadFanoutAll    = "all"
	ReadFanoutQuorum = "quorum"
)

// MaxNVal bounds n_val: a larger replica count is almost certainly a typo.
const MaxNVal = 16

// DefaultProps are the properties of the default bucket type.
func DefaultProps() Props {
	return Props{
		NVal:       3,
		AllowMult:  true,
		R:          QuorumQuorum,
		W:          QuorumQuorum,
		PR:         0,
		PW:         0,
		DW:         QuorumQuorum,
		RW:         QuorumQuorum,
		NotFoundOK: true,
		ReadFanout: ReadFanoutAll,
	}
}

// Validate checks n_val and that every quorum fits in it.
func (p Props) Validate() error {
	if p.NVal < 1 || p.NVal > MaxNVal {
		return fmt.Errorf("%w: n_val must be between 1 and %d, got %d", ErrBadProps, MaxNVal, p.NVal)
	}
	for _, q := range []struct {
		name string
		v    Quorum
	}{{"r", p.R}, {"w", p.W}, {"pr", p.PR}, {"pw", p.PW}, {"dw", p.DW}, {"rw", p.RW}} {
		if q.v == QuorumDefault {
			continue
		}
		if _, err := q.v.Resolve(p.NVal, QuorumQuorum); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadProps, q.name, err)
		}
	}
	switch p.ReadFanout {
	case "", ReadFanoutAll, ReadFanoutQuorum:
	default:
		return fmt.Errorf("%w: read_fanout must be %q or %q, got %q", ErrBadProps, ReadFanoutAll, ReadFanoutQuorum, p.ReadFanout)
	}
	if p.LastWriteWins && p.AllowMult {
		return fmt.Errorf("%w: last_write_wins and allow_mult cannot both be true", ErrBadProps)
	}
	return nil
}

// Merge applies the fields present in the JSON object raw (a Riak
// {"props":{...}} body's inner object) on top of p. Unknown fields are an
// error so that a typo does not pass silently.
func (p Props) Merge(raw []byte) (Props, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return p, fmt.Errorf("%w: props must be a JSON object: %w", ErrBadProps, err)
	}
	known := map[string]any{
		"n_val": &p.NVal, "allow_mult": &p.AllowMult, "last_write_wins": &p.LastWriteWins,
		"r": &p.R, "w": &p.W, "pr": &p.PR, "pw": &p.PW, "dw": &p.DW, "rw": &p.RW,
		"basic_quorum": &p.BasicQuorum, "notfound_ok": &p.NotFoundOK, "consistent": &p.Consistent,
		"read_fanout": &p.ReadFanout,
	}
	for name, v := range fields {
		dst, ok := known[name]
		if !ok {
			if readOnlyProps[name] {
				continue
			}
			return p, fmt.Errorf("%w: unknown property %q", ErrBadProps, name)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return p, fmt.Errorf("%w: %s: %w", ErrBadProps, name, err)
		}
	}
	return p, nil
}

// readOnlyProps are returned by GET props and tolerated (ignored) on PUT so
// that a client can send back what it read.
var readOnlyProps = map[string]bool{"name": true, "young_vclock": true, "old_vclock": true,
	"small_vclock": true, "big_vclock": true, "precommit": true, "postcommit": true,
	"chash_keyfun": true, "linkfun": true, "dvv_enabled": true, "write_once": true, "type": true}
