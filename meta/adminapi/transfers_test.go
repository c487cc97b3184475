package adminapi

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/handoff"
	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// ownership is the id of the ownership transfer of partition p.
func ownership(p int, from, to string) handoff.ID {
	return handoff.ID{Kind: handoff.Ownership, Partition: p, From: from, To: to}
}

// transferFixture is fixture with n4 joining the ring: partitions 0, 1,
// 3 to 6 are moving to n4 and 7 to n3; n3 does not answer. Every state
// appears once, with a hint for n3 held by n4 and an ownership transfer
// the ring no longer wants.
func transferFixture() *Fake {
	f := fixture()
	f.RingState.Pending = []meta.Transfer{
		{Partition: 0, From: "n1", To: "n4"},
		{Partition: 1, From: "n2", To: "n4"},
		{Partition: 3, From: "n1", To: "n4"},
		{Partition: 4, From: "n2", To: "n4"},
		{Partition: 5, From: "n3", To: "n4"},
		{Partition: 6, From: "n1", To: "n4"},
		{Partition: 7, From: "n2", To: "n3"},
	}
	f.TransferStatuses = []handoff.Status{
		{ID: ownership(7, "n2", "n3"), State: handoff.Cancelled, Attempts: 1, Since: t0},
		{ID: ownership(0, "n1", "n4"), State: handoff.Running, Keys: 420, Bytes: 3 << 20, TotalKeys: 1000,
			Rate: 1 << 20, ETA: 4*time.Second + 400*time.Millisecond, Attempts: 1, Since: t0, Updated: t0.Add(3 * time.Second)},
		{ID: ownership(1, "n2", "n4"), State: handoff.Waiting, Since: t0},
		{ID: ownership(3, "n1", "n4"), State: handoff.Retrying, Keys: 10, Bytes: 2048, Attempts: 3,
			LastError: "rpc: connection refused", Since: t0, RetryAt: t0.Add(8 * time.Second)},
		{ID: ownership(4, "n2", "n4"), State: handoff.Paused, Keys: 5, Bytes: 500, Attempts: 1, Since: t0},
		{ID: handoff.ID{Kind: handoff.Hinted, Partition: 2, From: "n4", To: "n3"}, State: handoff.Running,
			Keys: 3, Bytes: 300, Rate: 100, Attempts: 1, Since: t0},
		{ID: ownership(2, "n2", "n1"), State: handoff.Waiting, Since: t0},
	}
	f.Unreachable = []string{"n3"}
	return f
}

