package adminapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// TransferStatus is one transfer as the admin API answers it: its status,
// and its id spelt as POST /admin/transfer/{action} and cairnctl take it,
// so that a script need not rebuild it from kind, partition, from and to.
type TransferStatus struct {
	ID string `json:"id"`
	handoff.Status
}

// TransferList is GET /admin/transfers.
type TransferList struct {
	// Transfers are sorted by id.
	Transfers []TransferStatus `json:"transfers"`
	// Unreachable names the members that did not answer, sorted: the list
	// lacks the transfers they send.
	Unreachable []string `json:"unreachable"`
	// Behind names the members that answered from a ring older than
	// another member's or than the newest ring the cluster has committed,
	// sorted: the list may lack their copies of partitions moved since (a
	// member lists what it holds against its own ring). Absent when every
	// member routes by the newest ring.
	Behind []string `json:"behind,omitempty"`
	// RingUnconfirmed says why the asked node could not confirm the newest
	// committed ring with the metadata plane (it is cut off from the Raft
	// leader, for one): behind then names only the members older than
	// another member, not those that all lag alike. Absent when confirmed.
	RingUnconfirmed string `json:"ring_unconfirmed,omitempty"`
	// Active counts the running transfers; Waiting those that will start
	// without an operator (waiting or retrying). Paused and cancelled
	// transfers wait on an operator and count in neither.
	Active  int `json:"active"`
	Waiting int `json:"waiting"`
}

// TransferRequest is the body of POST /admin/transfer/{action}. The id is
// in the body rather than the path because it holds slashes.
type TransferRequest struct {
	// ID is kind/partition/from/to, as handoff.ID.String spells it.
	ID string `json:"id"`
}

// RingStatus is GET /admin/ring-status: every partition of the committed
// ring, and for each one that is moving to a new owner, what the move is
// waiting on. Hinted handoff does not move ownership and is not shown
// here; GET /admin/transfers lists it.
type RingStatus struct {
	Epoch uint64 `json:"epoch"`
	Size  int    `json:"size"`
	// Settled counts the partitions with no pending transfer; Moving those
	// with one.
	Settled    int               `json:"settled"`
	Moving     int               `json:"moving"`
	Partitions []PartitionStatus `json:"partitions"`
	// Unreachable names the members that did not report their transfers.
	Unreachable []string `json:"unreachable"`
}

// PartitionStatus is one partition of a RingStatus.
type PartitionStatus struct {
	Partition int    `json:"partition"`
	Owner     string `json:"owner"`
	// NextOwner is the target of the pending transfer, "" when settled.
	NextOwner string `json:"next_owner"`
	// Transfer is the ownership transfer its sender reports, or nil.
	Transfer *TransferStatus `json:"transfer"`
	// WaitingOn says, for an operator, why the partition has not moved
	// yet; "" when settled.
	WaitingOn string `json:"waiting_on"`
}

// errNoTransfers answers the transfer endpoints of an API made by New.
var errNoTransfers = errStatus(http.StatusNotImplemented,
	"adminapi: this node's admin API does not report transfers (it was started without a Transfers)")

