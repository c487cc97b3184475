package ring

import (
	"fmt"
	"math/bits"
	"slices"
)

// VNode is one replica slot: a partition and the node that serves it.
type VNode struct {
	Partition int
	Node      string
}

// Ring is an immutable partition→owner table with its epoch. All methods are
// safe for concurrent use; slices it returns are fresh copies owned by the
// caller.
type Ring struct {
	size   int
	shift  uint // 64 - log2(size): hash >> shift is the partition
	hash   Hash
	epoch  uint64
	owners []string
	// members is the sorted set of owners; parts the partitions of each,
	// ascending. Both are derived from owners and never modified.
	members []string
	parts   map[string][]int
}

// New builds a ring from an owner table: owners[p] is the node that owns
// partition p. len(owners) must be cfg.Size and every entry non-empty. The
// epoch is recorded as given; Claim is what advances it.
func New(cfg Config, owners []string, epoch uint64) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(owners) != cfg.Size {
		return nil, fmt.Errorf("%w: %d owners for %d partitions", ErrBadOwners, len(owners), cfg.Size)
	}
	if p := slices.Index(owners, ""); p >= 0 {
		return nil, fmt.Errorf("%w: partition %d has no owner", ErrBadOwners, p)
	}
	r := &Ring{
		size:   cfg.Size,
		shift:  uint(64 - bits.TrailingZeros(uint(cfg.Size))),
		hash:   cfg.hash(),
		epoch:  epoch,
		owners: slices.Clone(owners),
		parts:  make(map[string][]int),
	}
	for p, node := range r.owners {
		r.parts[node] = append(r.parts[node], p)
	}
	for node := range r.parts {
		r.members = append(r.members, node)
	}
	slices.Sort(r.members)
	return r, nil
}

// Size returns the number of partitions Q.
func (r *Ring) Size() int { return r.size }

// Epoch returns the ring's epoch. Each Claim that changes the owner table
// returns a ring whose epoch is one more than its predecessor's.
func (r *Ring) Epoch() uint64 { return r.epoch }

// Owner returns the node that owns partition p. It panics if p is not in
// [0, Size()).
func (r *Ring) Owner(p int) string {
	r.checkPartition(p)
	return r.owners[p]
}

// Owners returns a copy of the owner table, indexed by partition.
func (r *Ring) Owners() []string { return slices.Clone(r.owners) }

// Members returns the nodes that own at least one partition, sorted.
func (r *Ring) Members() []string { return slices.Clone(r.members) }

// PartitionsOf returns the partitions that node owns, ascending; nil if it
// owns none.
func (r *Ring) PartitionsOf(node string) []int { return slices.Clone(r.parts[node]) }

// PartitionOf returns the partition of a key: the top log2(Size()) bits of
// its hash. Each partition is therefore one contiguous 1/Q of the hash space,
// and partition p+1 follows partition p clockwise.
func (r *Ring) PartitionOf(key []byte) int {
	return int(r.hash(key) >> r.shift)
}

// Violations returns, ascending, every partition p whose window of n
// consecutive partitions p, p+1, …, p+n-1 (wrapping) has some node more than
// once: the preference lists of those partitions put two replicas on one
// node. n is capped at Size(); n <= 1 yields nil.
func (r *Ring) Violations(n int) []int {
	n = min(n, r.size)
	var out []int
	for p := range r.size {
	window:
		for i := 1; i < n; i++ {
			for j := range i {
				if r.owners[(p+i)%r.size] == r.owners[(p+j)%r.size] {
					out = append(out, p)
					break window
				}
			}
		}
	}
	return out
}

// Move is one partition whose owner differs between two rings.
type Move struct {
	Partition int
	From, To  string
}

// Moves returns, by ascending partition, the partitions whose owner differs
// from a to b. A nil a stands for an unowned ring (every partition moves
// from ""). It panics if the sizes differ: ring size is fixed for the life
// of a cluster, so that is a programming error.
func Moves(a, b *Ring) []Move {
	var out []Move
	for p, to := range b.owners {
		from := ""
		if a != nil {
			if a.size != b.size {
				panic(fmt.Sprintf("ring: Moves between rings of %d and %d partitions", a.size, b.size))
			}
			from = a.owners[p]
		}
		if from != to {
			out = append(out, Move{Partition: p, From: from, To: to})
		}
	}
	return out
}

func (r *Ring) checkPartition(p int) {
	if p < 0 || p >= r.size {
		panic(fmt.Sprintf("ring: partition %d out of range [0, %d)", p, r.size))
	}
}