func TestTransferList(t *testing.T) {
	f := transferFixture()
	r := do(t, NewWithTransfers(f, f, nil), "GET", "/admin/transfers", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := decodeAs[TransferList](t, r.body)
	var ids []string
	for _, s := range got.Transfers {
		if s.ID != s.Status.ID.String() {
			t.Errorf("id %q for %+v", s.ID, s.Status.ID)
		}
		ids = append(ids, s.ID)
	}
	want := []string{"hinted/2/n4/n3", "ownership/0/n1/n4", "ownership/1/n2/n4", "ownership/2/n2/n1",
		"ownership/3/n1/n4", "ownership/4/n2/n4", "ownership/7/n2/n3"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if got.Active != 2 || got.Waiting != 3 {
		t.Errorf("active %d, waiting %d; want 2 running and 3 waiting or retrying", got.Active, got.Waiting)
	}
	if !reflect.DeepEqual(got.Unreachable, []string{"n3"}) {
		t.Errorf("unreachable %v", got.Unreachable)
	}
	i := slices.IndexFunc(f.TransferStatuses, func(s handoff.Status) bool { return s.ID == ownership(3, "n1", "n4") })
	if !reflect.DeepEqual(got.Transfers[4].Status, f.TransferStatuses[i]) {
		t.Errorf("status\n got %+v\nwant %+v", got.Transfers[4].Status, f.TransferStatuses[i])
	}
	// The id sits beside the fields of the status, not nested.
	if !strings.Contains(string(r.body), `{"id":"hinted/2/n4/n3","kind":"hinted","partition":2,"from":"n4","to":"n3","state":"running"`) {
		t.Errorf("body %s", r.body)
	}
}

func TestTransferListEmpty(t *testing.T) {
	f := NewFake()
	r := do(t, NewWithTransfers(f, f, nil), "GET", "/admin/transfers", "")
	if want := `{"transfers":[],"unreachable":[],"active":0,"waiting":0}` + "\n"; r.status != http.StatusOK || string(r.body) != want {
		t.Errorf("status %d, body %s; want 200 %s", r.status, r.body, want)
	}
}

func TestTransferControl(t *testing.T) {
	for _, tc := range []struct {
		action string
		id     handoff.ID
		want   handoff.State
	}{
		{"pause", ownership(0, "n1", "n4"), handoff.Paused},
		{"pause", ownership(4, "n2", "n4"), handoff.Paused},
		{"resume", ownership(4, "n2", "n4"), handoff.Waiting},
		{"resume", ownership(7, "n2", "n3"), handoff.Waiting},
		{"resume", ownership(0, "n1", "n4"), handoff.Running},
		{"resume", ownership(3, "n1", "n4"), handoff.Waiting},
		{"pause", ownership(7, "n2", "n3"), handoff.Cancelled},
		{"cancel", ownership(0, "n1", "n4"), handoff.Cancelled},
	} {
		t.Run(tc.action+" "+tc.id.String(), func(t *testing.T) {
			f := transferFixture()
			r := do(t, NewWithTransfers(f, f, nil), "POST", "/admin/transfer/"+tc.action, `{"id":"`+tc.id.String()+`"}`)
			if r.status != http.StatusNoContent || len(r.body) != 0 {
				t.Fatalf("status %d, body %q; want 204 and no body", r.status, r.body)
			}
			i := slices.IndexFunc(f.TransferStatuses, func(s handoff.Status) bool { return s.ID == tc.id })
			if got := f.TransferStatuses[i].State; got != tc.want {
				t.Errorf("state %s, want %s", got, tc.want)
			}
			if !reflect.DeepEqual(f.Calls, []string{"ControlTransfer"}) {
				t.Errorf("calls %v", f.Calls)
			}
		})
	}
}

func TestTransferControlErrors(t *testing.T) {
	for _, tc := range []struct {
		path, body string
		status     int
		msg        string
		calls      bool // whether the request reaches the Transfers
	}{
		{"/admin/transfer/pause", `{"id":"ownership/0/n1/n9"}`, http.StatusNotFound, "handoff: no such transfer: ownership/0/n1/n9", true},
		{"/admin/transfer/cancel", `{"id":"hinted/0/n1/n4"}`, http.StatusNotFound, "no such transfer", true},
		{"/admin/transfer/pause", `{"id":"nope"}`, http.StatusBadRequest, `handoff: malformed transfer id: "nope"`, false},
		{"/admin/transfer/pause", `{"id":"bogus/0/n1/n4"}`, http.StatusBadRequest, "malformed transfer id", false},
		{"/admin/transfer/pause", `{"id":"ownership/-1/n1/n4"}`, http.StatusBadRequest, "malformed transfer id", false},
		{"/admin/transfer/frob", `{"id":"ownership/0/n1/n4"}`, http.StatusBadRequest,
			`handoff: unknown action "frob": want pause, resume, cancel or drop`, false},
		{"/admin/transfer/PAUSE", `{"id":"ownership/0/n1/n4"}`, http.StatusBadRequest, "unknown action", false},
		{"/admin/transfer/pause", `{}`, http.StatusBadRequest, "pause needs a transfer id", false},
		{"/admin/transfer/pause", ``, http.StatusBadRequest, "empty request body", false},
		{"/admin/transfer/pause", `{"id":"ownership/0/n1/n4","force":true}`, http.StatusBadRequest, "unknown field", false},
		{"/admin/transfer/pause", `"ownership/0/n1/n4"`, http.StatusBadRequest, "malformed JSON", false},
	} {
		t.Run(tc.path+" "+tc.body, func(t *testing.T) {
			f := transferFixture()
			before := slices.Clone(f.TransferStatuses)
			r := do(t, NewWithTransfers(f, f, nil), "POST", tc.path, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			if msg := errorMessage(t, r); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q does not say %q", msg, tc.msg)
			}
			if called := len(f.Calls) > 0; called != tc.calls {
				t.Errorf("Transfers called: %v, want %v (%v)", called, tc.calls, f.Calls)
			}
			if !reflect.DeepEqual(f.TransferStatuses, before) {
				t.Errorf("a failed request changed the transfers: %+v", f.TransferStatuses)
			}
		})
	}
}

func TestTransfersNotImplemented(t *testing.T) {
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/admin/transfers", ""},
		{"POST", "/admin/transfer/pause", `{"id":"ownership/0/n1/n4"}`},
		{"GET", "/admin/ring-status", ""},
	} {
		f := transferFixture()
		r := do(t, New(f, nil), req.method, req.path, req.body)
		if r.status != http.StatusNotImplemented {
			t.Errorf("%s %s: status %d, want 501", req.method, req.path, r.status)
		}
		if msg := errorMessage(t, r); !strings.Contains(msg, "does not report transfers") {
			t.Errorf("%s %s: message %q", req.method, req.path, msg)
		}
		if len(f.Calls) != 0 {
			t.Errorf("%s %s: calls %v", req.method, req.path, f.Calls)
		}
	}
}

func TestTransferErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{node.ErrUnavailable, http.StatusServiceUnavailable},
		{handoff.ErrNoTransfer, http.StatusNotFound},
		{handoff.ErrBadAction, http.StatusBadRequest},
		{handoff.ErrBadID, http.StatusBadRequest},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		for _, req := range []struct {
			method, path, body string
			skip               int // calls that succeed before the failing one
		}{
			{"GET", "/admin/transfers", "", 0},
			{"POST", "/admin/transfer/resume", `{"id":"ownership/4/n2/n4"}`, 0},
			{"GET", "/admin/ring-status", "", 0}, // Ring
			{"GET", "/admin/ring-status", "", 1}, // ListTransfers
		} {
			f := transferFixture()
			for range req.skip {
				f.FailNext(nil)
			}
			f.FailNext(tc.err)
			r := do(t, NewWithTransfers(f, f, nil), req.method, req.path, req.body)
			if r.status != tc.status {
				t.Errorf("%v on %s %s (call %d): status %d, want %d", tc.err, req.method, req.path, req.skip, r.status, tc.status)
			}
			if msg := errorMessage(t, r); !strings.Contains(msg, tc.err.Error()) {
				t.Errorf("message %q does not say %q", msg, tc.err)
			}
		}
	}
}

