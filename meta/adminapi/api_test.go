package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/meta"
	"github.com/cairnkv/cairn/node"
)

// fixture is a four-member cluster: n1..n3 own an eight-partition ring,
// n4 is joining, and partition 7 is moving from n2 to n3.
func fixture() *Fake {
	f := NewFake()
	f.Raft = meta.RaftStatus{ID: "n1", State: "Leader", Leader: "n1", LeaderAddr: "10.0.0.1:8300",
		Term: 3, LastIndex: 42, CommitIndex: 42, AppliedIndex: 41, Voters: 3, TargetVoters: 3,
		Servers: []meta.RaftServer{
			{ID: "n1", Address: "10.0.0.1:8300", Suffrage: "Voter", Leader: true, Healthy: true},
			{ID: "n2", Address: "10.0.0.2:8300", Suffrage: "Voter", Healthy: true},
			{ID: "n3", Address: "10.0.0.3:8300", Suffrage: "Voter", Healthy: false},
		}}
	f.MemberList = []meta.Member{
		{ID: "n4", State: meta.Joining, HTTPAddr: "10.0.0.4:8098"},
		{ID: "n1", State: meta.Valid, HTTPAddr: "10.0.0.1:8098"},
		{ID: "n2", State: meta.Valid, HTTPAddr: "10.0.0.2:8098"},
		{ID: "n3", State: meta.Valid, HTTPAddr: "10.0.0.3:8098"},
	}
	f.RingState = &meta.RingState{Size: 8, TargetN: 3, Epoch: 5,
		Owners:  []string{"n1", "n2", "n3", "n1", "n2", "n3", "n1", "n2"},
		Pending: []meta.Transfer{{Partition: 7, From: "n2", To: "n3"}}}
	return f
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, h http.Handler, method, path, body string) response {
	t.Helper()
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, path, nil)
	} else {
		r = httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// decodeAs decodes a response body strictly into a T.
func decodeAs[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decoding %T from %s: %v", v, b, err)
	}
	return v
}

func errorMessage(t *testing.T, r response) string {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	e := decodeAs[ErrorResponse](t, r.body)
	if e.Error == "" {
		t.Errorf("error body %s has no message", r.body)
	}
	return e.Error
}

func TestRaftStatus(t *testing.T) {
	f := fixture()
	r := do(t, New(f, nil), "GET", "/admin/raft", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := decodeAs[meta.RaftStatus](t, r.body); !reflect.DeepEqual(got, f.Raft) {
		t.Errorf("got %+v, want %+v", got, f.Raft)
	}
}

func TestRemovePeer(t *testing.T) {
	f := fixture()
	h := New(f, nil)
	r := do(t, h, "POST", "/admin/raft/remove-peer", `{"id":"n3"}`)
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("status %d, body %q; want 204 and no body", r.status, r.body)
	}
	if len(f.Raft.Servers) != 2 || f.Raft.Servers[1].ID != "n2" {
		t.Errorf("servers after remove = %+v", f.Raft.Servers)
	}
	r = do(t, h, "POST", "/admin/raft/remove-peer", `{"id":"n3"}`)
	if r.status != http.StatusNotFound {
		t.Errorf("removing n3 again: status %d, want 404", r.status)
	}
	r = do(t, h, "POST", "/admin/raft/remove-peer", `{}`)
	if r.status != http.StatusBadRequest {
		t.Errorf("no id: status %d, want 400", r.status)
	}
}

