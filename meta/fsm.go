package meta

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/raft"

	"github.com/cairnkv/cairn/node"
	"github.com/cairnkv/cairn/node/object"
)

// FSM is the Raft state machine of the metadata plane: it applies
// committed commands to a State and answers reads from it. Apply,
// Snapshot and Restore are called by raft (one at a time); every read
// method may run concurrently with them and returns values the caller
// owns.
type FSM struct {
	log *slog.Logger

	mu sync.RWMutex
	st *State
	// applied is closed, and replaced, whenever st.Index advances, to wake
	// WaitApplied.
	applied chan struct{}
}

var _ raft.FSM = (*FSM)(nil)

// NewFSM returns an FSM holding NewState(defaults): defaults are the
// properties of the default bucket type. A nil logger discards.
func NewFSM(defaults node.Props, logger *slog.Logger) *FSM {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FSM{log: logger, st: NewState(defaults), applied: make(chan struct{})}
}

// Apply applies a committed log entry and returns its *Result (never nil;
// a failed command's Result carries the error, see Result.Err). Only
// raft.LogCommand entries carry commands; raft passes no others to an FSM,
// and any that come are answered without touching the state. Apply reads
// nothing but the state and the entry, so every replica reaches the same
// state.
func (f *FSM) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return &Result{Index: l.Index}
	}
	res := &Result{}
	cmd, err := DecodeCommand(l.Data)

	f.mu.Lock()
	if err == nil {
		err = applyCommand(f.st, cmd, res)
	}
	f.st.Index = l.Index
	f.advanced()
	f.mu.Unlock()

	if err != nil {
		f.log.Debug("meta: command failed", "index", l.Index, "op", cmd.Op, "err", err)
		res = Fail(err)
	}
	res.Index = l.Index
	return res
}

// advanced wakes the WaitApplied callers; f.mu must be held for writing.
func (f *FSM) advanced() {
	close(f.applied)
	f.applied = make(chan struct{})
}

// AppliedIndex returns the Raft index of the last applied command.
func (f *FSM) AppliedIndex() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.Index
}

// WaitApplied blocks until AppliedIndex() >= index, or until ctx is done
// (it then returns ctx.Err()).
func (f *FSM) WaitApplied(ctx context.Context, index uint64) error {
	for {
		f.mu.RLock()
		done, wake := f.st.Index >= index, f.applied
		f.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// Members returns every member, sorted by id.
func (f *FSM) Members() []Member {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Member, 0, len(f.st.Members))
	for _, id := range sortedKeys(f.st.Members) {
		out = append(out, *f.st.Members[id])
	}
	return out
}

// Member returns the member id.
func (f *FSM) Member(id string) (Member, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.st.Members[id]
	if !ok {
		return Member{}, false
	}
	return *m, true
}

// Ring returns the committed ring, nil before OpInit.
func (f *FSM) Ring() *RingState {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.Ring.clone()
}

// Staged returns the staged changes, in the order they were staged.
func (f *FSM) Staged() []Change {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return cloneOrNil(f.st.Staged)
}

// Types returns every bucket type, default included, sorted by name.
func (f *FSM) Types() []BucketType {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]BucketType, 0, len(f.st.Types))
	for _, name := range sortedKeys(f.st.Types) {
		out = append(out, *f.st.Types[name])
	}
	return out
}

// Type returns one bucket type, active or not (node.ErrUnknownBucketType).
func (f *FSM) Type(name string) (BucketType, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t, err := lookupType(f.st, name)
	if err != nil {
		return BucketType{}, err
	}
	return *t, nil
}

// TypeProps returns an active type's properties: ErrTypeNotActive when it
// is not active yet, node.ErrUnknownBucketType when it does not exist.
func (f *FSM) TypeProps(name string) (node.Props, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return activeTypeProps(f.st, name)
}

// BucketProps returns a bucket's effective properties: its override, or
// its type's (the type must be active).
func (f *FSM) BucketProps(typ, bucket string) (node.Props, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	p, err := activeTypeProps(f.st, typ)
	if err != nil {
		return p, err
	}
	if bp, ok := f.st.Buckets[string(node.BucketPrefix(typ, bucket))]; ok {
		return bp, nil
	}
	return p, nil
}

// StrongGet returns the object of a strongly consistent key (key is
// node.Location.Bytes()): node.ErrNotFound when it is absent, and the
// tombstone with node.ErrNotFound when it was deleted, so that its
// context can be shown. It reads this node's copy: the caller makes it
// linearizable (a barrier or a read index, then WaitApplied).
func (f *FSM) StrongGet(key []byte) (*object.Object, error) {
	f.mu.RLock()
	o, err := strongObject(f.st, key)
	f.mu.RUnlock()
	switch {
	case err != nil:
		return nil, err
	case o == nil:
		return nil, fmt.Errorf("meta: %w", node.ErrNotFound)
	case o.IsTombstone():
		return o, fmt.Errorf("meta: %w", node.ErrNotFound)
	}
	return o, nil
}

// StrongList calls fn with each live key of a bucket of a consistent type,
// in key order, and stops at fn's first error, which it returns. The keys
// are gathered first, so fn runs without the FSM's lock and may call it.
func (f *FSM) StrongList(typ, bucket string, fn func(key string) error) error {
	prefix := string(node.BucketPrefix(typ, bucket))
	var keys []string
	f.mu.RLock()
	err := checkStrongType(f.st, typ)
	if err == nil {
		for k, b := range f.st.Strong {
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			o, derr := object.Decode(b)
			if derr != nil {
				err = fmt.Errorf("meta: stored strong object: %w", derr)
				break
			}
			if !o.IsTombstone() {
				keys = append(keys, k[len(prefix):])
			}
		}
	}
	f.mu.RUnlock()
	if err != nil {
		return err
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k); err != nil {
			return err
		}
	}
	return nil
}

// Plan computes what committing the staged changes would do (ComputePlan
// on the current state). It copies what a plan reads and plans without
// the lock, so that a slow claim on a large ring does not hold up Apply.
func (f *FSM) Plan() (*Plan, error) {
	f.mu.RLock()
	full := f.st
	st := &State{Ring: full.Ring.clone(), Staged: cloneOrNil(full.Staged), Members: make(map[string]*Member, len(full.Members))}
	for id, m := range full.Members {
		st.Members[id] = ptr(*m)
	}
	f.mu.RUnlock()
	return ComputePlan(st)
}

// State returns a deep copy of the whole state.
func (f *FSM) State() *State {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.Clone()
}
