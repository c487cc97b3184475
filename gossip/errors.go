package gossip

import "errors"

// Errors returned by this package. Functions wrap them with %w to add
// detail, so compare with errors.Is.
var (
	// ErrInvalidConfig: Config.Validate found a bad setting.
	ErrInvalidConfig = errors.New("gossip: invalid config")
	// ErrInvalidKey: an encryption key that is not base64 (ParseKey) or
	// not 16, 24 or 32 bytes long.
	ErrInvalidKey = errors.New("gossip: key must be 16, 24 or 32 bytes")
	// ErrMetaTooLarge: a Meta whose encoding does not fit memberlist's
	// node metadata limit (memberlist.MetaMaxSize, 512 bytes).
	ErrMetaTooLarge = errors.New("gossip: meta too large")
	// ErrBroadcastTimeout: SetMeta, SetRingEpoch or Leave gave up waiting
	// for its broadcast to go out. The change is in effect locally and
	// still spreads (gossip and push/pull keep carrying it); only the wait
	// was cut short.
	ErrBroadcastTimeout = errors.New("gossip: timeout waiting for broadcast")
	// ErrJoin: Join reached none of the given seeds.
	ErrJoin = errors.New("gossip: join failed")
	// ErrLeft: SetMeta or SetRingEpoch after Leave.
	ErrLeft = errors.New("gossip: node has left")
	// ErrClosed: the Gossip has been closed.
	ErrClosed = errors.New("gossip: closed")
)