func TestClusterStatus(t *testing.T) {
	f := fixture()
	f.StagedChanges = []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}}
	r := do(t, New(f, nil), "GET", "/admin/cluster", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	got := decodeAs[ClusterStatus](t, r.body)
	var ids []string
	for _, m := range got.Members {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "n1,n2,n3,n4" {
		t.Errorf("members %v, want sorted n1..n4", ids)
	}
	want := &RingSummary{Epoch: 5, Size: 8, TargetN: 3, Pending: 1, Owners: []OwnerSummary{
		{Node: "n1", Partitions: 3, Pct: 37.5, Next: 3, NextPct: 37.5},
		{Node: "n2", Partitions: 3, Pct: 37.5, Next: 2, NextPct: 25},
		{Node: "n3", Partitions: 2, Pct: 25, Next: 3, NextPct: 37.5},
		{Node: "n4"},
	}}
	if !reflect.DeepEqual(got.Ring, want) {
		t.Errorf("ring summary\n got %+v\nwant %+v", got.Ring, want)
	}
	if !reflect.DeepEqual(got.Staged, f.StagedChanges) {
		t.Errorf("staged %+v, want %+v", got.Staged, f.StagedChanges)
	}
}

func TestClusterStatusBeforeRing(t *testing.T) {
	f := NewFake()
	r := do(t, New(f, nil), "GET", "/admin/cluster", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	// Empty lists are [] and the missing ring is null, not absent.
	if want := `{"members":[],"ring":null,"staged":[],"leader":"","down":[],"liveness":"unknown"}` + "\n"; string(r.body) != want {
		t.Errorf("body %s, want %s", r.body, want)
	}
}

func TestRing(t *testing.T) {
	f := fixture()
	h := New(f, nil)
	r := do(t, h, "GET", "/admin/ring", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := decodeAs[meta.RingState](t, r.body); !reflect.DeepEqual(&got, f.RingState) {
		t.Errorf("got %+v, want %+v", got, f.RingState)
	}
	r = do(t, New(NewFake(), nil), "GET", "/admin/ring", "")
	if r.status != http.StatusNotFound {
		t.Errorf("no ring: status %d, want 404", r.status)
	}
}

func TestStageAndStaged(t *testing.T) {
	f := fixture()
	h := New(f, nil)
	if r := do(t, h, "GET", "/admin/cluster/staged", ""); r.status != http.StatusOK || string(r.body) != "[]\n" {
		t.Fatalf("nothing staged: status %d, body %s; want 200 []", r.status, r.body)
	}
	for _, body := range []string{
		`{"kind":"join","node":"n4"}`,
		`{"kind":"leave","node":"n2"}`,
	} {
		if r := do(t, h, "POST", "/admin/cluster/stage", body); r.status != http.StatusNoContent {
			t.Fatalf("stage %s: status %d: %s", body, r.status, r.body)
		}
	}
	r := do(t, h, "GET", "/admin/cluster/staged", "")
	want := []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}, {Kind: meta.ChangeLeave, Node: "n2"}}
	if got := decodeAs[[]meta.Change](t, r.body); !reflect.DeepEqual(got, want) {
		t.Errorf("staged %+v, want %+v", got, want)
	}
}

func TestStageErrors(t *testing.T) {
	for _, tc := range []struct {
		body   string
		status int
		calls  bool // whether the request reaches the Cluster
	}{
		{`{"kind":"join","node":"n9"}`, http.StatusNotFound, true},
		{`{"kind":"join","node":"n1"}`, http.StatusBadRequest, true},
		{`{"kind":"replace","node":"n1","target":"n9"}`, http.StatusNotFound, true},
		{`{"kind":"rejoin","node":"n4"}`, http.StatusBadRequest, false},
		{`{"kind":"join"}`, http.StatusBadRequest, false},
		{`{"kind":"join","node":"n4","target":"n5"}`, http.StatusBadRequest, false},
		{`{"kind":"replace","node":"n1"}`, http.StatusBadRequest, false},
		{`{"kind":"force-replace","node":"n1","target":"n1"}`, http.StatusBadRequest, false},
		{`{"kind":"join","node":"n4","force":true}`, http.StatusBadRequest, false},
		{`{"kind":"join","node":"n4"} {}`, http.StatusBadRequest, false},
		{`{"kind":"join","node":`, http.StatusBadRequest, false},
		{`["join","n4"]`, http.StatusBadRequest, false},
		{``, http.StatusBadRequest, false},
	} {
		t.Run(tc.body, func(t *testing.T) {
			f := fixture()
			r := do(t, New(f, nil), "POST", "/admin/cluster/stage", tc.body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			msg := errorMessage(t, r)
			if called := len(f.Calls) > 0; called != tc.calls {
				t.Errorf("Cluster called: %v, want %v (%v); message %q", called, tc.calls, f.Calls, msg)
			}
			if len(f.StagedChanges) != 0 {
				t.Errorf("a rejected change was staged: %+v", f.StagedChanges)
			}
		})
	}
}

func TestPlanCommitClear(t *testing.T) {
	f := fixture()
	h := New(f, nil)
	if r := do(t, h, "GET", "/admin/cluster/plan", ""); r.status != http.StatusConflict {
		t.Errorf("plan with nothing staged: status %d, want 409", r.status)
	}
	if r := do(t, h, "POST", "/admin/cluster/commit", ""); r.status != http.StatusConflict {
		t.Errorf("commit with nothing staged: status %d, want 409", r.status)
	}
	f.StagedChanges = []meta.Change{{Kind: meta.ChangeJoin, Node: "n4"}}
	plan := &meta.Plan{Epoch: 5, Changes: f.StagedChanges,
		Nodes: []meta.NodePlan{
			{ID: "n1", State: meta.Valid, RingPct: 37.5, NextPct: 25, PendingPct: 12.5, Partitions: 3, Next: 2},
			{ID: "n4", State: meta.Valid, NextPct: 25, PendingPct: 25, Next: 2},
		},
		Transfers: []meta.PairTransfers{{From: "n1", To: "n4", Partitions: 1}},
		Next:      []string{"n4", "n2", "n3", "n1", "n2", "n3", "n1", "n2"},
		Warnings:  []string{"n3 is down"},
	}
	f.PlanResult = plan
	r := do(t, h, "GET", "/admin/cluster/plan", "")
	if r.status != http.StatusOK {
		t.Fatalf("plan: status %d: %s", r.status, r.body)
	}
	if got := decodeAs[meta.Plan](t, r.body); !reflect.DeepEqual(&got, plan) {
		t.Errorf("plan\n got %+v\nwant %+v", got, plan)
	}
	r = do(t, h, "POST", "/admin/cluster/commit", "")
	if r.status != http.StatusOK {
		t.Fatalf("commit: status %d: %s", r.status, r.body)
	}
	if got := decodeAs[meta.Plan](t, r.body); !reflect.DeepEqual(&got, plan) {
		t.Errorf("committed plan\n got %+v\nwant %+v", got, plan)
	}
	if len(f.StagedChanges) != 0 || f.RingState.Epoch != 6 {
		t.Errorf("after commit: staged %v, epoch %d; want none and 6", f.StagedChanges, f.RingState.Epoch)
	}

	f.StagedChanges = []meta.Change{{Kind: meta.ChangeLeave, Node: "n3"}}
	if r := do(t, h, "POST", "/admin/cluster/clear", ""); r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Errorf("clear: status %d, body %q; want 204", r.status, r.body)
	}
	if len(f.StagedChanges) != 0 {
		t.Errorf("after clear: staged %v", f.StagedChanges)
	}
}

func TestTypes(t *testing.T) {
	f := NewFake()
	h := New(f, nil)

	r := do(t, h, "PUT", "/admin/types/maps", `{"props":{"n_val":5,"allow_mult":false}}`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: status %d: %s", r.status, r.body)
	}
	if loc := r.header.Get("Location"); loc != "/admin/types/maps" {
		t.Errorf("Location %q", loc)
	}
	want := meta.BucketType{Name: "maps", Props: node.DefaultProps()}
	want.Props.NVal, want.Props.AllowMult = 5, false
	if got := decodeAs[meta.BucketType](t, r.body); !reflect.DeepEqual(got, want) {
		t.Errorf("created %+v, want %+v", got, want)
	}

	// Props are optional on create.
	if r := do(t, h, "PUT", "/admin/types/plain", ""); r.status != http.StatusCreated {
		t.Errorf("create without body: status %d: %s", r.status, r.body)
	}
	if r := do(t, h, "PUT", "/admin/types/plain2", `{}`); r.status != http.StatusCreated {
		t.Errorf("create with {}: status %d: %s", r.status, r.body)
	}

	r = do(t, h, "POST", "/admin/types/maps/activate", "")
	want.Active = true
	if got := decodeAs[meta.BucketType](t, r.body); r.status != http.StatusOK || !reflect.DeepEqual(got, want) {
		t.Errorf("activate: status %d, %+v; want 200 %+v", r.status, got, want)
	}

	r = do(t, h, "PATCH", "/admin/types/maps", `{"props":{"r":"one"}}`)
	want.Props.R = node.QuorumOne
	if got := decodeAs[meta.BucketType](t, r.body); r.status != http.StatusOK || !reflect.DeepEqual(got, want) {
		t.Errorf("update: status %d, %+v; want 200 %+v", r.status, got, want)
	}

	r = do(t, h, "GET", "/admin/types/maps", "")
	if got := decodeAs[meta.BucketType](t, r.body); r.status != http.StatusOK || !reflect.DeepEqual(got, want) {
		t.Errorf("get: status %d, %+v; want 200 %+v", r.status, got, want)
	}

	r = do(t, h, "GET", "/admin/types", "")
	var names []string
	for _, bt := range decodeAs[[]meta.BucketType](t, r.body) {
		names = append(names, fmt.Sprintf("%s:%v", bt.Name, bt.Active))
	}
	if got := strings.Join(names, " "); got != "default:true maps:true plain:false plain2:false" {
		t.Errorf("list: %s", got)
	}
}

func TestTypeErrors(t *testing.T) {
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/admin/types/nope", "", http.StatusNotFound},
		{"POST", "/admin/types/nope/activate", "", http.StatusNotFound},
		{"PATCH", "/admin/types/nope", `{"props":{"n_val":2}}`, http.StatusNotFound},
		{"PUT", "/admin/types/default", "", http.StatusConflict},
		{"PUT", "/admin/types/t", `{"props":{"n_val":0}}`, http.StatusBadRequest},
		{"PUT", "/admin/types/t", `{"props":{"colour":"red"}}`, http.StatusBadRequest},
		{"PUT", "/admin/types/t", `{"props":[1]}`, http.StatusBadRequest},
		{"PUT", "/admin/types/t", `{"props":"n_val=3"}`, http.StatusBadRequest},
		{"PUT", "/admin/types/t", `{"n_val":3}`, http.StatusBadRequest},
		{"PUT", "/admin/types/t", `{"props":{}`, http.StatusBadRequest},
		{"PATCH", "/admin/types/default", ``, http.StatusBadRequest},
		{"PATCH", "/admin/types/default", `{}`, http.StatusBadRequest},
		{"PATCH", "/admin/types/default", `{"props":null}`, http.StatusBadRequest},
		{"PATCH", "/admin/types/default", `{"props":{"consistent":true}}`, http.StatusBadRequest},
		{"PATCH", "/admin/types/default", `{"props":{"r":"most"}}`, http.StatusBadRequest},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			f := NewFake()
			r := do(t, New(f, nil), tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			errorMessage(t, r)
			if r.header.Get("Location") != "" {
				t.Errorf("an error carries Location %q", r.header.Get("Location"))
			}
			if len(f.BucketTypes) != 1 || f.BucketTypes["default"].Props != node.DefaultProps() {
				t.Errorf("a failed request changed the types: %+v", f.BucketTypes)
			}
		})
	}
}

