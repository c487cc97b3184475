package gossip

import (
	"fmt"

	"github.com/hashicorp/memberlist"
	"github.com/vmihailenco/msgpack/v5"
)

// Meta is what a node advertises about itself in its memberlist node
// metadata. Encoded, it must fit memberlist.MetaMaxSize (512 bytes); New
// and SetMeta refuse a Meta that does not, with ErrMetaTooLarge.
type Meta struct {
	HTTPAddr  string `msgpack:"h"`
	RPCAddr   string `msgpack:"r"`
	RaftAddr  string `msgpack:"f"`
	RingEpoch uint64 `msgpack:"e"`
}

// wireMeta is Meta as it travels, plus the flag a leaving node sets just
// before it leaves. memberlist reports a graceful leave and a failure
// through the same callback and does not say which it was
// (hashicorp/memberlist#266), so the flag is how the others tell Left
// from Dead. The flag is always encoded, so a Meta that fits while the
// node runs still fits when it leaves. Keys are short, and unknown keys
// are ignored on decode, so fields can be added without breaking
// mixed-version clusters.
type wireMeta struct {
	HTTPAddr  string `msgpack:"h"`
	RPCAddr   string `msgpack:"r"`
	RaftAddr  string `msgpack:"f"`
	RingEpoch uint64 `msgpack:"e"`
	Leaving   bool   `msgpack:"l"`
}

func encodeMeta(m Meta, leaving bool) ([]byte, error) {
	b, err := msgpack.Marshal(wireMeta{
		HTTPAddr:  m.HTTPAddr,
		RPCAddr:   m.RPCAddr,
		RaftAddr:  m.RaftAddr,
		RingEpoch: m.RingEpoch,
		Leaving:   leaving,
	})
	if err != nil {
		return nil, fmt.Errorf("gossip: encode meta: %w", err)
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes encoded, limit %d", ErrMetaTooLarge, len(b), memberlist.MetaMaxSize)
	}
	return b, nil
}

// decodeMeta reads another node's metadata. Empty metadata decodes to the
// zero Meta.
func decodeMeta(b []byte) (m Meta, leaving bool, err error) {
	if len(b) == 0 {
		return Meta{}, false, nil
	}
	var w wireMeta
	if err := msgpack.Unmarshal(b, &w); err != nil {
		return Meta{}, false, fmt.Errorf("gossip: decode meta: %w", err)
	}
	return Meta{HTTPAddr: w.HTTPAddr, RPCAddr: w.RPCAddr, RaftAddr: w.RaftAddr, RingEpoch: w.RingEpoch}, w.Leaving, nil
}
