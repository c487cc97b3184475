package meta

import (
	"bytes"
	"maps"
	"slices"

	"github.com/cairnkv/cairn/node"
)

// NewState returns the state of a cluster before its first command: no
// members, no ring, and the default bucket type (active, never
// consistent) with defaults as its properties.
func NewState(defaults node.Props) *State {
	defaults.Consistent = false
	s := &State{}
	s.normalize()
	s.Types[node.DefaultType] = &BucketType{Name: node.DefaultType, Props: defaults, Active: true}
	return s
}

// Clone returns a deep copy of s that shares no memory with it.
func (s *State) Clone() *State { return s.clone(true) }

// clone copies s. With deepValues false the encoded strong objects are
// shared: the FSM never modifies one in place (a write stores new bytes),
// so a snapshot may share them and stay cheap to take while Apply waits.
func (s *State) clone(deepValues bool) *State {
	c := &State{
		Members: make(map[string]*Member, len(s.Members)),
		Ring:    s.Ring.clone(),
		Staged:  cloneOrNil(s.Staged),
		Types:   make(map[string]*BucketType, len(s.Types)),
		Buckets: maps.Clone(s.Buckets),
		Strong:  make(map[string][]byte, len(s.Strong)),
		Index:   s.Index,
	}
	for id, m := range s.Members {
		mc := *m
		c.Members[id] = &mc
	}
	for name, t := range s.Types {
		tc := *t
		c.Types[name] = &tc
	}
	if c.Buckets == nil {
		c.Buckets = map[string]node.Props{}
	}
	for k, v := range s.Strong {
		if deepValues {
			v = bytes.Clone(v)
		}
		c.Strong[k] = v
	}
	return c
}

// normalize gives s its canonical shape: maps non-nil, empty slices nil.
// Every State the package hands out or restores is normalized, so that two
// states holding the same data compare equal with reflect.DeepEqual.
func (s *State) normalize() {
	if s.Members == nil {
		s.Members = map[string]*Member{}
	}
	if s.Types == nil {
		s.Types = map[string]*BucketType{}
	}
	if s.Buckets == nil {
		s.Buckets = map[string]node.Props{}
	}
	if s.Strong == nil {
		s.Strong = map[string][]byte{}
	}
	if len(s.Staged) == 0 {
		s.Staged = nil
	}
	if s.Ring != nil && len(s.Ring.Pending) == 0 {
		s.Ring.Pending = nil
	}
}

func (r *RingState) clone() *RingState {
	if r == nil {
		return nil
	}
	c := *r
	c.Owners = slices.Clone(r.Owners)
	c.Pending = cloneOrNil(r.Pending)
	return &c
}

func cloneOrNil[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// sortedKeys returns m's keys in ascending order: the only way state code
// walks a map when the order could show in the state or in a message.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