// requests holds one well-formed request per endpoint that calls the
// Cluster.
var requests = []struct{ method, path, body string }{
	{"GET", "/admin/raft", ""},
	{"POST", "/admin/raft/remove-peer", `{"id":"n2"}`},
	{"GET", "/admin/cluster", ""},
	{"GET", "/admin/ring", ""},
	{"GET", "/admin/cluster/staged", ""},
	{"POST", "/admin/cluster/stage", `{"kind":"join","node":"n4"}`},
	{"GET", "/admin/cluster/plan", ""},
	{"POST", "/admin/cluster/commit", ""},
	{"POST", "/admin/cluster/clear", ""},
	{"GET", "/admin/types", ""},
	{"GET", "/admin/types/default", ""},
	{"PUT", "/admin/types/maps", `{"props":{"n_val":1}}`},
	{"POST", "/admin/types/default/activate", ""},
	{"PATCH", "/admin/types/default", `{"props":{"n_val":1}}`},
}

// TestErrorStatus checks every error mapping on every endpoint: the
// Cluster's error reaches the client with its status and message.
func TestErrorStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{node.ErrBadProps, http.StatusBadRequest},
		{node.ErrBadRequest, http.StatusBadRequest},
		{meta.ErrBadChange, http.StatusBadRequest},
		{meta.ErrBadCommand, http.StatusBadRequest},
		{meta.ErrUnknownMember, http.StatusNotFound},
		{node.ErrUnknownBucketType, http.StatusNotFound},
		{meta.ErrTypeNotActive, http.StatusNotFound},
		{meta.ErrNoRing, http.StatusNotFound},
		{node.ErrNotFound, http.StatusNotFound},
		{meta.ErrTypeExists, http.StatusConflict},
		{meta.ErrStaleEpoch, http.StatusConflict},
		{meta.ErrNothingStaged, http.StatusConflict},
		{meta.ErrConflict, http.StatusConflict},
		{node.ErrUnavailable, http.StatusServiceUnavailable},
		{meta.ErrNoQuorum, http.StatusServiceUnavailable},
		{meta.ErrNotLeader, http.StatusServiceUnavailable},
		{fmt.Errorf("group: commit: %w", meta.ErrNoQuorum), http.StatusServiceUnavailable},
		{node.ErrClosed, http.StatusServiceUnavailable},
		{context.DeadlineExceeded, http.StatusServiceUnavailable},
		{context.Canceled, http.StatusServiceUnavailable},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		for _, req := range requests {
			t.Run(fmt.Sprintf("%v/%s %s", tc.err, req.method, req.path), func(t *testing.T) {
				f := fixture()
				f.StagedChanges = []meta.Change{{Kind: meta.ChangeLeave, Node: "n3"}}
				f.FailNext(tc.err)
				r := do(t, New(f, nil), req.method, req.path, req.body)
				if r.status != tc.status {
					t.Errorf("status %d, want %d (%s)", r.status, tc.status, r.body)
				}
				if msg := errorMessage(t, r); !strings.Contains(msg, tc.err.Error()) {
					t.Errorf("message %q does not say %q", msg, tc.err)
				}
			})
		}
	}
}

