package meta

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/hashicorp/raft"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/ring"
)

// Snapshot format, version 1:
//
//	version   1 byte, 1
//	body      msgpack(State) (see State.EncodeMsgpack)
//	checksum  4 bytes, big-endian CRC-32C (Castagnoli) of body
const (
	snapshotVersion = 1
	checksumLen     = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Snapshot captures the state for raft. It copies the state under the lock
// (sharing the encoded strong objects, which are never modified in place)
// and leaves the encoding to Persist, which runs while Apply goes on.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &snapshot{st: f.st.clone(false)}, nil
}

// Restore replaces the state with a snapshot's, after checking its
// version, checksum and shape, and wakes WaitApplied callers up to the
// snapshot's index. On error the state is left as it was.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("meta: snapshot: read: %w", err)
	}
	st, err := decodeSnapshot(b)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.st = st
	f.advanced()
	f.mu.Unlock()
	f.log.Info("meta: restored snapshot", "index", st.Index, "members", len(st.Members), "strong_keys", len(st.Strong))
	return nil
}

type snapshot struct{ st *State }

// Persist writes the snapshot to sink and closes it, or cancels it on
// error.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	b, err := encodeSnapshot(s.st)
	if err == nil {
		_, err = sink.Write(b)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("meta: snapshot: %w", err), sink.Cancel())
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("meta: snapshot: close: %w", err)
	}
	return nil
}

// Release does nothing: the snapshot holds only memory.
func (s *snapshot) Release() {}

func encodeSnapshot(st *State) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte(snapshotVersion)
	if err := msgpack.NewEncoder(&buf).Encode(st); err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	b := buf.Bytes()
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[1:], castagnoli)), nil
}

// stateFields is the number of fields EncodeMsgpack writes; a test keeps
// it equal to State's, so that a new field cannot be left out of
// snapshots unnoticed.
const stateFields = 7

// EncodeMsgpack encodes s as msgpack's struct encoding would (a map of the
// fields by tag, which the default decoding reads back), but with the keys
// of every map sorted: msgpack sorts only a few map types itself, and a
// snapshot must be the same bytes on every replica that holds the same
// state.
func (s *State) EncodeMsgpack(enc *msgpack.Encoder) error {
	// Arguments are evaluated left to right: the fields go out in order.
	return errors.Join(
		enc.EncodeMapLen(stateFields),
		enc.EncodeString("members"), encodeSorted(enc, s.Members),
		enc.EncodeString("ring"), enc.Encode(s.Ring),
		enc.EncodeString("staged"), enc.Encode(s.Staged),
		enc.EncodeString("types"), encodeSorted(enc, s.Types),
		enc.EncodeString("buckets"), encodeSorted(enc, s.Buckets),
		enc.EncodeString("strong"), encodeSorted(enc, s.Strong),
		enc.EncodeString("idx"), enc.EncodeUint(s.Index),
	)
}

func encodeSorted[V any](enc *msgpack.Encoder, m map[string]V) error {
	if m == nil {
		return enc.EncodeNil()
	}
	err := enc.EncodeMapLen(len(m))
	for _, k := range sortedKeys(m) {
		err = errors.Join(err, enc.EncodeString(k), enc.Encode(m[k]))
	}
	return err
}

func decodeSnapshot(b []byte) (*State, error) {
	if len(b) < 1+checksumLen {
		return nil, fmt.Errorf("meta: snapshot: %d bytes is too short", len(b))
	}
	if b[0] != snapshotVersion {
		return nil, fmt.Errorf("meta: snapshot: unsupported format version %d (this node reads %d)", b[0], snapshotVersion)
	}
	body, sum := b[1:len(b)-checksumLen], b[len(b)-checksumLen:]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(sum); got != want {
		return nil, fmt.Errorf("meta: snapshot: checksum mismatch (got %08x, want %08x): corrupt", got, want)
	}
	st := &State{}
	if err := unmarshal(body, st); err != nil {
		return nil, fmt.Errorf("meta: snapshot: decode state: %w", err)
	}
	st.normalize()
	if err := st.check(); err != nil {
		return nil, fmt.Errorf("meta: snapshot: %w", err)
	}
	return st, nil
}

// check verifies the invariants the FSM relies on and that a checksummed
// but foreign or buggy snapshot might break: it keeps a bad snapshot from
// turning into a panic at the next command.
func (s *State) check() error {
	for id, m := range s.Members {
		if m == nil || m.ID != id {
			return fmt.Errorf("member %q is malformed", id)
		}
	}
	for name, t := range s.Types {
		if t == nil || t.Name != name {
			return fmt.Errorf("bucket type %q is malformed", name)
		}
	}
	if t, ok := s.Types[node.DefaultType]; !ok || !t.Active {
		return fmt.Errorf("no active %q bucket type", node.DefaultType)
	}
	r := s.Ring
	if r == nil {
		return nil
	}
	if err := (ring.Config{Size: r.Size}).Validate(); err != nil {
		return err
	}
	if _, err := ring.New(ring.Config{Size: r.Size}, r.Owners, r.Epoch); err != nil {
		return err
	}
	if r.TargetN < 1 || r.TargetN > r.Size {
		return fmt.Errorf("ring target n_val %d out of range", r.TargetN)
	}
	for _, t := range r.Pending {
		if t.Partition < 0 || t.Partition >= r.Size || t.To == "" || r.Owners[t.Partition] != t.From {
			return fmt.Errorf("pending transfer %+v does not match the ring", t)
		}
	}
	return nil
}