func TestTransferMethodsAndPaths(t *testing.T) {
	f := transferFixture()
	h := NewWithTransfers(f, f, nil)
	for _, tc := range []struct{ method, path, allow string }{
		{"POST", "/admin/transfers", "GET, HEAD"},
		{"GET", "/admin/transfer/pause", "POST"},
		{"DELETE", "/admin/transfer/cancel", "POST"},
		{"POST", "/admin/ring-status", "GET, HEAD"},
	} {
		r := do(t, h, tc.method, tc.path, "")
		if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: status %d, Allow %q; want 405 %q", tc.method, tc.path, r.status, r.header.Get("Allow"), tc.allow)
		}
		errorMessage(t, r)
	}
	for _, path := range []string{"/admin/transfer", "/admin/transfer/pause/ownership/0/n1/n4", "/admin/transfers/x"} {
		if r := do(t, h, "POST", path, ""); r.status != http.StatusNotFound {
			t.Errorf("POST %s: status %d, want 404", path, r.status)
		}
	}
	if len(f.Calls) != 0 {
		t.Errorf("calls %v", f.Calls)
	}
}

func TestRingStatus(t *testing.T) {
	f := transferFixture()
	r := do(t, NewWithTransfers(f, f, nil), "GET", "/admin/ring-status", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := decodeAs[RingStatus](t, r.body)
	if got.Epoch != 5 || got.Size != 8 || got.Settled != 1 || got.Moving != 7 || !reflect.DeepEqual(got.Unreachable, []string{"n3"}) {
		t.Errorf("epoch %d, size %d, settled %d, moving %d, unreachable %v; want 5, 8, 1, 7, [n3]",
			got.Epoch, got.Size, got.Settled, got.Moving, got.Unreachable)
	}
	want := []struct {
		owner, next, transfer, waitingOn string
	}{
		{"n1", "n4", "ownership/0/n1/n4", "transfer running 42%, eta 4s"},
		{"n2", "n4", "ownership/1/n2/n4", "transfer waiting (concurrency limit)"},
		{"n3", "", "", ""}, // the hint and the unwanted transfer are not ring moves
		{"n1", "n4", "ownership/3/n1/n4", "retrying after 3 failed attempts: rpc: connection refused"},
		{"n2", "n4", "ownership/4/n2/n4", "transfer paused by an operator"},
		{"n3", "n4", "", "no answer from n3 (unreachable)"},
		{"n1", "n4", "", "no transfer reported by n1 (down or not started)"},
		{"n2", "n3", "ownership/7/n2/n3", "transfer cancelled by an operator"},
	}
	if len(got.Partitions) != len(want) {
		t.Fatalf("%d partitions, want %d", len(got.Partitions), len(want))
	}
	for p, w := range want {
		ps := got.Partitions[p]
		transfer := ""
		if ps.Transfer != nil {
			transfer = ps.Transfer.ID
			if ps.Transfer.Status.ID.String() != transfer {
				t.Errorf("partition %d: transfer id %q, status of %s", p, transfer, ps.Transfer.Status.ID)
			}
		}
		if ps.Partition != p || ps.Owner != w.owner || ps.NextOwner != w.next || transfer != w.transfer || ps.WaitingOn != w.waitingOn {
			t.Errorf("partition %d: got %d %s→%q transfer %q waiting on %q\nwant %d %s→%q transfer %q waiting on %q",
				p, ps.Partition, ps.Owner, ps.NextOwner, transfer, ps.WaitingOn, p, w.owner, w.next, w.transfer, w.waitingOn)
		}
	}
	// A settled partition carries its empty fields, not absent ones.
	if !strings.Contains(string(r.body), `{"partition":2,"owner":"n3","next_owner":"","transfer":null,"waiting_on":""}`) {
		t.Errorf("body %s", r.body)
	}
}

func TestRingStatusSettled(t *testing.T) {
	f := fixture()
	f.RingState.Pending = nil
	r := do(t, NewWithTransfers(f, f, nil), "GET", "/admin/ring-status", "")
	got := decodeAs[RingStatus](t, r.body)
	if r.status != http.StatusOK || got.Settled != 8 || got.Moving != 0 || len(got.Partitions) != 8 || got.Unreachable == nil {
		t.Errorf("status %d, %+v", r.status, got)
	}
	if r := do(t, NewWithTransfers(NewFake(), NewFake(), nil), "GET", "/admin/ring-status", ""); r.status != http.StatusNotFound {
		t.Errorf("no ring: status %d, want 404", r.status)
	}
}

func TestWaitingOn(t *testing.T) {
	for _, tc := range []struct {
		s    handoff.Status
		want string
	}{
		{handoff.Status{State: handoff.Running, Keys: 1, TotalKeys: 3}, "transfer running 33%"},
		{handoff.Status{State: handoff.Running, Keys: 5, TotalKeys: 3, ETA: 100 * time.Millisecond}, "transfer running 99%, eta 1s"},
		{handoff.Status{State: handoff.Running, Keys: 1200}, "transfer running (1200 keys so far)"},
		{handoff.Status{State: handoff.Running, Keys: 50, TotalKeys: 100, ETA: 90 * time.Second}, "transfer running 50%, eta 1m30s"},
		{handoff.Status{State: handoff.Waiting}, "transfer waiting (concurrency limit)"},
		{handoff.Status{State: handoff.Retrying, Attempts: 1, LastError: "stalled"}, "retrying after 1 failed attempt: stalled"},
		{handoff.Status{State: handoff.Retrying}, "retrying"},
		{handoff.Status{State: handoff.Paused}, "transfer paused by an operator"},
		{handoff.Status{State: handoff.Cancelled}, "transfer cancelled by an operator"},
		{handoff.Status{State: "frozen"}, "transfer frozen"},
	} {
		if got := waitingOn(tc.s); got != tc.want {
			t.Errorf("waitingOn(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