// TestClusterStatusLaterErrors fails the second and third Cluster calls
// of GET /admin/cluster.
func TestClusterStatusLaterErrors(t *testing.T) {
	for _, failing := range []int{1, 2} {
		f := fixture()
		f.FailNext(nil)
		if failing == 2 {
			f.FailNext(nil)
		}
		f.FailNext(meta.ErrNoQuorum)
		r := do(t, New(f, nil), "GET", "/admin/cluster", "")
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("call %d failing: status %d, want 503 (%s)", failing, r.status, r.body)
		}
	}
}

func TestInternalErrorIsLogged(t *testing.T) {
	var logs bytes.Buffer
	f := fixture()
	f.FailNext(errors.New("disk on fire"))
	r := do(t, New(f, slog.New(slog.NewTextHandler(&logs, nil))), "GET", "/admin/ring", "")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d", r.status)
	}
	if !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), "/admin/ring") {
		t.Errorf("log does not name the error and path: %s", logs.String())
	}
}

func TestDeadlineMessage(t *testing.T) {
	f := fixture()
	f.FailNext(fmt.Errorf("raft apply: %w", context.DeadlineExceeded))
	r := do(t, New(f, nil), "POST", "/admin/cluster/clear", "")
	if msg := errorMessage(t, r); r.status != http.StatusServiceUnavailable || !strings.HasPrefix(msg, "timeout: ") {
		t.Errorf("status %d, message %q; want 503 timeout: …", r.status, msg)
	}
}