func (a *api) transfers(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.t == nil {
		return 0, nil, errNoTransfers
	}
	rep, err := a.t.ListTransfers(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, transferList(rep), nil
}

func (a *api) controlTransfer(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.t == nil {
		return 0, nil, errNoTransfers
	}
	action := handoff.Action(r.PathValue("action"))
	switch action {
	case handoff.Pause, handoff.Resume, handoff.Cancel, handoff.Drop:
	default:
		return 0, nil, fmt.Errorf("%w %q: want pause, resume, cancel or drop", handoff.ErrBadAction, action)
	}
	var req TransferRequest
	if err := decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	if req.ID == "" {
		return 0, nil, errStatus(http.StatusBadRequest, `adminapi: %s needs a transfer id: {"id":"ownership/5/n1/n2"}`, action)
	}
	id, err := handoff.ParseID(req.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, a.t.ControlTransfer(r.Context(), id, action)
}

func (a *api) ringStatus(w http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.t == nil {
		return 0, nil, errNoTransfers
	}
	ctx := r.Context()
	ring, err := a.c.Ring(ctx)
	if err == nil && ring == nil {
		err = meta.ErrNoRing
	}
	if err != nil {
		return 0, nil, err
	}
	rep, err := a.t.ListTransfers(ctx)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, ringStatusOf(ring, rep.List, rep.Unreachable), nil
}

// transferList sorts and counts what ListTransfers returned. It sorts
// although the contract says the list comes sorted, so that the answer is
// stable whatever the implementation does.
func transferList(rep node.TransferReport) TransferList {
	tl := TransferList{Transfers: make([]TransferStatus, len(rep.List)), Unreachable: sortedCopy(rep.Unreachable), Behind: sortedCopy(rep.Behind),
		RingUnconfirmed: rep.RingUnconfirmed}
	for i, s := range rep.List {
		tl.Transfers[i] = TransferStatus{ID: s.ID.String(), Status: s}
		switch s.State {
		case handoff.Running:
			tl.Active++
		case handoff.Waiting, handoff.Retrying:
			tl.Waiting++
		}
	}
	slices.SortStableFunc(tl.Transfers, func(x, y TransferStatus) int { return strings.Compare(x.ID, y.ID) })
	return tl
}

// ringStatusOf matches the ring's pending transfers with the ownership
// transfers their senders report.
func ringStatusOf(r *meta.RingState, list []handoff.Status, unreachable []string) RingStatus {
	reported := make(map[handoff.ID]handoff.Status)
	for _, s := range list {
		if s.Kind == handoff.Ownership {
			reported[s.ID] = s
		}
	}
	pending := make(map[int]meta.Transfer, len(r.Pending))
	for _, t := range r.Pending {
		pending[t.Partition] = t
	}
	rs := RingStatus{Epoch: r.Epoch, Size: r.Size, Partitions: make([]PartitionStatus, 0, len(r.Owners)),
		Unreachable: sortedCopy(unreachable)}
	for p, owner := range r.Owners {
		ps := PartitionStatus{Partition: p, Owner: owner}
		t, moving := pending[p]
		if !moving {
			rs.Settled++
			rs.Partitions = append(rs.Partitions, ps)
			continue
		}
		rs.Moving++
		ps.NextOwner = t.To
		id := handoff.ID{Kind: handoff.Ownership, Partition: p, From: t.From, To: t.To}
		switch s, ok := reported[id]; {
		case ok:
			ps.Transfer = &TransferStatus{ID: id.String(), Status: s}
			ps.WaitingOn = waitingOn(s)
		case slices.Contains(rs.Unreachable, t.From):
			ps.WaitingOn = fmt.Sprintf("no answer from %s (unreachable)", t.From)
		default:
			ps.WaitingOn = fmt.Sprintf("no transfer reported by %s (down or not started)", t.From)
		}
		rs.Partitions = append(rs.Partitions, ps)
	}
	return rs
}

// waitingOn says why a reported transfer has not completed.
func waitingOn(s handoff.Status) string {
	switch s.State {
	case handoff.Running:
		var b strings.Builder
		b.WriteString("transfer running")
		if s.TotalKeys > 0 {
			// TotalKeys is an estimate: a transfer is not done until its
			// sender says so, so it never shows 100% while it runs.
			fmt.Fprintf(&b, " %d%%", min(s.Keys*100/s.TotalKeys, 99))
		} else {
			fmt.Fprintf(&b, " (%d keys so far)", s.Keys)
		}
		if s.ETA > 0 {
			fmt.Fprintf(&b, ", eta %s", max(s.ETA.Round(time.Second), time.Second))
		}
		return b.String()
	case handoff.Waiting:
		return "transfer waiting (concurrency limit)"
	case handoff.Retrying:
		msg := "retrying"
		if s.Attempts == 1 {
			msg += " after 1 failed attempt"
		} else if s.Attempts > 1 {
			msg += fmt.Sprintf(" after %d failed attempts", s.Attempts)
		}
		if s.LastError != "" {
			msg += ": " + strings.Join(strings.Fields(s.LastError), " ") // one line, whatever the error holds
		}
		return msg
	case handoff.Paused:
		return "transfer paused by an operator"
	case handoff.Cancelled:
		return "transfer cancelled by an operator"
	}
	return "transfer " + string(s.State)
}

// sortedCopy returns a sorted copy of s, [] rather than nil.
func sortedCopy(s []string) []string {
	c := nonNil(slices.Clone(s))
	slices.Sort(c)
	return c
}
