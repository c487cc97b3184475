package antientropy

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
)

// Diff is one key whose version differs between the two sides: Local and
// Remote are its hashes (0: absent on that side).
type Diff struct {
	Key           []byte
	Local, Remote uint64
}

// CompareStats says what an exchange cost; counters, so that tests and
// metrics need no timers.
type CompareStats struct {
	// Rounds is the round trips per side: 1 when the roots match, at most 4.
	Rounds            int
	BranchesDiffering int
	SegmentsDiffering int
	// KeysCompared is the key entries read from both sides together.
	KeysCompared int
}

// Compare walks both trees from the root down, asking each side only for
// what differs: the roots, and if they are equal nothing more; then all
// branch hashes; then the segment hashes of the differing branches only;
// then the key lists of the differing segments only. It returns the keys
// whose hashes differ, sorted by key. Trees of different shapes (branch
// count or segments per branch) give an error wrapping ErrShape.
//
// Each level asks both sides at once, in two goroutines joined before
// Compare moves on; an error on one side cancels the other's call.
func Compare(ctx context.Context, local, remote Side) ([]Diff, CompareStats, error) {
	st := CompareStats{Rounds: 1}
	lr, rr, err := both(ctx, local, remote, "root", func(ctx context.Context, s Side) (uint64, error) {
		return s.Root(ctx)
	})
	if err != nil || lr == rr {
		return nil, st, err
	}

	st.Rounds++
	lb, rb, err := both(ctx, local, remote, "branches", func(ctx context.Context, s Side) ([]uint64, error) {
		return s.Branches(ctx)
	})
	if err != nil {
		return nil, st, err
	}
	if len(lb) != len(rb) || len(lb) == 0 {
		return nil, st, fmt.Errorf("%w: %d branches here, %d remote", ErrShape, len(lb), len(rb))
	}
	var branches []int
	for i := range lb {
		if lb[i] != rb[i] {
			branches = append(branches, i)
		}
	}
	st.BranchesDiffering = len(branches)
	if len(branches) == 0 {
		return nil, st, nil // the remote tree changed between calls
	}

	st.Rounds++
	ls, rs, err := both(ctx, local, remote, "segments", func(ctx context.Context, s Side) ([][]uint64, error) {
		return s.Segments(ctx, branches)
	})
	if err != nil {
		return nil, st, err
	}
	per, err := segmentsPerBranch(len(branches), ls, rs)
	if err != nil {
		return nil, st, err
	}
	var segments []int
	for i, b := range branches {
		for j := range per {
			if ls[i][j] != rs[i][j] {
				segments = append(segments, b*per+j)
			}
		}
	}
	st.SegmentsDiffering = len(segments)
	if len(segments) == 0 {
		return nil, st, nil
	}

	st.Rounds++
	lk, rk, err := both(ctx, local, remote, "keys", func(ctx context.Context, s Side) ([]KeyEntry, error) {
		return s.Keys(ctx, segments)
	})
	if err != nil {
		return nil, st, err
	}
	st.KeysCompared = len(lk) + len(rk)
	return diffKeys(segments, lk, rk), st, nil
}

// both calls f on the two sides concurrently and waits for both.
func both[T any](ctx context.Context, local, remote Side, what string, f func(context.Context, Side) (T, error)) (l, r T, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rerr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if r, rerr = f(ctx, remote); rerr != nil {
			cancel()
		}
	})
	l, lerr := f(ctx, local)
	if lerr != nil {
		cancel()
	}
	wg.Wait()
	switch {
	case lerr != nil:
		return l, r, fmt.Errorf("antientropy: local %s: %w", what, lerr)
	case rerr != nil:
		return l, r, fmt.Errorf("antientropy: remote %s: %w", what, rerr)
	}
	return l, r, nil
}

// segmentsPerBranch checks that both sides answered one row per branch,
// all of one length, and returns that length.
func segmentsPerBranch(branches int, ls, rs [][]uint64) (int, error) {
	if len(ls) != branches || len(rs) != branches {
		return 0, fmt.Errorf("%w: %d and %d segment lists for %d branches", ErrShape, len(ls), len(rs), branches)
	}
	per := len(ls[0])
	for i := range ls {
		if len(ls[i]) != per || len(rs[i]) != per || per == 0 {
			return 0, fmt.Errorf("%w: %d segments per branch here, %d remote", ErrShape, len(ls[i]), len(rs[i]))
		}
	}
	return per, nil
}

// diffKeys returns the keys whose hashes differ, sorted. Entries outside
// the segments asked for are ignored: a side that over-answers must not
// make keys look missing on the other.
func diffKeys(segments []int, lk, rk []KeyEntry) []Diff {
	asked := make(map[int]bool, len(segments))
	for _, s := range segments {
		asked[s] = true
	}
	byKey := make(map[string]*Diff, len(lk))
	add := func(entries []KeyEntry, remote bool) {
		for _, e := range entries {
			if !asked[e.Segment] || e.Hash == 0 {
				continue
			}
			d := byKey[string(e.Key)]
			if d == nil {
				d = &Diff{Key: e.Key}
				byKey[string(e.Key)] = d
			}
			if remote {
				d.Remote = e.Hash
			} else {
				d.Local = e.Hash
			}
		}
	}
	add(lk, false)
	add(rk, true)
	var diffs []Diff
	for _, d := range byKey {
		if d.Local != d.Remote {
			diffs = append(diffs, *d)
		}
	}
	slices.SortFunc(diffs, func(a, b Diff) int { return bytes.Compare(a.Key, b.Key) })
	return diffs
}