// panicky panics in RaftStatus, as a buggy Cluster might.
type panicky struct{ *Fake }

func (panicky) RaftStatus(context.Context) (meta.RaftStatus, error) { panic("boom") }

func TestPanicAnswers500(t *testing.T) {
	var logs bytes.Buffer
	r := do(t, New(panicky{fixture()}, slog.New(slog.NewTextHandler(&logs, nil))), "GET", "/admin/raft", "")
	if r.status != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", r.status)
	}
	errorMessage(t, r)
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %s", logs.String())
	}
}

func TestMalformedBodies(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"syntax", "POST", "/admin/raft/remove-peer", `{"id":`, http.StatusBadRequest},
		{"unknown field", "POST", "/admin/raft/remove-peer", `{"id":"n2","force":true}`, http.StatusBadRequest},
		{"wrong type", "POST", "/admin/raft/remove-peer", `{"id":2}`, http.StatusBadRequest},
		{"trailing data", "POST", "/admin/raft/remove-peer", `{"id":"n2"}x`, http.StatusBadRequest},
		{"two values", "POST", "/admin/raft/remove-peer", `{"id":"n2"}{"id":"n3"}`, http.StatusBadRequest},
		{"empty", "POST", "/admin/raft/remove-peer", ``, http.StatusBadRequest},
		{"unknown field in type", "PUT", "/admin/types/t", `{"props":{},"name":"t"}`, http.StatusBadRequest},
		{"too large", "PUT", "/admin/types/t",
			`{"props":{"n_val":3` + strings.Repeat(" ", MaxBodySize) + `}}`, http.StatusRequestEntityTooLarge},
		{"too large after the value", "POST", "/admin/raft/remove-peer",
			`{"id":"n2"}` + strings.Repeat(" ", MaxBodySize), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := fixture()
			r := do(t, New(f, nil), tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Errorf("status %d, want %d (%s)", r.status, tc.status, r.body)
			}
			errorMessage(t, r)
			if len(f.Calls) != 0 {
				t.Errorf("a malformed request reached the Cluster: %v", f.Calls)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	for _, tc := range []struct{ method, path, allow string }{
		{"POST", "/admin/raft", "GET, HEAD"},
		{"DELETE", "/admin/raft", "GET, HEAD"},
		{"GET", "/admin/raft/remove-peer", "POST"},
		{"PUT", "/admin/cluster", "GET, HEAD"},
		{"POST", "/admin/ring", "GET, HEAD"},
		{"POST", "/admin/cluster/staged", "GET, HEAD"},
		{"GET", "/admin/cluster/stage", "POST"},
		{"POST", "/admin/cluster/plan", "GET, HEAD"},
		{"GET", "/admin/cluster/commit", "POST"},
		{"DELETE", "/admin/cluster/clear", "POST"},
		{"POST", "/admin/types", "GET, HEAD"},
		{"DELETE", "/admin/types/maps", "GET, HEAD, PATCH, PUT"},
		{"POST", "/admin/types/maps", "GET, HEAD, PATCH, PUT"},
		{"GET", "/admin/types/maps/activate", "POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			f := fixture()
			r := do(t, New(f, nil), tc.method, tc.path, "")
			if r.status != http.StatusMethodNotAllowed {
				t.Errorf("status %d, want 405", r.status)
			}
			if got := r.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
			errorMessage(t, r)
			if len(f.Calls) != 0 {
				t.Errorf("Cluster called: %v", f.Calls)
			}
		})
	}
}

