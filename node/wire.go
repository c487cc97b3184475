package node

import (
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/cairnkv/cairn/internal/msgpackcheck"
	"github.com/cairnkv/cairn/node/object"
)

// RPC methods a node serves to its peers. Names cross the wire: never
// rename one.
const (
	methodGetReplica = "kv.get"   // getReplicaReq -> getReplicaResp
	methodPutReplica = "kv.put"   // putReplicaReq -> putReplicaResp
	methodReap       = "kv.reap"  // reapReq -> reapResp
	methodCoordPut   = "kv.coord" // coordPutReq -> coordPutResp
	methodNames      = "kv.names" // namesReq -> namesResp
	methodHolds      = "kv.holds" // holdsReq -> holdsResp
	methodBatch      = "kv.batch" // batchReq -> batchResp
	methodTransfers  = "kv.xfers" // transfersReq -> transfersResp
	methodAAETree    = "aae.tree" // aaeTreeReq -> aaeTreeResp
	methodAAEKeys    = "aae.keys" // aaeKeysReq -> aaeKeysResp
)

// Handles reports whether method is one of the node's RPC methods, so a
// server that also carries other traffic (the metadata plane's) can
// dispatch.
func Handles(method string) bool {
	switch method {
	case methodGetReplica, methodPutReplica, methodReap, methodCoordPut, methodNames, methodHolds, methodBatch, methodTransfers, methodAAETree, methodAAEKeys:
		return true
	}
	return false
}

// Replica status in a getReplicaResp.
const (
	replicaFound    uint8 = 0
	replicaNotFound uint8 = 1
	replicaCorrupt  uint8 = 2
)

type getReplicaReq struct {
	Partition int    `msgpack:"p"`
	Key       []byte `msgpack:"k"`
}

type getReplicaResp struct {
	Status uint8  `msgpack:"s"`
	Object []byte `msgpack:"o,omitempty"` // object.Encode: checksummed
	Err    string `msgpack:"e,omitempty"` // what was corrupt
}

type putReplicaReq struct {
	Partition int    `msgpack:"p"`
	Key       []byte `msgpack:"k"`
	Object    []byte `msgpack:"o"`
	Durable   bool   `msgpack:"d,omitempty"`
	// NoMerged: the sender does not want the merged object back.
	NoMerged bool `msgpack:"n,omitempty"`
}

type putReplicaResp struct {
	Object []byte `msgpack:"o,omitempty"` // absent when the request said NoMerged
}

type reapReq struct {
	Partition int    `msgpack:"p"`
	Key       []byte `msgpack:"k"`
	Tombstone []byte `msgpack:"o"`
}

type reapResp struct {
	Reaped bool `msgpack:"r"`
}

// batchReq hands a vnode a batch of objects (handoff): each is merged
// with the receiver's copy, and the answer comes once all are durable.
// Hinted marks hints, which the sender deletes once they are delivered:
// the receiver takes them only if its ring makes the partition its own
// (see serveBatch).
type batchReq struct {
	Partition int         `msgpack:"p"`
	Entries   []batchWire `msgpack:"e"`
	Hinted    bool        `msgpack:"h,omitempty"`
}

type batchWire struct {
	Key    []byte `msgpack:"k"`
	Object []byte `msgpack:"o"`
}

type batchResp struct {
	Merged int `msgpack:"m"`
}

// transfersReq lists a node's outgoing transfers (no ID) or applies an
// operator's action to one of them.
type transfersReq struct {
	ID     string `msgpack:"id,omitempty"`
	Action string `msgpack:"a,omitempty"`
}

type transfersResp struct {
	List []byte `msgpack:"l,omitempty"` // JSON of []handoff.Status
	// Epoch is the ring epoch the member routes by (0: none, or a node
	// from before the field).
	Epoch uint64 `msgpack:"ep,omitempty"`
	// Failure of an action: 1 no such transfer, 2 bad action, 3 bad id.
	Code uint8  `msgpack:"c,omitempty"`
	Msg  string `msgpack:"m,omitempty"`
}

// holdsReq asks whether a node has Key under any of Partitions (vnodes
// it does not own: hints).
type holdsReq struct {
	Key        []byte `msgpack:"k"`
	Partitions []int  `msgpack:"p"`
}

type holdsResp struct {
	Held bool `msgpack:"h"`
}