func TestUnknownPath(t *testing.T) {
	for _, path := range []string{"/admin", "/admin/", "/admin/nope", "/admin/types/a/b", "/admin/raft/x", "/buckets"} {
		r := do(t, New(fixture(), nil), "GET", path, "")
		if r.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, r.status)
		}
		errorMessage(t, r)
	}
}

func TestHead(t *testing.T) {
	r := do(t, New(fixture(), nil), "HEAD", "/admin/cluster", "")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD: status %d, Content-Type %q", r.status, r.header.Get("Content-Type"))
	}
}

func TestTypeNameEscaping(t *testing.T) {
	f := NewFake()
	h := New(f, nil)
	r := do(t, h, "PUT", "/admin/types/a%2Fb%20c", "")
	if r.status != http.StatusCreated {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if _, ok := f.BucketTypes["a/b c"]; !ok {
		t.Errorf("types %v, want a/b c", f.BucketTypes)
	}
	if loc := r.header.Get("Location"); loc != "/admin/types/a%2Fb%20c" {
		t.Errorf("Location %q", loc)
	}
	if r := do(t, h, "GET", "/admin/types/a%2Fb%20c", ""); r.status != http.StatusOK {
		t.Errorf("get: status %d", r.status)
	}
}

func TestSummarizeRing(t *testing.T) {
	if SummarizeRing(nil, nil) != nil {
		t.Error("nil ring: want nil summary")
	}
	r := &meta.RingState{Size: 4, Epoch: 2, TargetN: 2, Owners: []string{"a", "a", "a", "b"},
		Pending: []meta.Transfer{{Partition: 0, From: "a", To: "c"}, {Partition: 1, From: "a", To: "b"}}}
	got := SummarizeRing(r, []meta.Member{{ID: "d"}, {ID: "a"}})
	want := &RingSummary{Epoch: 2, Size: 4, TargetN: 2, Pending: 2, Owners: []OwnerSummary{
		{Node: "a", Partitions: 3, Pct: 75, Next: 1, NextPct: 25},
		{Node: "b", Partitions: 1, Pct: 25, Next: 2, NextPct: 50},
		{Node: "c", Next: 1, NextPct: 25},
		{Node: "d"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}