// namesReq asks a node for the key (or bucket) names it stores under
// Prefix, after After, at most Limit of them: a listing pages through a
// large bucket instead of sending one huge frame.
type namesReq struct {
	Prefix []byte `msgpack:"p"`
	What   uint8  `msgpack:"w"`
	After  string `msgpack:"a,omitempty"`
	Limit  int    `msgpack:"l"`
}

type namesResp struct {
	Names []string `msgpack:"n"`
	More  bool     `msgpack:"m,omitempty"`
}

// coordPutReq is a write forwarded to a node of the preference list by a
// node that holds no replica of the key: the quorums are already resolved
// against the bucket's properties by the receiving node.
type coordPutReq struct {
	Type       string         `msgpack:"t"`
	Bucket     string         `msgpack:"b"`
	Key        string         `msgpack:"k"`
	Content    object.Content `msgpack:"c"`
	Context    string         `msgpack:"x,omitempty"` // encoded, bound to the key
	N          int            `msgpack:"n"`
	W          int            `msgpack:"w"`
	DW         int            `msgpack:"dw"`
	PW         int            `msgpack:"pw"`
	LWW        bool           `msgpack:"lww,omitempty"`
	ReturnBody bool           `msgpack:"rb,omitempty"`
}

type coordPutResp struct {
	Code   errCode `msgpack:"c,omitempty"`
	Msg    string  `msgpack:"m,omitempty"`
	Object []byte  `msgpack:"o,omitempty"`
}

// encodeMsg and decodeMsg are the node's RPC body codec. decodeMsg checks
// the bytes' structure first: msgpack's decoder trusts length prefixes,
// and a peer's bytes are not to be trusted that far.
func encodeMsg(v any) ([]byte, error) {
	var b []byte
	var err error
	if m, ok := v.(wireMsg); ok {
		b, err = encodeWire(m)
	} else {
		b, err = msgpack.Marshal(v)
	}
	if err != nil {
		return nil, fmt.Errorf("node: encode %T: %w", v, err)
	}
	return b, nil
}

func decodeMsg(b []byte, v any) error {
	if err := msgpackcheck.Check(b); err != nil {
		return fmt.Errorf("%w: %T: %w", ErrBadRequest, v, err)
	}
	var err error
	if m, ok := v.(wireMsg); ok {
		err = decodeWire(b, m)
	} else {
		err = msgpack.Unmarshal(b, v)
	}
	if err != nil {
		return fmt.Errorf("%w: %T: %w", ErrBadRequest, v, err)
	}
	return nil
}

// errCode carries a coordinator's error across a forwarding hop, so that
// the node that received the request maps it to the right HTTP status.
type errCode uint8

// Error codes. Values cross the wire: never renumber.
const (
	codeOK errCode = iota
	codeInternal
	codeNotFound
	codeQuorumNotMet
	codeQuorumTooLarge
	codeBadProps
	codeUnknownType
	codeTooLarge
	codeBadRequest
	codeConflict
	codeUnavailable
	codeClosed
	codeMalformedContext
	codeForeignContext
	codeTooManySiblings
)

var codeErrs = []struct {
	code errCode
	err  error
}{
	{codeNotFound, ErrNotFound}, {codeQuorumNotMet, ErrQuorumNotMet},
	{codeQuorumTooLarge, ErrQuorumTooLarge}, {codeBadProps, ErrBadProps},
	{codeUnknownType, ErrUnknownBucketType}, {codeTooLarge, ErrTooLarge},
	{codeBadRequest, ErrBadRequest}, {codeConflict, ErrConflict},
	{codeUnavailable, ErrUnavailable}, {codeClosed, ErrClosed},
	{codeMalformedContext, object.ErrMalformedContext}, {codeForeignContext, object.ErrForeignContext},
	{codeTooManySiblings, ErrTooManySiblings},
}

func codeOf(err error) errCode {
	if err == nil {
		return codeOK
	}
	for _, ce := range codeErrs {
		if errors.Is(err, ce.err) {
			return ce.code
		}
	}
	return codeInternal
}

// remoteErr rebuilds an error from its code and message: the message is
// the remote error's text, the code restores errors.Is.
type remoteErr struct {
	code errCode
	msg  string
}

func (e *remoteErr) Error() string { return e.msg }

func (e *remoteErr) Unwrap() error {
	for _, ce := range codeErrs {
		if ce.code == e.code {
			return ce.err
		}
	}
	return nil
}
